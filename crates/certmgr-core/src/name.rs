//! Names of objects in the store (credentials, CAs, accounts).

/// Why an object name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid name {given:?}: use 1 to 64 characters from letters, digits, '.', '-' and '_', starting with a letter or digit"
)]
pub struct NameError {
    /// What the user wrote.
    pub given: String,
}

/// Check that `name` can name a credential, CA or account.
///
/// Names appear in file names of exports and in URLs of the REST API, so they
/// are restricted to a portable character set.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(NameError {
            given: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_portable_names_only() {
        for good in ["web1", "a", "mail.example.com", "lab_ca-2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-x",
            ".hidden",
            "a/b",
            "with space",
            "ü",
            &"a".repeat(65),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
