//! Writing a configuration back as DXL that Domino imports.

use super::provider::DxlDefinition;
use super::reader::{DxlDocument, ItemValue, format_number};

/// Whether XML 1.0 can carry `c` at all (even as a character reference).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Character data of a `<text>`: markup escaped, a newline as Domino's
/// `<break/>` (a carriage return before it is dropped, as Domino does).
fn escape(s: &str) -> String {
    escape_with(s, "<break/>", "")
}

/// An attribute value (between quotes): markup escaped, and newlines, tabs
/// and carriage returns as character references, which XML keeps (a literal
/// one would be read back as a space; markup would not parse at all).
fn escape_attr(s: &str) -> String {
    escape_with(s, "&#10;", "&#13;")
}

/// Markup and tabs escaped, newlines and carriage returns as given, and
/// characters XML cannot carry replaced.
fn escape_with(s: &str, newline: &str, carriage_return: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str(newline),
            '\r' => out.push_str(carriage_return),
            '\t' => out.push_str("&#9;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The configuration as a DXL `<database>` with one `DnsProviderConfig`
/// document: every item of the imported document, in its order.
pub fn export_dxl(def: &DxlDefinition) -> String {
    write_document(&def.document)
}

/// One document as a DXL `<database>`.
fn write_document(document: &DxlDocument) -> String {
    let mut out = String::from(
        "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE database SYSTEM 'xmlschemas/domino_12_0_0.dtd'>\n<database xmlns='http://www.lotus.com/dxl' version='12.0'>\n",
    );
    out.push_str(&format!(
        "<document form='{}'>\n",
        escape_attr(&document.form)
    ));
    for item in &document.items {
        let seal = if item.sealed { " seal='true'" } else { "" };
        out.push_str(&format!("<item name='{}'{seal}>", escape_attr(&item.name)));
        match &item.value {
            ItemValue::Text(t) if t.len() == 1 => {
                out.push_str(&format!("<text>{}</text>", escape(&t[0])));
            }
            ItemValue::Text(t) => {
                out.push_str("<textlist>");
                for e in t {
                    out.push_str(&format!("<text>{}</text>", escape(e)));
                }
                out.push_str("</textlist>");
            }
            ItemValue::Number(n) if n.len() == 1 => {
                out.push_str(&format!("<number>{}</number>", format_number(n[0])));
            }
            ItemValue::Number(n) => {
                out.push_str("<numberlist>");
                for e in n {
                    out.push_str(&format!("<number>{}</number>", format_number(*e)));
                }
                out.push_str("</numberlist>");
            }
            ItemValue::DateTime(d) if d.len() == 1 => {
                out.push_str(&format!("<datetime>{}</datetime>", escape(&d[0])));
            }
            ItemValue::DateTime(d) => {
                out.push_str("<datetimelist>");
                for e in d {
                    out.push_str(&format!("<datetime>{}</datetime>", escape(e)));
                }
                out.push_str("</datetimelist>");
            }
            ItemValue::RichText(t) => {
                out.push_str("<richtext><pardef id='1'/>");
                for line in t.split('\n') {
                    out.push_str(&format!("<par def='1'>{}</par>", escape(line)));
                }
                out.push_str("</richtext>");
            }
        }
        out.push_str("</item>\n");
    }
    out.push_str("</document>\n</database>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dxl::reader::{Item, read_dxl};

    #[test]
    fn attributes_and_texts_with_newlines_quotes_and_markup_round_trip() {
        let tricky = "line 1\nline 2 \"quoted\" 'single' <tag> & &amp; \ttab";
        let original = DxlDocument {
            form: "Dns\nProvider 'Config' <x> & \"y\"".into(),
            items: vec![
                Item {
                    name: "Notes\nwith <markup> & 'quotes' \"too\"\r\n".into(),
                    value: ItemValue::Text(vec![tricky.into()]),
                    sealed: false,
                },
                Item {
                    name: "cfg_Secret".into(),
                    value: ItemValue::Text(vec![tricky.into(), "second\n<&>".into()]),
                    sealed: true,
                },
                Item {
                    name: "Body".into(),
                    value: ItemValue::RichText("first <par> & \"x\"\nsecond 'y'".into()),
                    sealed: false,
                },
                Item {
                    name: "Stamp".into(),
                    value: ItemValue::DateTime(vec!["20210505T184701,85+00".into()]),
                    sealed: false,
                },
                Item {
                    name: "N".into(),
                    value: ItemValue::Number(vec![1.0, 2.5]),
                    sealed: false,
                },
            ],
        };
        let out = write_document(&original);
        // No raw newline inside any tag (attributes escape theirs).
        for tag in out.split('<').skip(1) {
            let inside = tag.split('>').next().unwrap();
            assert!(!inside.contains('\n'), "raw newline in <{inside}>:\n{out}");
        }
        let back = read_dxl(&out, "round.dxl").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0], original, "{out}");
    }
}
