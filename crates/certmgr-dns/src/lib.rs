/*!
DNS-01 providers as data.

A provider is a TOML file (`providers/<id>/provider.toml`, format in
`providers/README.md`): metadata, typed parameters, and templated HTTP steps
in four phases (`lookup`, `query`, `add`, `delete`). [`Definition::parse`]
validates everything that can be checked offline; [`Engine`] runs the steps,
retrying 5xx answers and connection errors, carrying captured ids between
steps (across pages, and polling asynchronous changes), signing requests
or fetching tokens for APIs that need it (`[auth]`), and reporting each exchange to a [`Trace`] with secrets redacted.

Requests go only to the hosts a definition declares or its account's
parameters name; loopback, private and link-local addresses and plain
`http://` need the account's [`NetworkAccess`]. Answers are read up to
4 MiB; repeats, intervals and pages are capped ([`MAX_REPEAT`],
[`MAX_INTERVAL_SECS`], [`MAX_PAGES`]).

The catalog is compiled in ([`catalog()`], [`provider`]), and its user
documentation is generated from it ([`catalog_markdown`]).
*/

mod answer;
mod any;
mod auth;
mod catalog;
mod definition;
mod destination;
mod docs;
pub mod dxl;
mod engine;
mod error;
mod exchange;
mod redact;
mod template;
mod trace;

pub use any::{ProviderDefinition, Published, is_dxl};
pub use auth::AuthKind;
pub use catalog::{SOURCES, catalog, provider};
pub use definition::{
    AuthSpec, BodyTemplate, Definition, MAX_INTERVAL_SECS, MAX_PAGES, MAX_PROPAGATION_SECS,
    MAX_REPEAT, PageMode, Paginate, Parameter, Params, Phase, ProviderMeta, Step,
};
pub use destination::{NetworkAccess, Refusal};
pub use docs::{catalog_markdown, provider_markdown};
pub use engine::{
    CallContext, Captures, Engine, MemoryTrace, NoTrace, RetryPolicy, Trace, TraceEvent,
};
pub use error::{DnsError, StatusError};
