/*!
DNS-01 providers as data.

A provider is a TOML file (`providers/<id>/provider.toml`, format in
`providers/README.md`): metadata, typed parameters, and templated HTTP steps
in four phases (`lookup`, `query`, `add`, `delete`). [`Definition::parse`]
validates everything that can be checked offline; [`Engine`] runs the steps,
retrying 5xx answers and connection errors, carrying captured ids between
steps (across pages, and polling asynchronous changes), signing requests
or fetching tokens for APIs that need it (`[auth]`), and reporting each exchange to a [`Trace`] with secrets redacted.

The catalog is compiled in ([`catalog()`], [`provider`]), and its user
documentation is generated from it ([`catalog_markdown`]).
*/

mod answer;
mod any;
mod auth;
mod catalog;
mod definition;
mod docs;
pub mod dxl;
mod engine;
mod error;
mod redact;
mod template;

pub use any::{ProviderDefinition, Published, is_dxl};
pub use auth::AuthKind;
pub use catalog::{SOURCES, catalog, provider};
pub use definition::{
    AuthSpec, BodyTemplate, Definition, PageMode, Paginate, Parameter, Params, Phase, ProviderMeta,
    Step,
};
pub use docs::{catalog_markdown, provider_markdown};
pub use engine::{
    CallContext, Captures, Engine, MemoryTrace, NoTrace, RetryPolicy, Trace, TraceEvent,
};
pub use error::{DnsError, StatusError};
