//! Text from outside (imported files, provider definitions, CA answers)
//! made safe to show on a terminal or in a page: control characters and
//! bidi overrides become visible escapes.

use std::borrow::Cow;

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
pub fn printable(s: &str) -> Cow<'_, str> {
    escape_unsafe(s, false)
}

/// Like [`printable`], but keeps newlines and tabs (for multi-line notes).
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape_unsafe(s, true)
}

fn escape_unsafe(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c, keep_newlines) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(printable("Cloudflare"), "Cloudflare");
        assert!(matches!(printable("ok"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(printable("x\u{9b}2Jy"), "x\\u{9b}2Jy");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("two\nlines\r"), "two\\u{a}lines\\u{d}");
        assert_eq!(printable_lines("two\nlines\u{7}"), "two\nlines\\u{7}");
        assert!(has_controls("a\u{1b}") && has_controls("a\n") && !has_controls("é"));
    }
}
