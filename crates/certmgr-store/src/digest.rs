//! The content digest: one SHA-256 over every row of every table, so that
//! two stores (a backup and its source, a store before and after a refused
//! operation) can be compared.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use crate::StoreError;

impl Store {
    /// A SHA-256 digest over every row of every table, in a fixed order.
    ///
    /// Two equal digests mean two equal stores: use it to check a backup or to
    /// prove that a refused operation changed nothing.
    pub async fn content_digest(&self) -> Result<String, StoreError> {
        let mut hasher = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for (table, query) in DIGEST_QUERIES {
            hasher.update(table.as_bytes());
            let rows = sqlx::query(*query).fetch_all(&self.pool).await?;
            for row in rows {
                hasher.update(b"\x1erow");
                for index in 0..row.len() {
                    hasher.update(b"\x1f");
                    hash_value(&mut hasher, &row, index)?;
                }
            }
        }
        Ok(hex::encode(hasher.finish().as_ref()))
    }
}

/// Each table with a query listing all its columns in a stable order.
const DIGEST_QUERIES: &[(&str, &str)] = &[
    ("meta", "SELECT key, value FROM meta ORDER BY key"),
    (
        "credential_tags",
        "SELECT id, credential_id, tag_key, tag_value, mac FROM credential_tags ORDER BY id",
    ),
    (
        "users",
        "SELECT id, name, password_hash, role, scope_key, scope_value, created_at, disabled_at, mac \
         FROM users ORDER BY id",
    ),
    (
        // When a token was last used is bookkeeping, not content.
        "api_tokens",
        "SELECT id, name, secret_hash, role, scope_key, scope_value, created_at, expires_at, \
         revoked_at, mac FROM api_tokens ORDER BY id",
    ),
    (
        // Not `due_at`: the due index is derived from the other columns (and
        // the keys' expiry), like an index of the database's own (`due`).
        "credentials",
        "SELECT id, name, hostnames, key_specs, issuer, status, health, last_error, validity_days, \
         renew_before_days, challenge, profile, preferred_chain, dns_account, challenge_alias, renew_at, \
         ari_next_check, failure_count, next_attempt_at, \
         current_version, created_at, updated_at, mac FROM credentials ORDER BY id",
    ),
    (
        "credential_keys",
        "SELECT credential_id, version, family, key_spec, sealed_key, cert_der, chain_der, root_der, \
         serial, fingerprint, not_before, not_after, source, created_at FROM credential_keys \
         ORDER BY credential_id, version, family",
    ),
    (
        "events",
        "SELECT id, credential_id, credential_name, at, kind, message FROM events ORDER BY id",
    ),
    (
        "cas",
        "SELECT id, name, key_spec, root_der, sealed_root_key, intermediate_der, sealed_intermediate_key, \
         not_after, created_at FROM cas ORDER BY id",
    ),
    (
        "acme_accounts",
        "SELECT id, name, ca_id, directory_url, account_url, contacts, eab_kid, sealed_credentials, \
         ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, created_at, updated_at, \
         mac FROM acme_accounts ORDER BY id",
    ),
    (
        "acme_orders",
        "SELECT id, credential_id, family, key_spec, sealed_key, order_url, created_at, mac \
         FROM acme_orders ORDER BY id",
    ),
    (
        "dns_accounts",
        "SELECT id, name, provider, zones, sealed_params, created_at, updated_at, mac FROM dns_accounts \
         ORDER BY id",
    ),
    (
        "txt_journal",
        "SELECT id, dns_account, zone, record_name, value, captures, state, owner, created_at, mac \
         FROM txt_journal ORDER BY id",
    ),
    (
        "dns_providers",
        "SELECT id, source, file_name, imported_at, mac FROM dns_providers ORDER BY id",
    ),
    (
        // Not `last_digest_at`: when the last digest went out is bookkeeping.
        "notify_channels",
        "SELECT id, name, kind, settings, sealed_secrets, enabled, created_at, updated_at, mac \
         FROM notify_channels ORDER BY id",
    ),
    (
        "notices",
        "SELECT id, dedupe_key, credential_id, credential_name, event, threshold_days, version, \
         not_after, message, created_at FROM notices ORDER BY id",
    ),
    (
        "notice_deliveries",
        "SELECT notice_id, channel_id, channel_name, state, attempts, next_attempt_at, last_error, \
         sent_at FROM notice_deliveries ORDER BY notice_id, channel_id",
    ),
    (
        "trust_anchors",
        "SELECT fingerprint, subject, der, is_root, not_after, added_at FROM trust_anchors ORDER BY fingerprint",
    ),
];

fn hash_value(
    hasher: &mut aws_lc_rs::digest::Context,
    row: &AnyRow,
    index: usize,
) -> Result<(), StoreError> {
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        hasher.update(format!("i{value:?}").as_bytes());
    } else if let Ok(value) = row.try_get::<Option<String>, _>(index) {
        hasher.update(format!("s{value:?}").as_bytes());
    } else {
        let value: Option<Vec<u8>> = row.try_get(index)?;
        hasher.update(b"b");
        hasher.update(value.as_deref().unwrap_or(b"\0null"));
    }
    Ok(())
}
