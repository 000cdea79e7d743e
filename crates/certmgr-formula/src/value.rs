//! Formula values, the `Fields` trait and the in-memory `FieldMap`.

use std::collections::BTreeMap;

/// A formula value: Notes values are lists; a scalar is a one-element list. Never empty.
///
/// The interpreter never produces an empty list; a caller-built empty list is
/// read as the empty text `""`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A text list.
    Text(Vec<String>),
    /// A number list.
    Number(Vec<f64>),
}

impl Value {
    /// A one-element text value.
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(vec![s.into()])
    }

    /// A one-element number value.
    pub fn number(n: f64) -> Value {
        Value::Number(vec![n])
    }

    /// A text list; an empty `list` gives `[""]` (Notes has no empty lists).
    pub fn texts(list: Vec<String>) -> Value {
        if list.is_empty() {
            Value::text("")
        } else {
            Value::Text(list)
        }
    }

    /// Elements as text (numbers formatted as Notes @Text does: 200 -> "200", 1.5 -> "1.5").
    pub fn to_texts(&self) -> Vec<String> {
        match self {
            Value::Text(list) if list.is_empty() => vec![String::new()],
            Value::Text(list) => list.clone(),
            Value::Number(list) if list.is_empty() => vec![String::new()],
            Value::Number(list) => list.iter().map(|n| format_number(*n)).collect(),
        }
    }

    /// The first element as text ("" for an empty text).
    pub fn first_text(&self) -> String {
        match self {
            Value::Text(list) => list.first().cloned().unwrap_or_default(),
            Value::Number(list) => list.first().map(|n| format_number(*n)).unwrap_or_default(),
        }
    }

    /// Notes truth: a number list whose first element is non-zero. Text -> false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Number(list) => list.first().is_some_and(|n| *n != 0.0),
            Value::Text(_) => false,
        }
    }

    /// The first element as a number if it is a Number (no text conversion).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(list) => list.first().copied(),
            Value::Text(_) => None,
        }
    }

    /// Number of elements (an empty list counts as one empty text).
    pub(crate) fn len(&self) -> usize {
        match self {
            Value::Text(list) => list.len().max(1),
            Value::Number(list) if list.is_empty() => 1,
            Value::Number(list) => list.len(),
        }
    }

    /// The value with the "never empty" invariant restored.
    pub(crate) fn normalized(self) -> Value {
        match self {
            Value::Text(list) if list.is_empty() => Value::text(""),
            Value::Number(list) if list.is_empty() => Value::text(""),
            other => other,
        }
    }

    /// 1 or 0.
    pub(crate) fn boolean(b: bool) -> Value {
        Value::number(if b { 1.0 } else { 0.0 })
    }
}

/// Formats a number the way Notes `@Text` does with the default (General)
/// format: integers without a decimal point, up to 15 significant digits,
/// no trailing zeros, scientific notation (`1.5E+20`) for very large or small
/// magnitudes.
pub(crate) fn format_number(n: f64) -> String {
    if !n.is_finite() {
        return format!("{n}");
    }
    if n == 0.0 {
        return "0".to_string();
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact: |n| < 1e15 fits an i64.
        return format!("{}", n as i64);
    }
    // 15 significant digits, like Notes' General number format.
    let sci = format!("{:.14e}", n.abs());
    let (mantissa, exponent) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if n < 0.0 { "-" } else { "" };
    if (-5..15).contains(&exponent) {
        let mut out = String::from(sign);
        if exponent < 0 {
            out.push_str("0.");
            for _ in 0..(-exponent - 1) {
                out.push('0');
            }
            out.push_str(digits);
        } else {
            // exponent in 0..15: integer part has exponent + 1 digits.
            let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
            } else {
                let (int_part, frac_part) = digits.split_at(int_len);
                out.push_str(int_part);
                out.push('.');
                out.push_str(frac_part);
            }
        }
        out
    } else {
        let (first, rest) = digits.split_at(1);
        let mut out = format!("{sign}{first}");
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let esign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("E{esign}{:02}", exponent.unsigned_abs()));
        out
    }
}

/// Where field reads and writes go (a document). Names are compared ASCII case-insensitively by implementations.
pub trait Fields {
    /// The value of the field `name`, or `None` when the document has no such field.
    fn get(&self, name: &str) -> Option<Value>;
    /// Creates or replaces the field `name`.
    fn set(&mut self, name: &str, value: Value);
}

/// A case-insensitive in-memory `Fields` (BTreeMap keyed by lower-cased name, keeps the original spelling for iteration).
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    entries: BTreeMap<String, (String, Value)>,
}

impl FieldMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates or replaces the field `name` (the first spelling of a name is kept).
    pub fn insert(&mut self, name: &str, v: Value) {
        let key = name.to_ascii_lowercase();
        match self.entries.get_mut(&key) {
            Some(entry) => entry.1 = v,
            None => {
                self.entries.insert(key, (name.to_string(), v));
            }
        }
    }

    /// The fields in name order (case-insensitive), with their original spelling.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries
            .values()
            .map(|(name, value)| (name.as_str(), value))
    }
}

impl Fields for FieldMap {
    fn get(&self, name: &str) -> Option<Value> {
        self.entries
            .get(&name.to_ascii_lowercase())
            .map(|(_, v)| v.clone())
    }

    fn set(&mut self, name: &str, value: Value) {
        self.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formatting_follows_notes_general_format() {
        assert_eq!(format_number(200.0), "200");
        assert_eq!(format_number(-3.0), "-3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(-0.25), "-0.25");
        assert_eq!(format_number(0.0001), "0.0001");
        assert_eq!(format_number(123456789012.0), "123456789012");
        assert_eq!(format_number(1e20), "1E+20");
        assert_eq!(format_number(1.5e-7), "1.5E-07");
        assert_eq!(format_number(12.5e3), "12500");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(f64::NAN), "NaN");
    }

    #[test]
    fn value_accessors() {
        assert_eq!(Value::texts(vec![]), Value::text(""));
        assert_eq!(Value::number(200.0).to_texts(), vec!["200"]);
        assert_eq!(Value::Number(vec![1.0, 2.5]).to_texts(), vec!["1", "2.5"]);
        assert_eq!(Value::Text(vec![]).first_text(), "");
        assert_eq!(Value::Text(vec![]).to_texts(), vec![""]);
        assert_eq!(Value::Number(vec![]).to_texts(), vec![""]);
        assert_eq!(Value::Number(vec![7.0]).first_text(), "7");
        assert!(Value::number(2.0).is_true());
        assert!(!Value::number(0.0).is_true());
        assert!(!Value::text("1").is_true());
        assert!(!Value::Number(vec![]).is_true());
        assert_eq!(Value::number(3.0).as_number(), Some(3.0));
        assert_eq!(Value::text("3").as_number(), None);
    }

    #[test]
    fn field_map_is_case_insensitive_and_keeps_spelling() {
        let mut map = FieldMap::new();
        map.insert("cfg_URL", Value::text("a"));
        map.set("CFG_url", Value::text("b"));
        assert_eq!(map.get("Cfg_Url"), Some(Value::text("b")));
        assert_eq!(map.get("other"), None);
        let all: Vec<_> = map.iter().collect();
        assert_eq!(all, vec![("cfg_URL", &Value::text("b"))]);
    }
}
