/*!
certmgr's ACME engine (RFC 8555), on top of instant-acme.

- [`catalog()`] lists the CAs certmgr knows by name (`catalog/acme-cas.toml`).
- [`AcmeAccount`] registers (with External Account Binding where a CA needs
  it), restores, rolls over, deactivates, and revokes. Keys are made here and
  stored by the caller before the CA sees them ([`new_account_credentials`],
  [`with_pending_key`]), so a crash never loses an account the CA accepted
  ([`settle_pending_key`], [`AcmeAccount::register`] with `resume`).
- [`AcmeOrder`] places an order or finds it again by URL, and drives it from
  any state to the certificate: challenges answered through [`Solvers`],
  finalize with our CSR, download the chain. Bad nonces are retried.
- [`Http01Responder`] and [`TlsAlpnResponder`] answer the CA's validation
  requests from the tokens and certificates published in [`Solvers`].

Store-aware orchestration (which key, which version, events) lives in the
caller; this crate only speaks ACME.
*/

mod account;
mod account_key;
mod alternate;
mod catalog;
mod error;
mod failpoint;
mod http;
mod http01;
pub mod listener;
mod nonce;
mod order;
mod tls_alpn01;

pub use account::{
    AccountRequest, AcmeAccount, Registered, RenewalWindow, RevocationReason,
    new_account_credentials, settle_pending_key, with_pending_key,
};
pub use alternate::chain_top_issuer;
pub use catalog::{CaEntry, catalog, find_ca};
pub use error::{AcmeError, Problem, problem_text};
pub use failpoint::{FAILPOINT_ENV, failpoint};
pub use http01::{Http01Lookup, Http01Responder, Http01Tokens, router as http01_router};
pub use order::{
    AcmeOrder, CLEANUP_LIMIT, ChallengeAnswer, ChallengeSolver, Deadlines, IssuedChain,
    OrderRequest, Solvers, human_duration,
};
pub use tls_alpn01::{
    TlsAlpnCertificates, TlsAlpnLookup, TlsAlpnResponder, answer_validation, identifier_from_sni,
    single_certificate_config, sni_name, validation_certificate, validation_config,
    wants_validation,
};

/// The ALPN protocol name of TLS-ALPN-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN_PROTOCOL: &[u8] = b"acme-tls/1";
