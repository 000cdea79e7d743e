//! A provider's answer as the engine reads it: status, headers, text, and a
//! JSON document (the JSON body, or an XML body converted to JSON so that
//! captures use JSONPath either way).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub text: String,
    /// `None` when the body is neither JSON nor XML.
    pub doc: Option<Value>,
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
        let doc = parse_document(&text);
        Answer {
            status,
            headers,
            text,
            doc,
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

/// JSON when the body parses as JSON, else XML converted, else `None`.
pub(crate) fn parse_document(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    if text.trim_start().starts_with('<') {
        return xml_to_json(text);
    }
    None
}

/// `{"Root": element}`; see `providers/README.md` for the element rule.
pub(crate) fn xml_to_json(text: &str) -> Option<Value> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    let mut top = Map::new();
    top.insert(root.tag_name().name().to_string(), element(root));
    Some(Value::Object(top))
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
        let v = xml_to_json(xml).unwrap();
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
        assert_eq!(parse_document("{\"a\":1}"), Some(json!({"a": 1})));
        assert_eq!(parse_document("<a>x</a>"), Some(json!({"a": "x"})));
        assert_eq!(parse_document("good 1.2.3.4"), None);
        assert_eq!(parse_document("<unclosed"), None);
    }
}
