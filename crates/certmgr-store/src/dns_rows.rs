//! DNS accounts, the TXT journal and imported provider definitions: the
//! rows that decide where a DNS provider token is sent. Each is
//! authenticated (`integrity`), and the journal's captures (provider answers,
//! formula temporaries) are sealed, bound to their entry.

use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::integrity::{
    DNS_ACCOUNTS, DNS_PROVIDERS, TXT_JOURNAL, captures_context, column_list, sealed_bytes,
    sealed_text,
};
use super::{LogEntry, Store, corrupt, fetch_named, new_id, not_found, now};
use crate::StoreError;
use crate::model::{DnsAccountRecord, NewDnsAccount, TxtJournal, TxtJournalEntry};

/// Associated data of a DNS account's sealed parameters.
fn dns_context(account_id: &str) -> String {
    format!("dns_accounts/{account_id}/params")
}

/// Which TXT journal entries a read selects (always oldest first).
enum JournalFilter<'a> {
    /// Every entry.
    All,
    /// The entries of one record name.
    RecordName(&'a str),
    /// The entries of one TXT value.
    Value(&'a str),
}

impl Store {
    /// Store a DNS account (parameters sealed).
    pub async fn create_dns_account(
        &self,
        new: &NewDnsAccount<'_>,
    ) -> Result<DnsAccountRecord, StoreError> {
        let id = new_id();
        let sealed = self.key.seal(new.params_json, &dns_context(&id))?;
        let zones =
            serde_json::to_string(&new.zones).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let message = format!(
            "DNS account {:?} ({}) created for {}",
            new.name,
            new.provider,
            new.zones.join(", ")
        );
        let entry = LogEntry::general("dns-account-created", &message);
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query(
            "INSERT INTO dns_accounts (id, name, provider, zones, sealed_params, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(&new.provider)
        .bind(zones)
        .bind(sealed)
        .bind(now())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "DNS account", &new.name))?;
        self.rows.stamp(&mut tx, &DNS_ACCOUNTS, &id).await?;
        tx.commit().await?;
        self.dns_account(&new.name).await
    }

    /// Replaces a DNS account's sealed parameters (e.g. a zone id a Domino
    /// formula looked up and stored with `@SetField`); `why` goes to the event.
    pub async fn update_dns_account_params(
        &self,
        account: &DnsAccountRecord,
        params_json: &[u8],
        why: &str,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(params_json, &dns_context(&account.id))?;
        let message = format!("DNS account {:?}: {why}", account.name);
        let entry = LogEntry::general("dns-account-updated", &message);
        let mut tx = self.begin_logged(entry).await?;
        if !self
            .rows
            .check_in(&mut tx, &DNS_ACCOUNTS, &account.id)
            .await?
        {
            return Err(not_found("DNS account", &account.name));
        }
        sqlx::query("UPDATE dns_accounts SET sealed_params = $1, updated_at = $2 WHERE id = $3")
            .bind(sealed)
            .bind(now())
            .bind(&account.id)
            .execute(&mut **tx)
            .await?;
        self.rows.stamp(&mut tx, &DNS_ACCOUNTS, &account.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The DNS account named `name` (refused if its row fails its integrity check).
    pub async fn dns_account(&self, name: &str) -> Result<DnsAccountRecord, StoreError> {
        let query = sqlx::query(
            "SELECT id, name, provider, zones, sealed_params, created_at, mac FROM dns_accounts WHERE name = $1",
        )
        .bind(name);
        fetch_named(&self.pool, query, ("DNS account", name), |row| {
            self.dns_account_from_row(row)
        })
        .await
    }

    /// Every DNS account, by name (an error if any row fails its integrity check).
    pub async fn list_dns_accounts(&self) -> Result<Vec<DnsAccountRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, provider, zones, sealed_params, created_at, mac FROM dns_accounts ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.dns_account_from_row(r)).collect()
    }

    fn dns_account_from_row(&self, row: &AnyRow) -> Result<DnsAccountRecord, StoreError> {
        self.rows.check(&DNS_ACCOUNTS, row)?;
        let zones: String = row.try_get("zones")?;
        Ok(DnsAccountRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            provider: row.try_get("provider")?,
            zones: serde_json::from_str(&zones).map_err(|_| corrupt("zones", &zones))?,
            created_at: row.try_get("created_at")?,
            sealed_params: row.try_get("sealed_params")?,
        })
    }

    /// Delete a DNS account, also when its row fails its integrity check
    /// (the way out of one). Its journal entries go with it: their TXT
    /// records can no longer be deleted through it, so their names are
    /// returned for the owner to remove by hand. Refused while a running
    /// process (a live instance) has a record of the account in DNS.
    pub async fn delete_dns_account(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let live = self.live_instances().await?;
        let message = format!("DNS account {name:?} deleted");
        let entry = LogEntry::general("dns-account-deleted", &message);
        let mut tx = self.begin_logged(entry).await?;
        let query = sqlx::query("SELECT id FROM dns_accounts WHERE name = $1").bind(name);
        fetch_named(&mut **tx, query, ("DNS account", name), |_| Ok(())).await?;
        let rows = sqlx::query(
            "SELECT record_name, owner FROM txt_journal WHERE dns_account = $1 ORDER BY created_at, id",
        )
        .bind(name)
        .fetch_all(&mut **tx)
        .await?;
        let mut left = Vec::with_capacity(rows.len());
        for row in &rows {
            let record: String = row.try_get("record_name")?;
            let owner: Option<String> = row.try_get("owner")?;
            if owner.is_some_and(|o| live.contains(&o)) {
                return Err(StoreError::Conflict(format!(
                    "DNS account {name:?} is in use: a running issuance has its TXT record {record} in DNS; try again when it has finished"
                )));
            }
            left.push(record);
        }
        sqlx::query("DELETE FROM txt_journal WHERE dns_account = $1")
            .bind(name)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM dns_accounts WHERE name = $1")
            .bind(name)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(left)
    }

    /// Decrypt a DNS account's parameters (JSON object).
    pub fn unseal_dns_params(
        &self,
        account: &DnsAccountRecord,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key
            .open(&account.sealed_params, &dns_context(&account.id))
    }

    /// Journal a TXT record before it is created; returns the entry.
    pub async fn journal_txt(
        &self,
        dns_account: &str,
        zone: &str,
        record_name: &str,
        value: &str,
        owner: &str,
    ) -> Result<TxtJournalEntry, StoreError> {
        let entry = TxtJournalEntry {
            id: new_id(),
            dns_account: dns_account.to_owned(),
            zone: zone.to_owned(),
            record_name: record_name.to_owned(),
            value: value.to_owned(),
            captures: "{}".to_owned(),
            state: "adding".to_owned(),
            owner: Some(owner.to_owned()),
            created_at: now(),
        };
        let captures = self.seal_captures(&entry.id, &entry.captures)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO txt_journal (id, dns_account, zone, record_name, value, captures, state, \
             owner, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&entry.id)
        .bind(&entry.dns_account)
        .bind(&entry.zone)
        .bind(&entry.record_name)
        .bind(&entry.value)
        .bind(captures)
        .bind(&entry.state)
        .bind(entry.owner.clone())
        .bind(entry.created_at)
        .execute(&mut *tx)
        .await?;
        self.rows.stamp(&mut tx, &TXT_JOURNAL, &entry.id).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Record a journal entry's new state and captures (JSON, sealed here).
    /// A journal entry that fails its integrity check is refused, not rewritten.
    pub async fn update_txt_journal(
        &self,
        id: &str,
        state: &str,
        captures: &str,
    ) -> Result<(), StoreError> {
        let sealed = self.seal_captures(id, captures)?;
        let mut tx = self.begin_write().await?;
        if !self.rows.check_in(&mut tx, &TXT_JOURNAL, id).await? {
            return Ok(());
        }
        sqlx::query("UPDATE txt_journal SET state = $1, captures = $2 WHERE id = $3")
            .bind(state)
            .bind(sealed)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.rows.stamp(&mut tx, &TXT_JOURNAL, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remove a journal entry once its record is gone.
    pub async fn remove_txt_journal(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM txt_journal WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every journalled TXT record (to clean up after a crash), captures
    /// unsealed. An entry that fails its integrity check (or whose captures
    /// do not open) is not returned but listed in [`TxtJournal::refused`], so
    /// that one planted row neither gets used nor stops DNS-01 for the rest.
    pub async fn txt_journal(&self) -> Result<TxtJournal, StoreError> {
        self.read_journal(JournalFilter::All).await
    }

    /// The journalled TXT records named `record_name` (the values certmgr
    /// wants on that name now, for a provider that replaces the whole set),
    /// selected by the database rather than by reading the whole journal.
    /// Integrity as in [`Store::txt_journal`]: an entry of that name that
    /// fails its check is listed in [`TxtJournal::refused`], not returned.
    pub async fn txt_journal_for(&self, record_name: &str) -> Result<TxtJournal, StoreError> {
        self.read_journal(JournalFilter::RecordName(record_name))
            .await
    }

    /// The journalled TXT records whose value is `value` (a challenge's DNS
    /// value identifies its record wherever a CNAME put it: the cleanup
    /// deletes these), selected by the database. Integrity as in
    /// [`Store::txt_journal`]: an entry with that value that fails its check
    /// is listed in [`TxtJournal::refused`], not returned.
    pub async fn txt_journal_with_value(&self, value: &str) -> Result<TxtJournal, StoreError> {
        self.read_journal(JournalFilter::Value(value)).await
    }

    /// The journal entries `filter` selects, oldest first, each checked.
    async fn read_journal(&self, filter: JournalFilter<'_>) -> Result<TxtJournal, StoreError> {
        let (condition, bound) = match filter {
            JournalFilter::All => ("", None),
            JournalFilter::RecordName(name) => (" WHERE record_name = $1", Some(name)),
            JournalFilter::Value(value) => (" WHERE value = $1", Some(value)),
        };
        // Built from constants; the filter's value is bound.
        let sql = format!(
            "SELECT {}, mac FROM txt_journal{condition} ORDER BY created_at, id",
            column_list(&TXT_JOURNAL)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(bound) = bound {
            query = query.bind(bound);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut journal = TxtJournal::default();
        for row in &rows {
            match self.journal_entry(row) {
                Ok(entry) => journal.entries.push(entry),
                Err(e @ (StoreError::Tampered { .. } | StoreError::Unseal(_))) => {
                    journal.refused.push(e)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(journal)
    }

    fn journal_entry(&self, row: &AnyRow) -> Result<TxtJournalEntry, StoreError> {
        self.rows.check(&TXT_JOURNAL, row)?;
        let id: String = row.try_get("id")?;
        let stored: String = row.try_get("captures")?;
        let captures = self.open_captures(&id, &stored)?;
        Ok(TxtJournalEntry {
            id,
            dns_account: row.try_get("dns_account")?,
            zone: row.try_get("zone")?,
            record_name: row.try_get("record_name")?,
            value: row.try_get("value")?,
            captures,
            state: row.try_get("state")?,
            owner: row.try_get("owner")?,
            created_at: row.try_get("created_at")?,
        })
    }

    fn seal_captures(&self, id: &str, captures: &str) -> Result<String, StoreError> {
        let sealed = self.key.seal(captures.as_bytes(), &captures_context(id))?;
        Ok(sealed_text(&sealed))
    }

    fn open_captures(&self, id: &str, stored: &str) -> Result<String, StoreError> {
        let context = captures_context(id);
        let sealed = sealed_bytes(stored).ok_or_else(|| StoreError::Unseal(context.clone()))?;
        let plain = self.key.open(&sealed, &context)?;
        String::from_utf8(plain.to_vec()).map_err(|_| StoreError::Unseal(context))
    }

    // ----- imported DNS provider definitions ---------------------------------

    /// Store an imported provider definition (already validated by the caller).
    pub async fn import_dns_provider(
        &self,
        id: &str,
        source: &str,
        file_name: &str,
    ) -> Result<(), StoreError> {
        let message = format!("DNS provider {id:?} imported from {file_name}");
        let entry = LogEntry::general("dns-provider-imported", &message);
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query(
            "INSERT INTO dns_providers (id, source, file_name, imported_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(source)
        .bind(file_name)
        .bind(now())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "DNS provider", id))?;
        self.rows.stamp(&mut tx, &DNS_PROVIDERS, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An imported provider definition: its source text and file name
    /// (refused if its row fails its integrity check).
    pub async fn dns_provider_source(
        &self,
        id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT id, source, file_name, mac FROM dns_providers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            self.rows.check(&DNS_PROVIDERS, &r)?;
            Ok((r.try_get("source")?, r.try_get("file_name")?))
        })
        .transpose()
    }

    /// The ids of every imported provider definition (an error if any row
    /// fails its integrity check).
    pub async fn imported_dns_providers(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id, source, file_name, mac FROM dns_providers ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                self.rows.check(&DNS_PROVIDERS, r)?;
                Ok(r.try_get("id")?)
            })
            .collect()
    }
}
