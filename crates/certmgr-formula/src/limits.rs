//! Size limits that keep evaluation of hostile formulas bounded.

/// Longest text element a formula may build (1 MiB).
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// Longest list a formula may build (64k elements).
pub const MAX_LIST_LEN: usize = 65_536;
/// Most text bytes one value a formula builds may hold in all (8 MiB).
pub const MAX_VALUE_BYTES: usize = 8 * 1024 * 1024;

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitError {
    String,
    List,
    Value,
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
