//! What the engine counts for `/metrics` beyond what the ACME client and
//! the DNS backends count themselves ([`certmgr_core::telemetry`]).

use certmgr_core::IssuerRef;
use certmgr_store::CredentialRecord;

/// Count a failed renewal of `credential` (one that had a certificate) in
/// [`certmgr_core::telemetry::RENEWAL_FAILURES`].
pub fn count_failure(credential: &CredentialRecord) {
    if credential.not_after.is_none() {
        // A first issuance, not a renewal.
        return;
    }
    let (kind, name) = issuer_labels(&credential.issuer);
    certmgr_core::telemetry::count(&certmgr_core::telemetry::RENEWAL_FAILURES, &[kind, name]);
}

/// An issuer as the metrics' `issuer_kind` and `issuer_name` labels: `ca`
/// and the MicroCA's name, `acme` and the account's, `manual` or `import`
/// and nothing.
pub fn issuer_labels(issuer: &IssuerRef) -> (&'static str, &str) {
    match issuer {
        IssuerRef::MicroCa(name) => ("ca", name),
        IssuerRef::Acme(name) => ("acme", name),
        IssuerRef::Manual => ("manual", ""),
        IssuerRef::Import => ("import", ""),
    }
}
