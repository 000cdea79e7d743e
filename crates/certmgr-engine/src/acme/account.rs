//! ACME accounts: registration (resumable), connecting with a stored
//! account (finishing an interrupted key rollover), key rollover and
//! deactivation.

use certmgr_acme::{AccountRequest, AcmeAccount, AcmeError, failpoint};
use certmgr_core::AcmeAccountStatus;
use certmgr_store::{AcmeAccountRecord, NewAcmeAccount, StoreError};
use zeroize::Zeroizing;

use crate::Engine;
pub use crate::error::AccountRule;
use crate::error::{EngineError, EngineResult, Hint};
use crate::progress::step;

/// An ACME account as asked for, before any rule is checked: a CA from
/// the catalog or a directory URL, contacts, the External Account Binding
/// (already read by the front end).
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// certmgr's name for the account.
    pub name: String,
    /// A catalog CA id.
    pub ca: Option<String>,
    /// Or a directory URL.
    pub directory: Option<String>,
    /// Everything else about it.
    pub options: AccountOptions,
}

/// What an account is besides its name and its CA: contacts, the External
/// Account Binding and the defaults of its orders. `Debug` shows the EAB
/// key id, never the HMAC key.
#[derive(Clone, Default)]
pub struct AccountOptions {
    /// Contact e-mail addresses.
    pub emails: Vec<String>,
    /// The user agreed to the CA's terms.
    pub agree_tos: bool,
    /// External Account Binding key id and HMAC key.
    pub eab: Option<(String, Zeroizing<Vec<u8>>)>,
    /// PEM of the CA behind the directory's TLS certificate (private CAs).
    pub ca_bundle_pem: Option<String>,
    /// Default certificate profile.
    pub profile: Option<String>,
    /// Concurrent orders allowed.
    pub max_concurrent_orders: Option<u32>,
    /// Preferred chain issuer.
    pub preferred_chain: Option<String>,
}

impl std::fmt::Debug for AccountOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountOptions")
            .field("emails", &self.emails)
            .field("agree_tos", &self.agree_tos)
            .field("eab_kid", &self.eab.as_ref().map(|(kid, _)| kid))
            .field("ca_bundle_pem", &self.ca_bundle_pem.is_some())
            .field("profile", &self.profile)
            .field("max_concurrent_orders", &self.max_concurrent_orders)
            .field("preferred_chain", &self.preferred_chain)
            .finish()
    }
}

impl NewAccount {
    /// Check every rule (the catalog, the URL, contacts, limits); nothing
    /// is looked up in the store or at the CA.
    pub fn parse(self) -> EngineResult<Registration> {
        certmgr_core::validate_name(&self.name)?;
        let (ca_id, directory_url) = match (&self.ca, &self.directory) {
            (Some(id), _) => {
                let entry = certmgr_acme::find_ca(id)?;
                if entry.discontinued {
                    return Err(AccountRule::Discontinued(entry.name).into());
                }
                if entry.eab_required && self.options.eab.is_none() {
                    return Err(AccountRule::EabRequired {
                        name: entry.name,
                        docs: entry.docs,
                    }
                    .into());
                }
                (Some(entry.id), entry.directory)
            }
            (None, Some(url)) => {
                if !url.starts_with("https://") {
                    return Err(AccountRule::NotHttps(url.clone()).into());
                }
                (None, url.clone())
            }
            (None, None) => return Err(AccountRule::NoCa.into()),
        };
        if let Some(email) = self
            .options
            .emails
            .iter()
            .find(|e| !e.contains('@') || e.contains(char::is_whitespace))
        {
            return Err(AccountRule::NotEmail(email.clone()).into());
        }
        if self.options.max_concurrent_orders == Some(0) {
            return Err(AccountRule::NoConcurrency.into());
        }
        Ok(Registration {
            name: self.name,
            ca_id,
            directory_url,
            options: self.options,
        })
    }
}

/// What registering an account needs, however the user described it
/// (command line, Domino `AcmeAccount` document).
#[derive(Debug)]
pub struct Registration {
    /// certmgr's name for the account.
    pub name: String,
    /// Catalog CA id, when chosen from the catalog.
    pub ca_id: Option<String>,
    /// Directory URL.
    pub directory_url: String,
    /// Everything else about it.
    pub options: AccountOptions,
}

/// The account named `name` if its registration was interrupted (status
/// `pending`); an error if a finished account has that name.
pub async fn existing_pending(
    engine: &Engine<'_>,
    name: &str,
) -> EngineResult<Option<AcmeAccountRecord>> {
    match engine.store().acme_account(name).await {
        Ok(record) if record.status == AcmeAccountStatus::Pending => Ok(Some(record)),
        Ok(_) => Err(EngineError::bad_input(format!(
            "an ACME account named {name:?} already exists"
        ))),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Registers an account at the CA and stores it. The account key is sealed
/// into the store (as a `pending` account) before the CA sees it, and the
/// account URL recorded once the CA answered: a registration cut short after
/// the CA took it (and a single-use EAB key) is resumed by the next attempt
/// with the same name, which finds the account by its key.
pub async fn register(engine: &Engine<'_>, r: Registration) -> EngineResult<AcmeAccountRecord> {
    let store = engine.store();
    let (record, resume) = match existing_pending(engine, &r.name).await? {
        Some(record) => (record, true),
        None => {
            let credentials = certmgr_acme::new_account_credentials(&r.directory_url)?;
            let record = store
                .create_pending_acme_account(&NewAcmeAccount {
                    name: r.name.clone(),
                    ca_id: r.ca_id.clone(),
                    directory_url: r.directory_url.clone(),
                    account_url: String::new(),
                    contacts: r
                        .options
                        .emails
                        .iter()
                        .map(|e| format!("mailto:{e}"))
                        .collect(),
                    eab_kid: r.options.eab.as_ref().map(|(kid, _)| kid.clone()),
                    credentials_json: &credentials,
                    ca_bundle_pem: r.options.ca_bundle_pem.clone(),
                    profile: r.options.profile.clone(),
                    max_concurrent_orders: r.options.max_concurrent_orders,
                    preferred_chain: r.options.preferred_chain.clone(),
                })
                .await?;
            (record, false)
        }
    };
    // A resumed registration goes to the CA (and with the options) of the first attempt.
    let request = AccountRequest {
        directory_url: record.directory_url.clone(),
        emails: r.options.emails.clone(),
        agree_tos: r.options.agree_tos,
        eab: r.options.eab.clone(),
        ca_bundle_pem: record
            .ca_bundle_pem
            .clone()
            .or(r.options.ca_bundle_pem.clone()),
        profile: record.profile.clone(),
    };
    let credentials = store.unseal_acme_credentials(&record)?;
    let registered = match AcmeAccount::register(&request, &credentials, resume).await {
        Ok(registered) => registered,
        // The CA refused: nothing exists there, so nothing is kept here.
        Err(e @ (AcmeError::Refused(_) | AcmeError::Problem(_) | AcmeError::BadInput(_))) => {
            store.forget_pending_acme_account(&record).await?;
            return Err(e.into());
        }
        Err(e) => {
            return Err(EngineError::failed_hint(
                format!("{e}; the account key is stored"),
                Hint::RetryRegistration(r.name.clone()),
            ));
        }
    };
    let url = registered.account.url().to_owned();
    step!(
        "ACME account {:?} {} at the CA: {url}",
        r.name,
        if registered.found_again {
            "found again (an interrupted registration resumed)"
        } else {
            "registered"
        }
    );
    failpoint("account-registered").await;
    Ok(store
        .finish_acme_registration(&record, &url, &registered.credentials_json)
        .await?)
}

/// Restore a usable client account from the store, finishing what an
/// interrupted key rollover left (see [`rollover`]).
pub async fn connect(engine: &Engine<'_>, record: &AcmeAccountRecord) -> EngineResult<AcmeAccount> {
    let store = engine.store();
    if record.status == AcmeAccountStatus::Pending {
        return Err(EngineError::bad_input_hint(
            format!(
                "the registration of ACME account {:?} was interrupted",
                record.name
            ),
            Hint::FinishRegistration(record.name.clone()),
        ));
    }
    if record.status != AcmeAccountStatus::Valid {
        return Err(EngineError::bad_input(format!(
            "ACME account {:?} is {}",
            record.name, record.status
        )));
    }
    let mut credentials = store.unseal_acme_credentials(record)?;
    if let Some((settled, what)) = certmgr_acme::settle_pending_key(
        &credentials,
        &record.directory_url,
        record.ca_bundle_pem.as_deref(),
        engine.now(),
    )
    .await?
    {
        store
            .update_acme_account(
                record,
                Some(&settled),
                AcmeAccountStatus::Valid,
                (
                    "acme-account-rollover",
                    &format!("ACME account {:?}: {what}", record.name),
                ),
            )
            .await?;
        credentials = settled;
    }
    Ok(AcmeAccount::restore(
        &credentials,
        &record.directory_url,
        record.ca_bundle_pem.as_deref(),
    )
    .await?)
}

/// Replace the account key. The new key is sealed into the store as pending
/// before the CA is asked to switch, so a crash in between loses nothing:
/// the next use of the account ([`connect`]) asks the CA which key it takes.
/// Replace the account key. The new key is sealed into the store as pending
/// before the CA is asked to switch, so a crash in between loses nothing:
/// the next use of the account ([`connect`]) asks the CA which key it takes.
pub async fn rollover(engine: &Engine<'_>, name: &str) -> EngineResult<()> {
    let store = engine.store();
    let record = store.acme_account(name).await?;
    let mut account = connect(engine, &record).await?;
    // Read again: connecting may have settled an earlier rollover.
    let record = store.acme_account(name).await?;
    let pending =
        certmgr_acme::with_pending_key(&store.unseal_acme_credentials(&record)?, engine.now())?;
    store
        .update_acme_account(
            &record,
            Some(&pending),
            AcmeAccountStatus::Valid,
            (
                "acme-account-rollover-started",
                &format!("ACME account {name:?}: new key stored, switching at the CA"),
            ),
        )
        .await?;
    failpoint("rollover-key-stored").await;
    let credentials = account.rollover(&pending).await?;
    failpoint("rollover-switched").await;
    store
        .update_acme_account(
            &record,
            Some(&credentials),
            AcmeAccountStatus::Valid,
            (
                "acme-account-rollover",
                &format!("ACME account {name:?}: key replaced"),
            ),
        )
        .await?;
    Ok(())
}

/// Deactivate the account at the CA and record it.
pub async fn deactivate(engine: &Engine<'_>, name: &str) -> EngineResult<()> {
    let store = engine.store();
    let record = store.acme_account(name).await?;
    let account = connect(engine, &record).await?;
    // Read again: connecting may have settled an interrupted rollover.
    let record = store.acme_account(name).await?;
    account.deactivate().await?;
    store
        .update_acme_account(
            &record,
            None,
            AcmeAccountStatus::Deactivated,
            (
                "acme-account-deactivated",
                &format!("ACME account {name:?} deactivated at the CA"),
            ),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> NewAccount {
        NewAccount {
            name: "le".into(),
            directory: Some("https://acme.example.test/directory".into()),
            ..Default::default()
        }
    }

    fn rule(request: NewAccount) -> AccountRule {
        match request.parse() {
            Err(EngineError::AccountRule(rule)) => rule,
            other => panic!("expected a broken rule, got {other:?}"),
        }
    }

    #[test]
    fn each_account_rule_is_refused_by_the_constructor() {
        let valid = request().parse().unwrap();
        assert_eq!(valid.directory_url, "https://acme.example.test/directory");
        assert_eq!(valid.ca_id, None);

        let mut r = request();
        r.directory = None;
        assert_eq!(rule(r), AccountRule::NoCa);
        let mut r = request();
        r.directory = Some("http://acme.example.test/directory".into());
        assert!(matches!(rule(r), AccountRule::NotHttps(_)));
        let mut r = request();
        r.options.emails = vec!["ops@example.test".into(), "not an address".into()];
        assert_eq!(rule(r), AccountRule::NotEmail("not an address".into()));
        let mut r = request();
        r.options.max_concurrent_orders = Some(0);
        assert_eq!(rule(r), AccountRule::NoConcurrency);
    }

    #[test]
    fn debug_never_shows_the_eab_hmac_key() {
        let mut r = request();
        r.options.eab = Some(("kid-1".into(), Zeroizing::new(b"hmac-secret".to_vec())));
        let text = format!("{r:?} {:?}", r.clone().parse().unwrap());
        assert!(text.contains("kid-1"), "{text}");
        assert!(
            !text.contains("104, 109, 97, 99") && !text.contains("hmac-secret"),
            "{text}"
        );
    }

    #[test]
    fn catalog_cas_that_stopped_or_need_eab_are_refused() {
        let catalog = certmgr_acme::catalog().unwrap();
        let stopped = catalog
            .iter()
            .find(|e| e.discontinued)
            .expect("the catalog has a CA that stopped issuing");
        let mut r = request();
        r.ca = Some(stopped.id.clone());
        assert!(matches!(rule(r), AccountRule::Discontinued(_)));
        let eab = catalog
            .iter()
            .find(|e| e.eab_required && !e.discontinued)
            .expect("the catalog has a CA that needs EAB");
        let mut r = request();
        r.ca = Some(eab.id.clone());
        assert!(matches!(rule(r.clone()), AccountRule::EabRequired { .. }));
        r.options.eab = Some(("kid".into(), Zeroizing::new(vec![1, 2, 3])));
        let valid = r.parse().unwrap();
        assert_eq!(valid.ca_id.as_deref(), Some(eab.id.as_str()));
        assert_eq!(valid.directory_url, eab.directory);
    }
}
