/*!
The certmgr store: the one database that is the truth about every credential.

[`Store`] runs the same SQL on SQLite (the embedded default, WAL mode) and on
PostgreSQL (several nodes), through sqlx's `Any` driver, with one migration
folder per backend. Every private key and secret is sealed with the
[`MasterKey`] (AES-256-GCM) before it is written; the database never holds key
material in the clear. The columns that decide where a secret is sent (a DNS
account's provider, an ACME account's directory, the TXT journal, the
challenge answers the server gives, ...) carry a MAC under a key derived from
the master key: a row changed with SQL alone is refused with
[`StoreError::Tampered`], naming it. Every write that changes a credential is one
transaction that also appends to the credential's event log, so a failed or
refused operation leaves nothing behind.

```no_run
# async fn demo() -> Result<(), certmgr_store::StoreError> {
use certmgr_store::{MasterKey, Store};
let key = MasterKey::generate()?;
let store = Store::open("sqlite:///var/lib/certmgr/certmgr.db", key).await?;
for credential in store.list_credentials().await? {
    println!("{} {}", credential.name, credential.status);
}
# Ok(()) }
```
*/

mod der;
mod error;
mod files;
mod model;
mod seal;
mod store;

pub use error::StoreError;
pub use model::{
    AcmeAccountRecord, CaRecord, CertificateRecord, CredentialRecord, DnsAccountRecord, Event,
    KeyVersion, NewAcmeAccount, NewCa, NewCredential, NewDnsAccount, NewKeyVersion, Outcome,
    PendingOrder, PlannedRenewal, ServerRecord, TrustAnchorRecord, TxtJournal, TxtJournalEntry,
    VersionSource,
};
pub use seal::{MASTER_KEY_ENV, MASTER_KEY_LEN, MasterKey};
pub use store::access::{NewPrincipal, TagScope, TokenRecord, UserRecord};
pub use store::audit::{AuditCheck, AuditEntry, AuditQuery, NewAuditEntry};
pub use store::notify_rows::{
    ChannelRecord, DeliveryRecord, NewChannel, NewNotice, NoticeQuery, NoticeRecord, OpenDelivery,
};
pub use store::sessions::{NewSession, SessionRecord};
pub use store::{Backend, InstanceRecord, Store};
