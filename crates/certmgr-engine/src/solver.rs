//! Where one run publishes its challenge answers.
//!
//! HTTP-01 and TLS-ALPN-01 answers go where [`HttpAnswers`] says:
//! - [`HttpAnswers::Memory`]: this process answers, with responders it starts
//!   on the addresses of [`crate::responders::AnswerOptions`], like a
//!   standalone client.
//! - [`HttpAnswers::Store`]: a running `certmgr server` sharing the store
//!   answers; any node behind a load balancer can.
//! - [`HttpAnswers::Webroot`]: an existing web server answers HTTP-01 from
//!   files written under its document root.
//!
//! DNS-01 answers always go to DNS, through the DNS account serving the name
//! (see [`crate::dns01`]). Errors cross the ACME crate's solver boundary
//! whole (see [`crate::error`]).

use std::path::PathBuf;

use certmgr_acme::{AcmeError, ChallengeAnswer, ChallengeSolver, Solvers};
use certmgr_core::ChallengeKind;
use certmgr_store::Store;

use crate::dns01::{AccountCache, DnsChoice};
use crate::error::EngineError;

/// Where HTTP-01 and TLS-ALPN-01 answers go in one run.
pub enum HttpAnswers {
    /// Held in memory for this process's responders.
    Memory(Solvers),
    /// Published in the store for a running certmgr server.
    Store,
    /// Written as files under a web server's document root.
    Webroot(PathBuf),
}

/// The solver of one run.
pub struct RunSolver<'a> {
    store: &'a Store,
    http: HttpAnswers,
    /// DNS-01: identifier -> what its credential asks for.
    dns_choices: std::sync::Mutex<std::collections::HashMap<String, DnsChoice>>,
    /// DNS-01: the accounts this run publishes with, unsealed once.
    dns_accounts: AccountCache,
}

impl<'a> RunSolver<'a> {
    /// A solver publishing HTTP answers as `http` says, DNS answers to DNS.
    pub fn new(store: &'a Store, http: HttpAnswers) -> Self {
        RunSolver {
            store,
            http,
            dns_choices: Default::default(),
            dns_accounts: AccountCache::default(),
        }
    }

    /// Publish the DNS-01 answers of `credential`'s names as it asks: with the
    /// DNS account it names, at the alias it names.
    pub fn use_dns_choices(&self, credential: &certmgr_store::CredentialRecord) {
        if credential.dns_account.is_none() && credential.challenge_alias.is_none() {
            return;
        }
        let choice = DnsChoice {
            account: credential.dns_account.clone(),
            alias: credential.challenge_alias.clone(),
        };
        // The map only ever receives whole inserts; a poisoned lock holds consistent data.
        let mut map = self.dns_choices.lock().unwrap_or_else(|e| e.into_inner());
        for hostname in &credential.hostnames {
            let name = hostname.to_string();
            let bare = name.strip_prefix("*.").unwrap_or(&name).to_owned();
            map.insert(bare, choice.clone());
        }
    }

    /// The path of an HTTP-01 answer file under a document root.
    fn webroot_file(root: &std::path::Path, token: &str) -> Result<PathBuf, AcmeError> {
        // Tokens are base64url (RFC 8555 §8.1); anything else must not become a path.
        if token.is_empty()
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AcmeError::Problem(format!(
                "the CA sent a token that is not base64url: {token:?}"
            )));
        }
        Ok(root.join(".well-known/acme-challenge").join(token))
    }
}

impl ChallengeSolver for RunSolver<'_> {
    async fn present(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        if answer.kind == ChallengeKind::Dns01 {
            let choice = {
                let map = self.dns_choices.lock().unwrap_or_else(|e| e.into_inner());
                map.get(&answer.identifier).cloned().unwrap_or_default()
            };
            return Ok(
                crate::dns01::present(self.store, &self.dns_accounts, answer, &choice).await?,
            );
        }
        match &self.http {
            HttpAnswers::Memory(solvers) => solvers.present(answer).await,
            HttpAnswers::Store => self
                .store
                .publish_challenge(
                    answer.kind,
                    &answer.identifier,
                    &answer.token,
                    &answer.key_authorization,
                )
                .await
                .map_err(|e| {
                    EngineError::from(e)
                        .context("cannot publish the answer")
                        .into()
                }),
            HttpAnswers::Webroot(root) => {
                if answer.kind != ChallengeKind::Http01 {
                    return Err(AcmeError::BadInput(format!(
                        "a web root answers http-01 only, not {}",
                        answer.kind
                    )));
                }
                let path = Self::webroot_file(root, &answer.token)?;
                let write = || -> std::io::Result<()> {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(&path, answer.key_authorization.as_bytes())
                };
                write().map_err(|e| AcmeError::Listen {
                    address: path.display().to_string(),
                    challenge: "http-01",
                    reason: format!("cannot write the answer file: {e}"),
                })
            }
        }
    }

    async fn cleanup(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        if answer.kind == ChallengeKind::Dns01 {
            return Ok(crate::dns01::cleanup(self.store, &self.dns_accounts, answer).await?);
        }
        match &self.http {
            HttpAnswers::Memory(solvers) => solvers.cleanup(answer).await,
            HttpAnswers::Store => self
                .store
                .withdraw_challenge(&answer.token)
                .await
                .map_err(|e| {
                    EngineError::from(e)
                        .context("cannot withdraw the answer")
                        .into()
                }),
            HttpAnswers::Webroot(root) => {
                if let Ok(path) = Self::webroot_file(root, &answer.token) {
                    match std::fs::remove_file(&path) {
                        // Already gone is fine.
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            crate::progress::warning!(
                                "cannot remove the answer file {}: {e}",
                                path.display()
                            );
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
        }
    }
}
