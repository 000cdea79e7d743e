/*!
Domain types shared by every certmgr crate.

A credential in certmgr is a set of [`Hostname`]s, one or two keys described by
[`KeySpec`]s, an [`IssuerRef`] saying where its certificates come from, and a
lifecycle expressed by [`Status`] and [`Health`]. These types are parsed once at
the edge (CLI, REST API, import) so that the rest of the system never sees an
invalid hostname or an unknown key type.

```
use certmgr_core::{Hostname, KeySpec};

let host: Hostname = "Bücher.Example.TEST".parse().unwrap();
assert_eq!(host.as_str(), "xn--bcher-kva.example.test");
let key: KeySpec = "ecdsa-p256".parse().unwrap();
assert_eq!(key.to_string(), "ecdsa-p256");
```
*/

mod challenge;
mod hostname;
mod issuer;
mod key_spec;
mod name;
#[cfg(feature = "openapi")]
mod openapi;
pub mod renewal;
mod status;
pub mod telemetry;
pub mod text;

pub use challenge::{ChallengeKind, ChallengeKindError};
pub use hostname::{Hostname, HostnameError};
pub use issuer::{IssuerRef, IssuerRefError};
pub use key_spec::{KeyFamily, KeySpec, KeySpecError};
pub use name::{NameError, validate_name};
pub use status::{AcmeAccountStatus, Health, Role, Status};
