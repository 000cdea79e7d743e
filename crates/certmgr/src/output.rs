//! Printing results as text tables or JSON.

use std::io::Write;

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Print a value as pretty JSON on stdout, through one buffered write.
pub fn print_json<T: Serialize>(value: &T) -> CliResult<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// Print rows as a left-aligned table with a header (buffered: one write
/// per 64 KiB, not one per line).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> CliResult<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut line = String::new();
    let mut write_line = |cells: &mut dyn Iterator<Item = &str>| {
        line.clear();
        for (i, (cell, width)) in cells.zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 < widths.len() {
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_line(&mut header.iter().copied()).map_err(stdout_error)?;
    for row in rows {
        write_line(&mut row.iter().map(String::as_str)).map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)
}

/// A failed write to stdout. A closed pipe (`certmgr cred list | head`) is
/// the reader's choice, not an error: the process ends quietly, as `cat` does.
fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    CliError::failed(format!("cannot write to standard output: {e}"))
}

/// Format Unix seconds as an RFC 3339 UTC timestamp.
pub fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Whole days from now until `unix` (negative once past).
pub fn days_until(unix: i64) -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (unix - now).div_euclid(86_400)
}

/// Whether `c` must not reach a terminal as it is: C0 and C1 controls
/// (ESC starts escape sequences), DEL, and the invisible marks and
/// overrides that reorder text (bidi controls).
fn unsafe_char(c: char, keep_newlines: bool) -> bool {
    (c.is_control() && !(keep_newlines && matches!(c, '\n' | '\t')))
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Whether `s` holds a character [`printable`] would escape (newlines and
/// tabs included).
pub fn has_controls(s: &str) -> bool {
    s.chars().any(|c| unsafe_char(c, false))
}

/// `s` safe to print on one line: control characters (ESC, other C0/C1
/// controls, DEL, newlines) and bidi overrides shown as visible escapes
/// such as `\u{1b}`, so that text from an imported file cannot drive the
/// terminal or forge output lines.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(s, false)
}

/// Like [`printable`], but keeps newlines and tabs (for multi-line notes).
pub fn printable_lines(s: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(s, true)
}

fn escape_unsafe(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c, keep_newlines)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c, keep_newlines) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod printable_tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(printable("Cloudflare"), "Cloudflare");
        assert!(matches!(printable("ok"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(printable("x\u{9b}2Jy"), "x\\u{9b}2Jy");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("two\nlines\r"), "two\\u{a}lines\\u{d}");
        assert_eq!(printable_lines("two\nlines\u{7}"), "two\nlines\\u{7}");
        assert!(has_controls("a\u{1b}") && has_controls("a\n") && !has_controls("é"));
    }
}
