//! The @function table and the implementations of the eager @functions.

use crate::limits::{Budget, LimitError, MAX_LIST_LEN, MAX_STRING_BYTES, Meter, cost};
use crate::value::{Value, format_number};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Supported @functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    If,
    Do,
    Return,
    IsError,
    SetField,
    True,
    False,
    Success,
    Failure,
    Left,
    Right,
    LeftBack,
    RightBack,
    Middle,
    Word,
    ReplaceSubstring,
    Replace,
    Trim,
    Implode,
    Explode,
    Text,
    TextToNumber,
    UrlEncode,
    UrlDecode,
    LowerCase,
    UpperCase,
    Contains,
    Begins,
    Ends,
    Length,
    Elements,
    Count,
    NewLine,
    IsNull,
    IsText,
    IsNumber,
    IsMember,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arity {
    /// Between min and max, inclusive.
    Range(usize, usize),
    /// An odd number, at least min (@If).
    Odd(usize),
    /// At least min.
    AtLeast(usize),
}

/// A table entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub func: Func,
    pub arity: Arity,
}

const fn spec(name: &'static str, func: Func, arity: Arity) -> Spec {
    Spec { name, func, arity }
}

const TABLE: &[Spec] = &[
    spec("@If", Func::If, Arity::Odd(3)),
    spec("@Do", Func::Do, Arity::AtLeast(1)),
    spec("@Return", Func::Return, Arity::Range(1, 1)),
    spec("@IsError", Func::IsError, Arity::Range(1, 1)),
    spec("@SetField", Func::SetField, Arity::Range(2, 2)),
    spec("@True", Func::True, Arity::Range(0, 0)),
    spec("@False", Func::False, Arity::Range(0, 0)),
    spec("@Success", Func::Success, Arity::Range(0, 0)),
    spec("@Failure", Func::Failure, Arity::Range(1, 1)),
    spec("@Left", Func::Left, Arity::Range(2, 2)),
    spec("@Right", Func::Right, Arity::Range(2, 2)),
    spec("@LeftBack", Func::LeftBack, Arity::Range(2, 2)),
    spec("@RightBack", Func::RightBack, Arity::Range(2, 2)),
    spec("@Middle", Func::Middle, Arity::Range(3, 3)),
    spec("@Word", Func::Word, Arity::Range(3, 3)),
    spec(
        "@ReplaceSubstring",
        Func::ReplaceSubstring,
        Arity::Range(3, 3),
    ),
    spec("@Replace", Func::Replace, Arity::Range(3, 3)),
    spec("@Trim", Func::Trim, Arity::Range(1, 1)),
    spec("@Implode", Func::Implode, Arity::Range(1, 2)),
    spec("@Explode", Func::Explode, Arity::Range(1, 4)),
    spec("@Text", Func::Text, Arity::Range(1, 2)),
    spec("@TextToNumber", Func::TextToNumber, Arity::Range(1, 1)),
    spec("@URLEncode", Func::UrlEncode, Arity::Range(2, 2)),
    spec("@URLDecode", Func::UrlDecode, Arity::Range(2, 2)),
    spec("@LowerCase", Func::LowerCase, Arity::Range(1, 1)),
    spec("@UpperCase", Func::UpperCase, Arity::Range(1, 1)),
    spec("@Contains", Func::Contains, Arity::Range(2, 2)),
    spec("@Begins", Func::Begins, Arity::Range(2, 2)),
    spec("@Ends", Func::Ends, Arity::Range(2, 2)),
    spec("@Length", Func::Length, Arity::Range(1, 1)),
    spec("@Elements", Func::Elements, Arity::Range(1, 1)),
    spec("@Count", Func::Count, Arity::Range(1, 1)),
    spec("@NewLine", Func::NewLine, Arity::Range(0, 0)),
    spec("@IsNull", Func::IsNull, Arity::Range(1, 1)),
    spec("@IsText", Func::IsText, Arity::Range(1, 1)),
    spec("@IsNumber", Func::IsNumber, Arity::Range(1, 1)),
    spec("@IsMember", Func::IsMember, Arity::Range(2, 2)),
];

/// The function named `name` (without `@`, any case).
pub(crate) fn lookup(name: &str) -> Option<(Func, Spec)> {
    TABLE
        .iter()
        .find(|s| {
            s.name
                .get(1..)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .map(|s| (s.func, *s))
}

/// The canonical spelling of `func`, e.g. "@Left".
pub(crate) fn name_of(func: Func) -> &'static str {
    TABLE
        .iter()
        .find(|s| s.func == func)
        .map_or("@function", |s| s.name)
}

/// A known function name close to `name` (edit distance ≤ 2), for "did you mean".
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    let wanted: Vec<char> = name.to_ascii_lowercase().chars().collect();
    if wanted.len() > 64 {
        return None;
    }
    TABLE
        .iter()
        .map(|s| {
            let candidate: Vec<char> = s.name.to_ascii_lowercase().chars().skip(1).collect();
            (edit_distance(&wanted, &candidate), s.name)
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let delete = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = row.get(j).copied().unwrap_or(0) + 1;
            row.push(substitute.min(delete).min(insert));
        }
        prev = row;
    }
    prev.last().copied().unwrap_or(0)
}

/// Why an eager function failed (the evaluator adds the position).
pub(crate) type FResult = Result<Value, String>;

impl From<LimitError> for String {
    fn from(e: LimitError) -> String {
        e.to_string()
    }
}

fn texts(func: Func, v: &Value) -> Result<&[String], String> {
    match v {
        Value::Text(list) => Ok(list),
        Value::Number(_) => Err(format!(
            "incorrect data type for {}: text expected, got a number",
            name_of(func)
        )),
    }
}

fn first_string(func: Func, v: &Value) -> Result<String, String> {
    Ok(texts(func, v)?.first().cloned().unwrap_or_default())
}

fn first_number(func: Func, v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(list) => Ok(list.first().copied().unwrap_or(0.0)),
        Value::Text(_) => Err(format!(
            "incorrect data type for {}: number expected, got text",
            name_of(func)
        )),
    }
}

/// A count argument as a character count (negative and NaN become 0 or are
/// kept negative as the caller needs; huge values saturate).
fn count(n: f64) -> i64 {
    if n.is_nan() {
        0
    } else {
        // `as` saturates for out-of-range floats.
        n.trunc() as i64
    }
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
}

/// Byte offset of the `n`th character of `s` (clamped to the end).
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Applies `f` to each element of a text list, within the size limits.
fn map_texts(list: &[String], mut f: impl FnMut(&str) -> Result<String, String>) -> FResult {
    let mut budget = Budget::new();
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let r = f(s)?;
        budget.add_string(&r)?;
        out.push(r);
    }
    Ok(Value::texts(out))
}

/// The string or number second argument of @Left/@Right and friends.
enum Cut {
    Chars(i64),
    At(String),
}

fn cut_arg(func: Func, v: &Value) -> Result<Cut, String> {
    match v {
        Value::Number(list) => Ok(Cut::Chars(count(list.first().copied().unwrap_or(0.0)))),
        Value::Text(_) => Ok(Cut::At(first_string(func, v)?)),
    }
}

/// @Left, @Right, @LeftBack, @RightBack.
pub(crate) fn left_right(func: Func, source: &Value, what: &Value) -> FResult {
    let list = texts(func, source)?;
    let cut = cut_arg(func, what)?;
    map_texts(list, |s| {
        let len = char_len(s);
        let r = match (&cut, func) {
            (Cut::Chars(n), Func::Left) => &s[..char_offset(s, to_usize(*n))],
            (Cut::Chars(n), Func::Right) => {
                let keep = to_usize(*n).min(len);
                &s[char_offset(s, len - keep)..]
            }
            (Cut::Chars(n), Func::LeftBack) => {
                let skip = to_usize(*n).min(len);
                &s[..char_offset(s, len - skip)]
            }
            (Cut::Chars(n), _) => &s[char_offset(s, to_usize(*n))..],
            (Cut::At(sub), Func::Left) => s.find(sub.as_str()).map_or("", |i| &s[..i]),
            (Cut::At(sub), Func::Right) => s.find(sub.as_str()).map_or("", |i| &s[i + sub.len()..]),
            (Cut::At(sub), Func::LeftBack) => s.rfind(sub.as_str()).map_or("", |i| &s[..i]),
            (Cut::At(sub), _) => s.rfind(sub.as_str()).map_or("", |i| &s[i + sub.len()..]),
        };
        Ok(r.to_string())
    })
}

/// @Middle(string; offset|startString; count|endString).
pub(crate) fn middle(source: &Value, start: &Value, end: &Value) -> FResult {
    let list = texts(Func::Middle, source)?;
    let start = cut_arg(Func::Middle, start)?;
    let end = cut_arg(Func::Middle, end)?;
    map_texts(list, |s| {
        let chars: Vec<char> = s.chars().collect();
        let len = chars.len();
        // Start as a character index, and how many characters a start string spans.
        let (offset, skip) = match &start {
            Cut::Chars(n) => (to_usize(*n).min(len), 0),
            Cut::At(sub) => match s.find(sub.as_str()) {
                Some(byte) => (char_len(&s[..byte]), char_len(sub)),
                None => return Ok(String::new()),
            },
        };
        let (from, take) = match &end {
            Cut::Chars(n) if *n < 0 => {
                // Characters to the left of the start.
                let back = to_usize(n.saturating_neg());
                let from = offset.saturating_sub(back);
                (from, offset - from)
            }
            Cut::Chars(n) => (offset + skip, to_usize(*n)),
            Cut::At(sub) => {
                let from = offset + skip;
                let rest: String = chars.get(from..).unwrap_or_default().iter().collect();
                let take = rest
                    .find(sub.as_str())
                    .map_or(char_len(&rest), |byte| char_len(&rest[..byte]));
                (from, take)
            }
        };
        if from >= len || take == 0 {
            return Ok(String::new());
        }
        let to = from.saturating_add(take).min(len);
        Ok(chars.get(from..to).unwrap_or_default().iter().collect())
    })
}

/// @Word(string; separator; number).
pub(crate) fn word(source: &Value, sep: &Value, which: &Value) -> FResult {
    let list = texts(Func::Word, source)?;
    let sep = first_string(Func::Word, sep)?;
    let which = count(first_number(Func::Word, which)?);
    map_texts(list, |s| {
        let words: Vec<&str> = if sep.is_empty() {
            vec![s]
        } else {
            s.split(sep.as_str()).collect()
        };
        let picked = if which > 0 {
            words.get(to_usize(which - 1))
        } else if which < 0 {
            words
                .len()
                .checked_sub(to_usize(which.saturating_neg()))
                .and_then(|i| words.get(i))
        } else {
            words.first()
        };
        Ok(picked.map(|w| w.to_string()).unwrap_or_default())
    })
}

/// Replaces every occurrence of `from` in `s` by `to`, within the string limit.
fn replace_limited(s: &str, from: &str, to: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(from) {
        if out.len() + i + to.len() > MAX_STRING_BYTES {
            return Err(LimitError::String.to_string());
        }
        out.push_str(&rest[..i]);
        out.push_str(to);
        rest = &rest[i + from.len()..];
    }
    if out.len() + rest.len() > MAX_STRING_BYTES {
        return Err(LimitError::String.to_string());
    }
    out.push_str(rest);
    Ok(out)
}

/// @ReplaceSubstring(sourceList; fromList; toList): each fromList element in
/// turn is replaced in the result of the previous replacements; missing
/// toList elements repeat the last one. Case-sensitive.
pub(crate) fn replace_substring(
    source: &Value,
    from: &Value,
    to: &Value,
    meter: &mut Meter,
) -> FResult {
    let list = texts(Func::ReplaceSubstring, source)?;
    let from = texts(Func::ReplaceSubstring, from)?;
    let to = texts(Func::ReplaceSubstring, to)?;
    map_texts(list, |s| {
        let mut current = s.to_string();
        for (i, f) in from.iter().enumerate() {
            meter.charge(1)?;
            if f.is_empty() {
                continue;
            }
            let t = to.get(i).or(to.last()).map_or("", String::as_str);
            meter.charge(cost(1, current.len().saturating_add(f.len())))?;
            current = replace_limited(&current, f, t)?;
        }
        Ok(current)
    })
}

/// @Replace(sourceList; fromList; toList): whole-element replacement; a
/// fromList element without a toList counterpart is replaced by "".
pub(crate) fn replace(source: &Value, from: &Value, to: &Value, meter: &mut Meter) -> FResult {
    let list = texts(Func::Replace, source)?;
    let from = texts(Func::Replace, from)?;
    let to = texts(Func::Replace, to)?;
    map_texts(list, |s| {
        let mut found = None;
        for (i, f) in from.iter().enumerate() {
            meter.charge(cost(1, f.len().min(s.len())))?;
            if f == s {
                found = Some(i);
                break;
            }
        }
        Ok(match found {
            Some(i) => to.get(i).cloned().unwrap_or_default(),
            None => s.to_string(),
        })
    })
}

/// @Trim: leading/trailing spaces removed, inner runs of spaces collapsed,
/// empty elements dropped (only the space character, like Notes; not tabs).
pub(crate) fn trim(source: &Value) -> FResult {
    let list = texts(Func::Trim, source)?;
    let out: Vec<String> = list
        .iter()
        .map(|s| {
            s.split(' ')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|s| !s.is_empty())
        .collect();
    Ok(Value::texts(out))
}

/// @Implode(list [; separator]).
pub(crate) fn implode(list: &Value, sep: Option<&Value>) -> FResult {
    let list = texts(Func::Implode, list)?;
    let sep = match sep {
        Some(v) => first_string(Func::Implode, v)?,
        None => " ".to_string(),
    };
    let total = list
        .iter()
        .map(String::len)
        .fold(0usize, usize::saturating_add)
        .saturating_add(sep.len().saturating_mul(list.len().saturating_sub(1)));
    if total > MAX_STRING_BYTES {
        return Err(LimitError::String.to_string());
    }
    Ok(Value::text(list.join(&sep)))
}

fn flag(func: Func, v: Option<&Value>, default: bool) -> Result<bool, String> {
    match v {
        None => Ok(default),
        Some(v) => Ok(first_number(func, v)? != 0.0),
    }
}

/// @Explode(string [; separators [; includeEmpties [; newLineAsSeparator]]]).
pub(crate) fn explode(
    source: &Value,
    seps: Option<&Value>,
    empties: Option<&Value>,
    newline: Option<&Value>,
) -> FResult {
    let list = texts(Func::Explode, source)?;
    let mut seps: Vec<char> = match seps {
        Some(v) => first_string(Func::Explode, v)?.chars().collect(),
        None => " ,;".chars().collect(),
    };
    let empties = flag(Func::Explode, empties, false)?;
    if flag(Func::Explode, newline, true)? {
        seps.push('\n');
    }
    // Sorted, so that a long separator string costs a binary search per
    // character rather than a scan.
    seps.sort_unstable();
    seps.dedup();
    let mut out = Vec::new();
    let push = |piece: &str, out: &mut Vec<String>| -> Result<(), String> {
        if !piece.is_empty() || empties {
            if out.len() >= MAX_LIST_LEN {
                return Err(LimitError::List.to_string());
            }
            out.push(piece.to_string());
        }
        Ok(())
    };
    for s in list {
        let mut begin = 0;
        for (i, c) in s.char_indices() {
            if seps.binary_search(&c).is_ok() {
                let mut end = i;
                // "\r\n" counts as one newline.
                if c == '\n' && end > begin && s[..end].ends_with('\r') {
                    end -= 1;
                }
                push(&s[begin..end], &mut out)?;
                begin = i + c.len_utf8();
            }
        }
        push(&s[begin..], &mut out)?;
    }
    Ok(Value::texts(out))
}

/// @Text(value [; format]): numbers formatted like Notes' General format.
pub(crate) fn text(v: &Value) -> FResult {
    Ok(Value::texts(v.to_texts()))
}

/// Parses a Notes number constant: optional sign, digits with an optional
/// decimal point, optional exponent; surrounding spaces allowed.
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let mut parts = body.splitn(2, ['e', 'E']);
    let mantissa = parts.next().unwrap_or("");
    let exponent = parts.next();
    let digits_ok = mantissa.chars().any(|c| c.is_ascii_digit())
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().filter(|c| *c == '.').count() <= 1;
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    if !digits_ok || !exp_ok {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// @TextToNumber(text).
pub(crate) fn text_to_number(v: &Value) -> FResult {
    match v {
        Value::Number(_) => Ok(v.clone()),
        Value::Text(list) => {
            let mut out = Vec::with_capacity(list.len());
            for s in list {
                match parse_number(s) {
                    Some(n) => out.push(n),
                    None => {
                        return Err(format!(
                            "@TextToNumber: {:?} is not a number",
                            truncate_for_message(s)
                        ));
                    }
                }
            }
            Ok(Value::Number(out).normalized())
        }
    }
}

fn truncate_for_message(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// Characters @URLEncode leaves alone: the RFC 3986 unreserved set
/// (A-Z a-z 0-9 - _ . ~); everything else becomes %XX of its UTF-8 bytes.
const URL_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The character set an @URLEncode/@URLDecode encoding name selects.
enum Charset {
    Utf8,
    Latin1,
}

fn charset(func: Func, v: &Value) -> Result<Charset, String> {
    let name = first_string(func, v)?;
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        // "Domino" is documented as the UTF-8 MIME character set; "Platform"
        // is the system's native set, which is UTF-8 here.
        "domino" | "utf-8" | "utf8" | "platform" => Ok(Charset::Utf8),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" => Ok(Charset::Latin1),
        _ => Err(format!(
            "{}: unsupported encoding {:?} (use \"Domino\", \"UTF-8\", \"Platform\" or \"ISO-8859-1\")",
            name_of(func),
            truncate_for_message(&name)
        )),
    }
}

/// @URLEncode(encoding; token).
pub(crate) fn url_encode(encoding: &Value, source: &Value) -> FResult {
    let charset = charset(Func::UrlEncode, encoding)?;
    let list = texts(Func::UrlEncode, source)?;
    map_texts(list, |s| match charset {
        Charset::Utf8 => Ok(utf8_percent_encode(s, URL_ENCODE_SET).to_string()),
        Charset::Latin1 => {
            let mut out = String::new();
            for c in s.chars() {
                let code = u32::from(c);
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~') {
                    out.push(c);
                } else if code <= 0xFF {
                    out.push_str(&format!("%{code:02X}"));
                } else {
                    return Err(format!(
                        "@URLEncode: {c:?} cannot be represented in ISO-8859-1"
                    ));
                }
            }
            Ok(out)
        }
    })
}

/// @URLDecode(encoding; token): %XX sequences decoded (malformed ones kept
/// as they are, "+" kept), then read in the character set.
pub(crate) fn url_decode(encoding: &Value, source: &Value) -> FResult {
    let charset = charset(Func::UrlDecode, encoding)?;
    let list = texts(Func::UrlDecode, source)?;
    map_texts(list, |s| {
        let bytes: Vec<u8> = percent_decode_str(s).collect();
        Ok(match charset {
            Charset::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
            Charset::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
        })
    })
}

/// @LowerCase, @UpperCase.
pub(crate) fn change_case(func: Func, source: &Value) -> FResult {
    let list = texts(func, source)?;
    map_texts(list, |s| {
        let out = if func == Func::LowerCase {
            s.to_lowercase()
        } else {
            s.to_uppercase()
        };
        if out.len() > MAX_STRING_BYTES {
            return Err(LimitError::String.to_string());
        }
        Ok(out)
    })
}

/// @Contains, @Begins, @Ends: 1 if any element matches any pattern (case-sensitive).
pub(crate) fn matches(func: Func, source: &Value, patterns: &Value, meter: &mut Meter) -> FResult {
    let list = texts(func, source)?;
    let patterns = texts(func, patterns)?;
    for s in list {
        for p in patterns {
            let work = match func {
                Func::Begins | Func::Ends => p.len().min(s.len()),
                _ => s.len().saturating_add(p.len()),
            };
            meter.charge(cost(1, work))?;
            let hit = match func {
                Func::Begins => s.starts_with(p.as_str()),
                Func::Ends => s.ends_with(p.as_str()),
                _ => s.contains(p.as_str()),
            };
            if hit {
                return Ok(Value::boolean(true));
            }
        }
    }
    Ok(Value::boolean(false))
}

/// @Length: characters of each element.
pub(crate) fn length(source: &Value) -> FResult {
    let list = texts(Func::Length, source)?;
    let out: Vec<f64> = list.iter().map(|s| char_len(s) as f64).collect();
    Ok(Value::Number(out).normalized())
}

/// @Elements: number of elements, 0 for a single empty text.
pub(crate) fn elements(v: &Value) -> FResult {
    let n = match v {
        Value::Text(list) if list.len() <= 1 && list.first().is_none_or(String::is_empty) => 0,
        other => other.len(),
    };
    Ok(Value::number(n as f64))
}

/// @IsMember(value; list): 1 if every element of value is in list (case-sensitive).
pub(crate) fn is_member(needles: &Value, haystack: &Value, meter: &mut Meter) -> FResult {
    let hit = match (needles, haystack) {
        (Value::Text(a), Value::Text(b)) => {
            let mut all = true;
            for x in a {
                let mut found = false;
                for y in b {
                    meter.charge(cost(1, x.len().min(y.len())))?;
                    if x == y {
                        found = true;
                        break;
                    }
                }
                if !found {
                    all = false;
                    break;
                }
            }
            all
        }
        (Value::Number(a), Value::Number(b)) => {
            meter.charge(cost(a.len().saturating_mul(b.len()), 0))?;
            a.iter().all(|x| b.contains(x))
        }
        _ => false,
    };
    Ok(Value::boolean(hit))
}

/// The text of a number list element, for messages.
pub(crate) fn describe_number(n: f64) -> String {
    format_number(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive() {
        assert!(matches!(lookup("if"), Some((Func::If, _))));
        assert!(matches!(lookup("IF"), Some((Func::If, _))));
        assert!(matches!(
            lookup("replacesubstring"),
            Some((Func::ReplaceSubstring, _))
        ));
        assert!(lookup("Lft").is_none());
        assert_eq!(suggest("Lft"), Some("@Left"));
        assert_eq!(suggest("urlencod"), Some("@URLEncode"));
        assert_eq!(suggest("completelyunrelated"), None);
        assert_eq!(name_of(Func::Middle), "@Middle");
    }

    #[test]
    fn number_parsing() {
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("-1.5e2"), Some(-150.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("1e999"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
    }
}
