/*!
DNS-01 providers as data.

A provider is a TOML file (`providers/<id>/provider.toml`, format in
`providers/README.md`): metadata, typed parameters, and templated HTTP steps
in four phases (`lookup`, `query`, `add`, `delete`). [`Definition::parse`]
validates everything that can be checked offline; [`Engine`] runs the steps,
retrying 5xx answers and connection errors, carrying captured ids between
steps, and reporting each exchange to a [`Trace`] with secrets redacted.

The catalog is compiled in ([`catalog()`], [`provider`]), and its user
documentation is generated from it ([`catalog_markdown`]).
*/

mod catalog;
mod definition;
mod docs;
mod engine;
mod error;
mod redact;
mod template;

pub use catalog::{SOURCES, catalog, provider};
pub use definition::{BodyTemplate, Definition, Parameter, Params, Phase, ProviderMeta, Step};
pub use docs::{catalog_markdown, provider_markdown};
pub use engine::{
    CallContext, Captures, Engine, MemoryTrace, NoTrace, RetryPolicy, Trace, TraceEvent,
};
pub use error::{DnsError, StatusError};
