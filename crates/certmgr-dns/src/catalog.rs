//! The provider catalog, compiled into the binary from `providers/<id>/provider.toml`.

use crate::definition::Definition;
use crate::error::DnsError;

/// `(id, file name, TOML text)` of every catalog provider; `build.rs` lists
/// the folders under `providers/` that hold a `provider.toml`.
pub const SOURCES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// Every catalog provider, parsed and validated.
pub fn catalog() -> Result<Vec<Definition>, DnsError> {
    SOURCES
        .iter()
        .map(|(_, file, text)| Definition::parse(text, file))
        .collect()
}

/// One catalog provider by id.
pub fn provider(id: &str) -> Result<Definition, DnsError> {
    match SOURCES.iter().find(|(i, _, _)| *i == id) {
        Some((_, file, text)) => Definition::parse(text, file),
        None => Err(DnsError::UnknownProvider {
            id: id.to_string(),
            known: SOURCES
                .iter()
                .map(|(i, _, _)| *i)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
