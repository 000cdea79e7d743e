//! ACME accounts: a directory, the account URL the CA assigned, and the
//! account key (in sealed credentials). The row is authenticated
//! (`integrity`): it decides which directory the key signs for.
//! (Registrations in progress: `acme_pending`.)

use certmgr_core::AcmeAccountStatus;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::integrity::ACME_ACCOUNTS;
use super::{LogEntry, Store, Tx, corrupt, days, fetch_named, now};
use crate::StoreError;
use crate::model::{AcmeAccountRecord, NewAcmeAccount};

macro_rules! acme_select {
    () => {
        "SELECT id, name, ca_id, directory_url, account_url, contacts, eab_kid, sealed_credentials, \
         ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, created_at, updated_at, \
         mac FROM acme_accounts"
    };
}

/// Associated data of an account's sealed credentials.
pub(super) fn acme_context(account_id: &str) -> String {
    format!("acme_accounts/{account_id}/credentials")
}

impl Store {
    /// Store a new ACME account (credentials sealed).
    pub async fn create_acme_account(
        &self,
        new: &NewAcmeAccount<'_>,
    ) -> Result<AcmeAccountRecord, StoreError> {
        let (id, sealed) = self.seal_new_acme_account(new)?;
        let message = format!("ACME account {:?} created at {}", new.name, new.account_url);
        let entry = LogEntry::general("acme-account-created", &message);
        let mut tx = self.begin_logged(entry).await?;
        self.insert_acme_account(&mut tx, &id, sealed, new, AcmeAccountStatus::Valid)
            .await?;
        tx.commit().await?;
        self.acme_account(&new.name).await
    }

    /// The ACME account named `name`.
    pub async fn acme_account(&self, name: &str) -> Result<AcmeAccountRecord, StoreError> {
        let query = sqlx::query(concat!(acme_select!(), " WHERE name = $1")).bind(name);
        fetch_named(&self.pool, query, ("ACME account", name), |row| {
            self.acme_account_from_row(row)
        })
        .await
    }

    /// Every ACME account, by name.
    pub async fn list_acme_accounts(&self) -> Result<Vec<AcmeAccountRecord>, StoreError> {
        let rows = sqlx::query(concat!(acme_select!(), " ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.acme_account_from_row(r)).collect()
    }

    /// Decrypt an account's credentials (JSON holding its private key).
    pub fn unseal_acme_credentials(
        &self,
        account: &AcmeAccountRecord,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key
            .open(&account.sealed_credentials, &acme_context(&account.id))
    }

    /// Replace an account's credentials (after a key rollover) and/or status.
    pub async fn update_acme_account(
        &self,
        account: &AcmeAccountRecord,
        credentials_json: Option<&[u8]>,
        status: AcmeAccountStatus,
        event: (&str, &str),
    ) -> Result<(), StoreError> {
        let sealed = match credentials_json {
            Some(json) => self.key.seal(json, &acme_context(&account.id))?,
            None => account.sealed_credentials.clone(),
        };
        let mut tx = self
            .begin_logged(LogEntry::general(event.0, event.1))
            .await?;
        self.rows
            .check_in(&mut tx, &ACME_ACCOUNTS, &account.id)
            .await?;
        sqlx::query(
            "UPDATE acme_accounts SET sealed_credentials = $1, status = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(sealed)
        .bind(status.as_str())
        .bind(now())
        .bind(&account.id)
        .execute(&mut **tx)
        .await?;
        self.rows
            .stamp(&mut tx, &ACME_ACCOUNTS, &account.id)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new account's id and its credentials sealed to it.
    pub(super) fn seal_new_acme_account(
        &self,
        new: &NewAcmeAccount<'_>,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let id = super::new_id();
        let sealed = self.key.seal(new.credentials_json, &acme_context(&id))?;
        Ok((id, sealed))
    }

    /// Insert the account `new` as `id` with `status` (`valid`, or `pending`
    /// while its registration is in progress) and stamp its row, inside `tx`.
    pub(super) async fn insert_acme_account(
        &self,
        tx: &mut Tx<'_>,
        id: &str,
        sealed_credentials: Vec<u8>,
        new: &NewAcmeAccount<'_>,
        status: AcmeAccountStatus,
    ) -> Result<(), StoreError> {
        let contacts =
            serde_json::to_string(&new.contacts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO acme_accounts (id, name, ca_id, directory_url, account_url, contacts, eab_kid, \
             sealed_credentials, ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
        )
        .bind(id)
        .bind(&new.name)
        .bind(new.ca_id.clone())
        .bind(&new.directory_url)
        .bind(&new.account_url)
        .bind(contacts)
        .bind(new.eab_kid.clone())
        .bind(sealed_credentials)
        .bind(new.ca_bundle_pem.clone())
        .bind(status.as_str())
        .bind(new.profile.clone())
        .bind(new.max_concurrent_orders.map(i64::from))
        .bind(new.preferred_chain.clone())
        .bind(now())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "ACME account", &new.name))?;
        self.rows.stamp(tx, &ACME_ACCOUNTS, id).await
    }

    fn acme_account_from_row(&self, row: &AnyRow) -> Result<AcmeAccountRecord, StoreError> {
        self.rows.check(&ACME_ACCOUNTS, row)?;
        let contacts: String = row.try_get("contacts")?;
        Ok(AcmeAccountRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            ca_id: row.try_get("ca_id")?,
            directory_url: row.try_get("directory_url")?,
            account_url: row.try_get("account_url")?,
            contacts: serde_json::from_str(&contacts)
                .map_err(|_| corrupt("contacts", &contacts))?,
            eab_kid: row.try_get("eab_kid")?,
            ca_bundle_pem: row.try_get("ca_bundle_pem")?,
            status: {
                let status: String = row.try_get("status")?;
                status.parse().map_err(|_| corrupt("status", &status))?
            },
            profile: row.try_get("profile")?,
            max_concurrent_orders: days(row.try_get("max_concurrent_orders")?),
            preferred_chain: row.try_get("preferred_chain")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            sealed_credentials: row.try_get("sealed_credentials")?,
        })
    }
}
