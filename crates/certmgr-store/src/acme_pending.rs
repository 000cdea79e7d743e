//! ACME accounts whose registration is in progress.
//!
//! The account key is sealed into the store *before* the CA is asked to
//! register it, so a process that dies after the CA registered the account
//! (possibly consuming a single-use External Account Binding key) but before
//! the account URL was recorded loses nothing: the row stays `pending`, and
//! the next attempt finds the account again by its key.

use super::acme_accounts::acme_context;
use super::integrity::ACME_ACCOUNTS;
use super::{LogEntry, Store, now};
use crate::StoreError;
use crate::model::{AcmeAccountRecord, NewAcmeAccount};
use certmgr_core::AcmeAccountStatus;

impl Store {
    /// Store an account that is not registered yet, with status `pending`
    /// and its credentials (holding the new key) sealed; `new.account_url`
    /// is usually empty. No event is logged until
    /// [`Store::finish_acme_registration`].
    pub async fn create_pending_acme_account(
        &self,
        new: &NewAcmeAccount<'_>,
    ) -> Result<AcmeAccountRecord, StoreError> {
        let (id, sealed) = self.seal_new_acme_account(new)?;
        let mut tx = self.begin_write().await?;
        self.insert_acme_account(&mut tx, &id, sealed, new, AcmeAccountStatus::Pending)
            .await?;
        tx.commit().await?;
        self.acme_account(&new.name).await
    }

    /// Record the account URL the CA assigned to a `pending` account and its
    /// final credentials; the account becomes `valid`.
    pub async fn finish_acme_registration(
        &self,
        account: &AcmeAccountRecord,
        account_url: &str,
        credentials_json: &[u8],
    ) -> Result<AcmeAccountRecord, StoreError> {
        let sealed = self
            .key
            .seal(credentials_json, &acme_context(&account.id))?;
        let message = format!("ACME account {:?} created at {account_url}", account.name);
        let entry = LogEntry::general("acme-account-created", &message);
        let mut tx = self.begin_logged(entry).await?;
        self.rows
            .check_in(&mut tx, &ACME_ACCOUNTS, &account.id)
            .await?;
        sqlx::query(
            "UPDATE acme_accounts SET account_url = $1, sealed_credentials = $2, status = 'valid', \
             updated_at = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(account_url)
        .bind(sealed)
        .bind(now())
        .bind(&account.id)
        .execute(&mut **tx)
        .await?;
        self.rows
            .stamp(&mut tx, &ACME_ACCOUNTS, &account.id)
            .await?;
        tx.commit().await?;
        self.acme_account(&account.name).await
    }

    /// Remove a `pending` account the CA refused to register (nothing was
    /// created at the CA); other accounts are left alone.
    pub async fn forget_pending_acme_account(
        &self,
        account: &AcmeAccountRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM acme_accounts WHERE id = $1 AND status = 'pending'")
            .bind(&account.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
