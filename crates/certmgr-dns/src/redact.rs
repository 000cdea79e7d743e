//! Replacing secret parameter values in anything that leaves the engine.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters `urlencode` escapes: everything but unreserved (RFC 3986).
pub(crate) const URL_ESCAPE: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Replaces every secret value (raw, percent-encoded, JSON-escaped, base64)
/// with `<redacted:NAME>`.
#[derive(Default, Clone)]
pub(crate) struct Redactor {
    /// (needle, replacement), longest needles first.
    needles: Vec<(zeroize::Zeroizing<String>, String)>,
}

impl Redactor {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Redactor {
        use base64::Engine as _;
        let mut needles = Vec::new();
        for (name, value) in secrets {
            if value.is_empty() {
                continue;
            }
            let tag = format!("<redacted:{name}>");
            let json = serde_json::to_string(value).unwrap_or_default();
            let json_inner = json
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(value)
                .to_string();
            let forms = [
                value.to_string(),
                utf8_percent_encode(value, URL_ESCAPE).to_string(),
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>(),
                json_inner,
                base64::engine::general_purpose::STANDARD.encode(value),
            ];
            for f in forms {
                if !f.is_empty()
                    && !needles
                        .iter()
                        .any(|(n, _): &(zeroize::Zeroizing<String>, String)| n.as_str() == f)
                {
                    needles.push((zeroize::Zeroizing::new(f), tag.clone()));
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
        Redactor { needles }
    }

    /// Adds a secret learnt at run time (an access token).
    pub(crate) fn add(&mut self, name: &str, value: &str) {
        let mut more = Redactor::new([(name, value)]);
        self.needles.append(&mut more.needles);
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    }

    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (needle, tag) in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), tag);
            }
        }
        out
    }

    /// Redacted, newlines collapsed, at most `max` characters.
    pub(crate) fn excerpt(&self, text: &str, max: usize) -> String {
        let red = self.apply(text);
        let one: String = red
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let one = one.trim();
        if one.is_empty() {
            return "(empty body)".to_string();
        }
        if one.chars().count() > max {
            let cut: String = one.chars().take(max).collect();
            format!("{cut}…")
        } else {
            one.to_string()
        }
    }
}
