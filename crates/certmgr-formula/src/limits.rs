//! Size limits that keep evaluation of hostile formulas bounded.

/// Longest text element a formula may build (1 MiB).
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// Longest list a formula may build (64k elements).
pub const MAX_LIST_LEN: usize = 65_536;
/// Most text bytes one value a formula builds may hold in all (8 MiB).
pub const MAX_VALUE_BYTES: usize = 8 * 1024 * 1024;

/// Most evaluation steps one evaluation of a formula may take (4 million).
///
/// A step is one node of the formula evaluated, one element or compared pair
/// an operation handles, or 64 bytes of text it reads, copies or writes. The
/// community provider formulas take a few thousand; 4 million keep one
/// evaluation well under a second.
pub const MAX_EVAL_STEPS: u64 = 4_000_000;
/// Most bytes the values of one evaluation may hold at once (32 MiB): its
/// temporary variables, the fields it writes and the operands in use.
pub const MAX_EVAL_BYTES: usize = 32 * 1024 * 1024;
/// Bytes of text one evaluation step stands for.
const BYTES_PER_STEP: usize = 64;
/// Bytes a value's element costs besides its text (a `String` header).
const ELEMENT_OVERHEAD: usize = 24;

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitError {
    String,
    List,
    Value,
    Steps,
    Memory,
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitError::String => write!(
                f,
                "text too long (a text element may hold at most {MAX_STRING_BYTES} bytes)"
            ),
            LimitError::List => write!(
                f,
                "list too long (a list may hold at most {MAX_LIST_LEN} elements)"
            ),
            LimitError::Value => write!(
                f,
                "value too large (a value may hold at most {MAX_VALUE_BYTES} bytes of text)"
            ),
            LimitError::Steps => write!(
                f,
                "formula too expensive: it needs more than {MAX_EVAL_STEPS} evaluation steps; \
                 simplify it (fewer operations on long lists or texts)"
            ),
            LimitError::Memory => write!(
                f,
                "formula too expensive: its temporary variables, the fields it sets and the \
                 values in use would hold more than {} MiB; simplify it (fewer or smaller copies \
                 of long lists or texts)",
                MAX_EVAL_BYTES >> 20
            ),
        }
    }
}

/// Checks a list length.
pub(crate) fn check_len(n: usize) -> Result<(), LimitError> {
    if n > MAX_LIST_LEN {
        Err(LimitError::List)
    } else {
        Ok(())
    }
}

/// Counts what a value being built holds, before each element is made.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    bytes: usize,
    elements: usize,
}

impl Budget {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Accounts for one more element of `len` bytes.
    pub(crate) fn add(&mut self, len: usize) -> Result<(), LimitError> {
        if len > MAX_STRING_BYTES {
            return Err(LimitError::String);
        }
        self.elements += 1;
        check_len(self.elements)?;
        self.bytes = self.bytes.saturating_add(len);
        if self.bytes > MAX_VALUE_BYTES {
            return Err(LimitError::Value);
        }
        Ok(())
    }

    /// Accounts for one more element `s`.
    pub(crate) fn add_string(&mut self, s: &str) -> Result<(), LimitError> {
        self.add(s.len())
    }
}

/// Bytes a value holds, for the memory budget: its text plus a fixed
/// overhead per element.
pub(crate) fn value_bytes(v: &crate::value::Value) -> usize {
    match v {
        crate::value::Value::Text(list) => list
            .iter()
            .map(|s| s.len().saturating_add(ELEMENT_OVERHEAD))
            .fold(ELEMENT_OVERHEAD, usize::saturating_add),
        crate::value::Value::Number(list) => list
            .len()
            .saturating_mul(std::mem::size_of::<f64>())
            .saturating_add(ELEMENT_OVERHEAD),
    }
}

/// Steps that handling `elements` elements and `bytes` bytes of text cost.
pub(crate) fn cost(elements: usize, bytes: usize) -> u64 {
    let steps = elements.saturating_add(bytes / BYTES_PER_STEP);
    u64::try_from(steps).unwrap_or(u64::MAX)
}

/// Steps that copying or reading value `v` costs.
pub(crate) fn value_cost(v: &crate::value::Value) -> u64 {
    match v {
        crate::value::Value::Text(list) => cost(
            list.len(),
            list.iter().map(String::len).fold(0, usize::saturating_add),
        ),
        crate::value::Value::Number(list) => cost(list.len(), 0),
    }
}

/// The step budget of one evaluation.
#[derive(Debug)]
pub(crate) struct Meter {
    used: u64,
    limit: u64,
}

impl Meter {
    /// A meter allowing `limit` steps.
    pub(crate) fn new(limit: u64) -> Self {
        Self { used: 0, limit }
    }

    /// Spends `steps` steps; an error once the budget is exhausted.
    pub(crate) fn charge(&mut self, steps: u64) -> Result<(), LimitError> {
        self.used = self.used.saturating_add(steps);
        if self.used > self.limit {
            Err(LimitError::Steps)
        } else {
            Ok(())
        }
    }
}
