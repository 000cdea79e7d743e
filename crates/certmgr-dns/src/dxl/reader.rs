//! Reading DXL, Domino's XML export: documents and their items.

use crate::error::DnsError;

/// The value of one DXL item, as the files carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemValue {
    /// `<text>` or `<textlist>`; `<break/>` inside a text is a newline.
    Text(Vec<String>),
    /// `<number>` or `<numberlist>`.
    Number(Vec<f64>),
    /// `<datetime>` or `<datetimelist>`, kept as DXL writes them.
    DateTime(Vec<String>),
    /// `<richtext>` as plain text, one line per paragraph.
    RichText(String),
}

impl ItemValue {
    /// The value as one text: list elements joined by newlines.
    pub fn joined(&self) -> String {
        match self {
            ItemValue::Text(t) | ItemValue::DateTime(t) => t.join("\n"),
            ItemValue::Number(n) => n
                .iter()
                .map(|v| format_number(*v))
                .collect::<Vec<_>>()
                .join("\n"),
            ItemValue::RichText(t) => t.clone(),
        }
    }
}

/// Numbers as Domino prints them: integers without a fraction.
pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// One item of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Item name as written.
    pub name: String,
    /// Its value.
    pub value: ItemValue,
    /// `seal='true'`: Domino encrypts it (a secret).
    pub sealed: bool,
}

/// One `<document>` of a DXL file.
#[derive(Debug, Clone, PartialEq)]
pub struct DxlDocument {
    /// The `form` attribute: `DnsProviderConfig`, `DnsProvider`, `AcmeAccount`, ...
    pub form: String,
    /// Items in file order.
    pub items: Vec<Item>,
}

impl DxlDocument {
    /// An item by name, case-insensitively (Notes item names are).
    pub fn item(&self, name: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    /// An item's value as one text; "" when absent.
    pub fn text(&self, name: &str) -> String {
        self.item(name)
            .map(|i| i.value.joined())
            .unwrap_or_default()
    }
}

/// Largest DXL file read (the community files are under 100 KiB).
const MAX_DXL: usize = 8 << 20;
/// Most XML nodes (elements, text, comments...) a DXL file may have; the
/// community files have a few hundred.
const MAX_NODES: u32 = 500_000;
/// Deepest element nesting a DXL file may have; Domino writes under 20 levels.
const MAX_DEPTH: usize = 64;

/// Refuses entity declarations before the XML parser sees them: Domino
/// exports name their DTD (`<!DOCTYPE database SYSTEM '...'>`) but never
/// declare entities, and internal entities that refer to each other expand
/// exponentially (a "billion laughs" file of a few hundred bytes expands to
/// gigabytes). The check is on the raw text, so it also catches a
/// declaration the parser would reach through odd spacing or comments.
fn refuse_entities(text: &str) -> Result<(), String> {
    match text.find("<!ENTITY") {
        None => Ok(()),
        Some(at) => {
            let line = text[..at].matches('\n').count() + 1;
            Err(format!(
                "line {line}: the file declares XML entities (<!ENTITY ...>), which Domino \
                 exports never do and which can expand to gigabytes; refused before parsing. \
                 Export the documents again from Domino or remove the declarations"
            ))
        }
    }
}

/// The deepest element nesting of a parsed document, in one pass (nodes
/// come in document order, so a parent's depth is known before its
/// children's).
fn depth_of(doc: &roxmltree::Document<'_>) -> usize {
    let mut depths = vec![0usize; doc.descendants().len()];
    let mut deepest = 0;
    for node in doc.descendants() {
        let parent = node
            .parent()
            .and_then(|p| depths.get(p.id().get_usize()).copied())
            .unwrap_or(0);
        let depth = parent + usize::from(node.is_element());
        if let Some(slot) = depths.get_mut(node.id().get_usize()) {
            *slot = depth;
        }
        deepest = deepest.max(depth);
    }
    deepest
}

/// Every `<document>` of a DXL export (a `<database>` with documents, or a
/// single `<document>`). `file` names the file in errors.
pub fn read_dxl(text: &str, file: &str) -> Result<Vec<DxlDocument>, DnsError> {
    let invalid = |location: String, message: String| DnsError::Invalid {
        file: file.to_string(),
        location,
        message,
    };
    if text.len() > MAX_DXL {
        return Err(invalid(
            "file".into(),
            format!(
                "{} bytes is larger than a DXL export of provider documents can be",
                text.len()
            ),
        ));
    }
    refuse_entities(text).map_err(|m| invalid("file".into(), m))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        let why = match e {
            roxmltree::Error::NodesLimitReached => format!(
                "more than {MAX_NODES} XML nodes, far more than provider documents have; \
                 export only the DNS provider and ACME documents"
            ),
            e => format!("not well-formed XML: {e}; export the documents again from Domino"),
        };
        invalid(format!("line {}, column {}", pos.row, pos.col), why)
    })?;
    if depth_of(&doc) > MAX_DEPTH {
        return Err(invalid(
            "file".into(),
            format!(
                "elements are nested more than {MAX_DEPTH} levels deep, which Domino exports \
                 never are; export the documents again from Domino"
            ),
        ));
    }
    let mut out = Vec::new();
    for (n, node) in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "document")
        .enumerate()
    {
        let form = node.attribute("form").unwrap_or("").to_string();
        let mut items = Vec::new();
        for item in node
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "item")
        {
            let name = item.attribute("name").unwrap_or("").to_string();
            if name.is_empty() {
                return Err(invalid(
                    format!("document {} (form {form:?})", n + 1),
                    "an item has no name".into(),
                ));
            }
            let value = item_value(item).map_err(|m| {
                invalid(
                    format!("document {} (form {form:?}) item {name:?}", n + 1),
                    m,
                )
            })?;
            items.push(Item {
                sealed: item.attribute("seal") == Some("true"),
                name,
                value,
            });
        }
        out.push(DxlDocument { form, items });
    }
    if out.is_empty() {
        return Err(invalid(
            "file".into(),
            "no <document> in it; export the provider documents (not the design) as DXL".into(),
        ));
    }
    Ok(out)
}

fn item_value(item: roxmltree::Node<'_, '_>) -> Result<ItemValue, String> {
    let Some(v) = item.children().find(|c| c.is_element()) else {
        return Ok(ItemValue::Text(vec![String::new()]));
    };
    let children = |tag: &str| -> Vec<roxmltree::Node<'_, '_>> {
        v.children()
            .filter(|c| c.is_element() && c.tag_name().name() == tag)
            .collect()
    };
    let number = |n: roxmltree::Node<'_, '_>| -> Result<f64, String> {
        let t = text_of(n);
        t.trim()
            .parse::<f64>()
            .map_err(|_| format!("{t:?} is not a number"))
    };
    Ok(match v.tag_name().name() {
        "text" => ItemValue::Text(vec![text_of(v)]),
        "textlist" => ItemValue::Text(children("text").into_iter().map(text_of).collect()),
        "number" => ItemValue::Number(vec![number(v)?]),
        "numberlist" => ItemValue::Number(
            children("number")
                .into_iter()
                .map(number)
                .collect::<Result<_, _>>()?,
        ),
        "datetime" => ItemValue::DateTime(vec![text_of(v)]),
        "datetimelist" => {
            ItemValue::DateTime(children("datetime").into_iter().map(text_of).collect())
        }
        "richtext" => ItemValue::RichText(rich_text(v)),
        other => {
            return Err(format!(
                "item type <{other}> is not supported (text, textlist, number, numberlist, datetime, richtext are)"
            ));
        }
    })
}

/// The text of a `<text>`: character data, `<break/>` as a newline.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    let mut s = String::new();
    for c in node.descendants().skip(1) {
        if c.is_text() {
            s.push_str(c.text().unwrap_or(""));
        } else if c.is_element() && c.tag_name().name() == "break" {
            s.push('\n');
        }
    }
    s
}

/// Rich text as plain text: one line per `<par>`, `<break/>` as a newline.
fn rich_text(node: roxmltree::Node<'_, '_>) -> String {
    let mut lines = Vec::new();
    for par in node
        .descendants()
        .filter(|c| c.is_element() && c.tag_name().name() == "par")
    {
        lines.push(text_of(par));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn items_of_every_kind() {
        let dxl = r#"<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE database SYSTEM 'xmlschemas/domino_11_0_1.dtd'>
<database xmlns='http://www.lotus.com/dxl' version='12.0'>
<document form='DnsProviderConfig'>
<item name='Body'><richtext><pardef id='1'/><par def='1'><run>First</run></par><par def='1'>Second</par></richtext></item>
<item name='cfg_DnsProviderDelay'><number>42</number></item>
<item name='Ports'><numberlist><number>1</number><number>2.5</number></numberlist></item>
<item name='AdminAccess' authors='true'><textlist><text>[Administrator]</text><text>LocalDomainAdmins</text></textlist></item>
<item name='ReqAddPostDataFormula'><text>X:=1;<break/>X + 1</text></item>
<item name='cfg_AuthToken' seal='true'><text>tok&amp;en</text></item>
<item name='Empty'><text/></item>
<item name='Stamp'><datetime>20210505T184701,85+00</datetime></item>
</document>
<document form='DnsProvider'><item name='RegisteredDomain'><text>pebble.lab</text></item></document>
</database>"#;
        let docs = read_dxl(dxl, "x.dxl").unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.form, "DnsProviderConfig");
        assert_eq!(d.text("body"), "First\nSecond");
        assert_eq!(
            d.item("CFG_DNSPROVIDERDELAY").unwrap().value,
            ItemValue::Number(vec![42.0])
        );
        assert_eq!(d.text("cfg_DnsProviderDelay"), "42");
        assert_eq!(
            d.item("Ports").unwrap().value,
            ItemValue::Number(vec![1.0, 2.5])
        );
        assert_eq!(
            d.item("AdminAccess").unwrap().value,
            ItemValue::Text(vec!["[Administrator]".into(), "LocalDomainAdmins".into()])
        );
        assert_eq!(d.text("ReqAddPostDataFormula"), "X:=1;\nX + 1");
        let tok = d.item("cfg_AuthToken").unwrap();
        assert!(tok.sealed);
        assert_eq!(tok.value, ItemValue::Text(vec!["tok&en".into()]));
        assert_eq!(d.text("Empty"), "");
        assert_eq!(d.text("Missing"), "");
        assert_eq!(d.text("Stamp"), "20210505T184701,85+00");
        assert_eq!(docs[1].text("RegisteredDomain"), "pebble.lab");
    }

    #[test]
    fn broken_files_are_explained() {
        let e = read_dxl("<database><document form='x'>", "bad.dxl")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("bad.dxl: line 1") && e.contains("not well-formed XML"),
            "{e}"
        );
        let e = read_dxl("<database/>", "empty.dxl")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no <document>"), "{e}");
        let e = read_dxl(
            "<document form='F'><item name='N'><number>x1</number></item></document>",
            "n.dxl",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("document 1 (form \"F\") item \"N\": \"x1\" is not a number"),
            "{e}"
        );
        let e = read_dxl(
            "<document form='F'><item name='N'><rawitemdata>AA==</rawitemdata></item></document>",
            "r.dxl",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("<rawitemdata> is not supported"), "{e}");
    }

    /// A "billion laughs" file: ten levels of ten references each expand
    /// `lol` to 10^10 copies (about 30 GB).
    fn billion_laughs() -> String {
        let mut dtd = String::from("<!ENTITY lol0 'lol'>\n");
        for i in 1..=10 {
            let refs = format!("&lol{};", i - 1).repeat(10);
            dtd.push_str(&format!("<!ENTITY lol{i} '{refs}'>\n"));
        }
        format!(
            "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE database SYSTEM 'xmlschemas/domino_11_0_1.dtd' [\n{dtd}]>\n\
             <database xmlns='http://www.lotus.com/dxl'><document form='DnsProviderConfig'>\
             <item name='DnsProviderConfigName'><text>&lol10;</text></item></document></database>"
        )
    }

    #[test]
    fn entity_declarations_are_refused_before_parsing() {
        let started = std::time::Instant::now();
        let e = read_dxl(&billion_laughs(), "laughs.dxl")
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            e.starts_with("laughs.dxl: file: line 3: the file declares XML entities")
                && e.contains("refused before parsing")
                && e.contains("Export the documents again from Domino"),
            "{e}"
        );
        // One harmless entity is refused too: Domino never declares any.
        let one = "<!DOCTYPE database [<!ENTITY x 'y'>]><database><document form='F'>\
                   <item name='N'><text>&x;</text></item></document></database>";
        let e = read_dxl(one, "one.dxl").unwrap_err().to_string();
        assert!(e.contains("declares XML entities"), "{e}");
        // A parameter entity (declared through `<!ENTITY %`) as well.
        let param = "<!DOCTYPE database [<!ENTITY % p 'x'>]><database/>";
        let e = read_dxl(param, "p.dxl").unwrap_err().to_string();
        assert!(e.contains("declares XML entities"), "{e}");
    }

    #[test]
    fn a_domino_doctype_without_entities_is_accepted() {
        let dxl = "<?xml version='1.0'?>\n<!DOCTYPE database SYSTEM 'xmlschemas/domino_12_0_0.dtd'>\n\
                   <database xmlns='http://www.lotus.com/dxl'><document form='F'>\
                   <item name='N'><text>a &amp; b &#10; &lt;c&gt;</text></item></document></database>";
        let docs = read_dxl(dxl, "ok.dxl").unwrap();
        assert_eq!(docs[0].text("N"), "a & b \n <c>");
    }

    #[test]
    fn too_many_nodes_and_deep_nesting_are_refused() {
        let many = format!(
            "<database><document form='F'>{}</document></database>",
            "<x/>".repeat(MAX_NODES as usize + 10)
        );
        let started = std::time::Instant::now();
        let e = read_dxl(&many, "many.dxl").unwrap_err().to_string();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(e.contains("more than 500000 XML nodes"), "{e}");

        let deep = format!(
            "<database><document form='F'><item name='Body'><richtext>{}{}</richtext></item></document></database>",
            "<par>".repeat(100_000),
            "</par>".repeat(100_000)
        );
        let started = std::time::Instant::now();
        let e = read_dxl(&deep, "deep.dxl").unwrap_err().to_string();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(e.contains("nested more than 64 levels"), "{e}");
    }

    #[test]
    fn files_over_the_size_limit_are_refused_unread() {
        let big = format!("<database>{}</database>", " ".repeat(MAX_DXL));
        let e = read_dxl(&big, "big.dxl").unwrap_err().to_string();
        assert!(e.contains("larger than a DXL export"), "{e}");
    }
}
