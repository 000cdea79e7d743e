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

pub use certmgr_engine::clock::timestamp;

/// Whole days from now until `unix` (negative once past).
pub fn days_until(unix: i64) -> i64 {
    use certmgr_engine::Clock;
    certmgr_engine::view::days_until(unix, certmgr_engine::SystemClock.unix())
}

pub use certmgr_core::text::{printable, printable_lines};
