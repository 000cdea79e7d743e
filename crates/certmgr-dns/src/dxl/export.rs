//! Writing a configuration back as DXL that Domino imports.

use super::provider::DxlDefinition;
use super::reader::{ItemValue, format_number};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<break/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The configuration as a DXL `<database>` with one `DnsProviderConfig`
/// document: every item of the imported document, in its order.
pub fn export_dxl(def: &DxlDefinition) -> String {
    let mut out = String::from(
        "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE database SYSTEM 'xmlschemas/domino_12_0_0.dtd'>\n<database xmlns='http://www.lotus.com/dxl' version='12.0'>\n",
    );
    out.push_str(&format!(
        "<document form='{}'>\n",
        escape(&def.document.form)
    ));
    for item in &def.document.items {
        let seal = if item.sealed { " seal='true'" } else { "" };
        out.push_str(&format!("<item name='{}'{seal}>", escape(&item.name)));
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
