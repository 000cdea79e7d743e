//! A provider's answer as the engine reads it: status, headers, text, and a
//! JSON document (the JSON body, or an XML body converted to JSON so that
//! captures use JSONPath either way).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Longest answer body the engine reads: 4 MiB (DNS API answers are kilobytes).
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// Deepest XML element nesting converted to JSON (real answers nest a few
/// levels; JSON parsing stops at 128).
pub(crate) const MAX_XML_DEPTH: usize = 100;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub text: String,
    /// `None` when the body is neither JSON nor XML.
    pub doc: Option<Value>,
    /// Why an XML body gave no document (nested too deep), for errors.
    pub doc_error: Option<String>,
    /// Requests it took (retries included).
    pub attempts: u32,
}

impl Answer {
    pub(crate) fn new(
        status: u16,
        headers: BTreeMap<String, String>,
        text: String,
        attempts: u32,
    ) -> Answer {
        let (doc, doc_error) = match parse_document(&text) {
            Ok(doc) => (doc, None),
            Err(e) => (None, Some(e)),
        };
        Answer {
            status,
            headers,
            text,
            doc,
            doc_error,
            attempts,
        }
    }

    /// The `response` variable of `success_when` / `repeat_until`.
    pub(crate) fn template_value(&self) -> minijinja::Value {
        minijinja::context! {
            status => self.status,
            body => &self.text,
            json => self.doc.as_ref().map(|d| minijinja::Value::from(minijinja::value::Serde(d))),
            headers => &self.headers,
        }
    }
}

/// JSON when the body parses as JSON, else XML converted, else `None`;
/// an error when the body is XML nested deeper than [`MAX_XML_DEPTH`].
pub(crate) fn parse_document(text: &str) -> Result<Option<Value>, String> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(Some(v));
    }
    if text.trim_start().starts_with('<') {
        return xml_to_json(text);
    }
    Ok(None)
}

/// `{"Root": element}`; see `providers/README.md` for the element rule.
/// `Ok(None)` when the text is not XML.
pub(crate) fn xml_to_json(text: &str) -> Result<Option<Value>, String> {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return Ok(None);
    };
    let root = doc.root_element();
    // Depth first, without recursion: the conversion below recurses once
    // per level, so it only runs on documents of bounded depth.
    let mut stack = vec![(root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_XML_DEPTH {
            return Err(format!(
                "the XML answer nests elements deeper than {MAX_XML_DEPTH} levels; it is not a DNS API answer"
            ));
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    let mut top = Map::new();
    top.insert(root.tag_name().name().to_string(), element(root));
    Ok(Some(Value::Object(top)))
}

fn element(node: roxmltree::Node<'_, '_>) -> Value {
    let children: Vec<_> = node.children().filter(|c| c.is_element()).collect();
    let attributes: Vec<_> = node.attributes().collect();
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect();
    if children.is_empty() && attributes.is_empty() {
        return Value::String(text);
    }
    let mut map = Map::new();
    for a in attributes {
        map.insert(
            format!("@{}", a.name()),
            Value::String(a.value().to_string()),
        );
    }
    for c in children {
        let entry = map
            .entry(c.tag_name().name().to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(element(c));
        }
    }
    if !text.trim().is_empty() {
        map.insert("#text".into(), Value::String(text.trim().to_string()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    /// Namespace declarations are not attributes; prefixes are dropped.
    fn xml_elements_become_lists_text_and_attributes() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <HostedZones>
    <HostedZone><Id>/hostedzone/Z1</Id><Name>example.com.</Name></HostedZone>
  </HostedZones>
  <IsTruncated>false</IsTruncated>
  <host HostId="1" Name="@" Type="A"/>
</ListHostedZonesByNameResponse>"#;
        let v = xml_to_json(xml).unwrap().unwrap();
        assert_eq!(
            v,
            json!({"ListHostedZonesByNameResponse": {
                "HostedZones": [{"HostedZone": [{"Id": ["/hostedzone/Z1"], "Name": ["example.com."]}]}],
                "IsTruncated": ["false"],
                "host": [{"@HostId": "1", "@Name": "@", "@Type": "A"}]
            }})
        );
    }

    #[test]
    fn json_first_then_xml_then_nothing() {
        assert_eq!(parse_document("{\"a\":1}"), Ok(Some(json!({"a": 1}))));
        assert_eq!(parse_document("<a>x</a>"), Ok(Some(json!({"a": "x"}))));
        assert_eq!(parse_document("good 1.2.3.4"), Ok(None));
        assert_eq!(parse_document("<unclosed"), Ok(None));
    }

    #[test]
    /// 100,000 nested elements: refused with a message, no stack overflow.
    fn deeply_nested_xml_is_refused_without_recursing() {
        let n = 100_000;
        let xml = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        let e = parse_document(&xml).unwrap_err();
        assert!(e.contains("deeper than 100 levels"), "{e}");
        let ok = format!("{}x{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse_document(&ok).unwrap().is_some());
    }
}
