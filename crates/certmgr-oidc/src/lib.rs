//! Single sign-on for certmgr with OpenID Connect: the relying-party side of
//! the authorization code flow with PKCE.
//!
//! The server makes one [`OidcClient`] from its [`OidcConfig`] at start-up
//! ([`OidcClient::discover`]), then for each login:
//!
//! 1. [`OidcClient::begin_login`] gives the provider URL to redirect the
//!    browser to and a [`PendingLogin`] (state, nonce, PKCE verifier) to keep
//!    for that browser;
//! 2. the provider sends the browser back to the redirect URL; the server
//!    reads the query with [`OidcClient::parse_callback`];
//! 3. [`OidcClient::finish_login`] checks the state, exchanges the code,
//!    verifies the ID token (signature against the provider's keys, issuer,
//!    audience, expiry, nonce), reads the groups claim and maps the groups to a
//!    [`certmgr_core::Role`]: the highest mapped role wins, and a user in no
//!    mapped group is refused ([`OidcError::NoMappedGroup`]);
//! 4. at logout, [`OidcClient::logout_url`] gives the provider's end-session
//!    URL.
//!
//! Token handling (JOSE, signature verification) is the `openidconnect`
//! crate's; HTTP goes through the workspace's `reqwest`.

mod claims;
mod client;
mod config;
mod error;
mod http;
mod roles;
mod verify;

pub use client::{Callback, IdTokenHint, Identity, OidcClient, PendingLogin};
pub use config::{ClientSecret, GroupsSource, OidcConfig};
pub use error::OidcError;
pub use roles::role_for_groups;

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>(_: &T) {}
    fn shared<T: Send + Sync>() {}

    /// The server keeps one client in its state and awaits these futures in
    /// its request handlers, which must be `Send`.
    #[test]
    fn the_client_is_shared_and_its_futures_are_send() {
        shared::<OidcClient>();
        let discovery = OidcClient::discover(OidcConfig::new("https://a", "c", "https://b"));
        send(&discovery);
        #[allow(dead_code)]
        fn finish(client: &OidcClient, pending: PendingLogin) {
            send(&client.finish_login(pending, "code", "state"));
        }
    }
}
