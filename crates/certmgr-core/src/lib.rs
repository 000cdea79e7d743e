/*!
Domain types shared by every certmgr crate.

A credential in certmgr is a set of [`Hostname`]s, one or two keys described by
[`KeySpec`]s, and a lifecycle expressed by [`Status`] and [`Health`]. These types
are parsed once at the edge (CLI, REST API, import) so that the rest of the system
never sees an invalid hostname or an unknown key type.

```
use certmgr_core::{Hostname, KeySpec};

let host: Hostname = "Bücher.Example.TEST".parse().unwrap();
assert_eq!(host.as_str(), "xn--bcher-kva.example.test");
let key: KeySpec = "ecdsa-p256".parse().unwrap();
assert_eq!(key.to_string(), "ecdsa-p256");
```
*/

mod hostname;
mod key_spec;
mod status;

pub use hostname::{Hostname, HostnameError};
pub use key_spec::{KeyFamily, KeySpec, KeySpecError};
pub use status::{Health, Status};
