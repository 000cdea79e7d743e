//! Reading credential rows: one column list, one conversion to
//! [`CredentialRecord`], whether a row comes from SQL or, for listings, from
//! one JSON document the database assembles.
//!
//! Listing 10,000 credentials row by row spent most of its time handing each
//! row from SQLite's worker thread to the async side (a thread wake-up per
//! row) and converting it to sqlx's `Any` row; asking the database for the
//! whole list as one JSON text and parsing that is about twice as fast and
//! holds less memory (`bench/microca.sh`).

use serde::Deserialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::integrity::{CREDENTIALS, RowKey, Value};
use super::{Backend, Store, corrupt, days};
use crate::StoreError;
use crate::model::CredentialRecord;

/// The columns of a credential as stored (text not yet parsed). The fields'
/// order is that of the listing's arrays (`Store::list_where`).
#[derive(Deserialize)]
pub(super) struct CredentialColumns {
    id: String,
    name: String,
    hostnames: String,
    key_specs: String,
    issuer: String,
    status: String,
    health: String,
    last_error: Option<String>,
    validity_days: Option<i64>,
    renew_before_days: Option<i64>,
    challenge: Option<String>,
    profile: Option<String>,
    preferred_chain: Option<String>,
    dns_account: Option<String>,
    challenge_alias: Option<String>,
    renew_at: Option<i64>,
    ari_next_check: Option<i64>,
    failure_count: i64,
    next_attempt_at: Option<i64>,
    current_version: i64,
    created_at: i64,
    updated_at: i64,
    due_at: Option<i64>,
    not_after: Option<i64>,
    /// The row's MAC (`integrity`); absent from rows written before it.
    #[serde(default)]
    mac: Option<String>,
}

/// The columns of `credentials` read, in order (`not_after` is computed).
const COLUMNS: [&str; 23] = [
    "id",
    "name",
    "hostnames",
    "key_specs",
    "issuer",
    "status",
    "health",
    "last_error",
    "validity_days",
    "renew_before_days",
    "challenge",
    "profile",
    "preferred_chain",
    "dns_account",
    "challenge_alias",
    "renew_at",
    "ari_next_check",
    "failure_count",
    "next_attempt_at",
    "current_version",
    "created_at",
    "updated_at",
    "due_at",
];

/// The earliest expiry of the credential's current version.
pub(super) const NOT_AFTER: &str = "(SELECT MIN(k.not_after) FROM credential_keys k \
     WHERE k.credential_id = c.id AND k.version = c.current_version)";

impl CredentialColumns {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(CredentialColumns {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            hostnames: row.try_get("hostnames")?,
            key_specs: row.try_get("key_specs")?,
            issuer: row.try_get("issuer")?,
            status: row.try_get("status")?,
            health: row.try_get("health")?,
            last_error: row.try_get("last_error")?,
            validity_days: row.try_get("validity_days")?,
            renew_before_days: row.try_get("renew_before_days")?,
            challenge: row.try_get("challenge")?,
            profile: row.try_get("profile")?,
            preferred_chain: row.try_get("preferred_chain")?,
            dns_account: row.try_get("dns_account")?,
            challenge_alias: row.try_get("challenge_alias")?,
            renew_at: row.try_get("renew_at")?,
            ari_next_check: row.try_get("ari_next_check")?,
            failure_count: row.try_get("failure_count")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            current_version: row.try_get("current_version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            due_at: row.try_get("due_at")?,
            not_after: row.try_get("not_after")?,
            mac: row.try_get("mac")?,
        })
    }

    /// Check the row's MAC over the columns `integrity::CREDENTIALS` covers.
    pub(super) fn check(&self, rows: &RowKey) -> Result<(), StoreError> {
        let values = [
            ("id", Value::Text(Some(&self.id))),
            ("name", Value::Text(Some(&self.name))),
            ("hostnames", Value::Text(Some(&self.hostnames))),
            ("key_specs", Value::Text(Some(&self.key_specs))),
            ("issuer", Value::Text(Some(&self.issuer))),
            ("validity_days", Value::Int(self.validity_days)),
            ("renew_before_days", Value::Int(self.renew_before_days)),
            ("challenge", Value::Text(self.challenge.as_deref())),
            ("profile", Value::Text(self.profile.as_deref())),
            (
                "preferred_chain",
                Value::Text(self.preferred_chain.as_deref()),
            ),
            ("dns_account", Value::Text(self.dns_account.as_deref())),
            (
                "challenge_alias",
                Value::Text(self.challenge_alias.as_deref()),
            ),
        ];
        rows.verify(&CREDENTIALS, &values, self.mac.as_deref(), &self.name)
    }

    pub(super) fn into_record(self) -> Result<CredentialRecord, StoreError> {
        let parse = |what: &str, text: &str| corrupt(what, text);
        Ok(CredentialRecord {
            hostnames: serde_json::from_str(&self.hostnames)
                .map_err(|_| parse("hostnames", &self.hostnames))?,
            key_specs: serde_json::from_str(&self.key_specs)
                .map_err(|_| parse("key_specs", &self.key_specs))?,
            issuer: self
                .issuer
                .parse()
                .map_err(|_| parse("issuer", &self.issuer))?,
            status: self
                .status
                .parse()
                .map_err(|_| parse("status", &self.status))?,
            health: self
                .health
                .parse()
                .map_err(|_| parse("health", &self.health))?,
            challenge: match self.challenge {
                Some(text) => Some(text.parse().map_err(|_| parse("challenge", &text))?),
                None => None,
            },
            id: self.id,
            name: self.name,
            last_error: self.last_error,
            validity_days: days(self.validity_days),
            renew_before_days: days(self.renew_before_days),
            profile: self.profile,
            preferred_chain: self.preferred_chain,
            dns_account: self.dns_account,
            challenge_alias: self.challenge_alias,
            renew_at: self.renew_at,
            ari_next_check: self.ari_next_check,
            failure_count: u32::try_from(self.failure_count).unwrap_or(u32::MAX),
            next_attempt_at: self.next_attempt_at,
            current_version: self.current_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            not_after: self.not_after,
            due_at: self.due_at,
        })
    }
}

/// `SELECT` of one credential's columns (add a `WHERE` on `c`).
pub(super) fn select_sql() -> String {
    let columns: Vec<String> = COLUMNS.iter().map(|c| format!("c.{c}")).collect();
    format!(
        "SELECT {}, {NOT_AFTER} AS not_after, c.mac FROM credentials c",
        columns.join(", ")
    )
}

/// A value bound into a listing's table expression.
enum Bind<'a> {
    Int(i64),
    Text(&'a str),
}

impl Store {
    /// Every credential, by name.
    pub async fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        self.list_from("credentials c", &[]).await
    }

    /// The credentials whose due time (`due_at`) has come by `now`, ordered by
    /// name: a range scan of the due index, whatever the store's size.
    /// The renewal planner still decides about each; a credential whose
    /// due time is later than its inputs allow is not among them (the
    /// planner's full pass, [`CredentialRecord::expected_due_at`], finds it).
    pub async fn due_credentials(&self, now: i64) -> Result<Vec<CredentialRecord>, StoreError> {
        self.list_from("credentials c WHERE c.due_at <= $1", &[Bind::Int(now)])
            .await
    }

    /// Up to `limit` credentials (all without one) whose names sort after
    /// `after` (from the first without it), by name: a page of a listing,
    /// read with the name index instead of the whole table.
    pub async fn credentials_after(
        &self,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        self.list_from(
            "(SELECT * FROM credentials WHERE name > $1 ORDER BY name LIMIT $2) c",
            &[
                Bind::Text(after.unwrap_or("")),
                Bind::Int(limit.map_or(i64::MAX, i64::from)),
            ],
        )
        .await
    }

    /// The credentials of `from` (a constant table expression named `c`,
    /// binding `binds` as `$1`, `$2`, ...), ordered by name, read as one
    /// JSON document.
    async fn list_from(
        &self,
        from: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        // The same SQL on both backends but for the JSON functions' names.
        // Each row is an array, in the order of `CredentialColumns`' fields
        // (`COLUMNS`, `not_after`, `mac`), which serde reads as the struct:
        // half the text of an object per row, and half the time. SQLite's
        // order by name (BINARY: byte order) is Rust's: sorted here, as its
        // aggregate's ORDER BY copies every row into a temporary b-tree
        // that spills to a file past a few MB (100,000 credentials: 0.3 s).
        // PostgreSQL's collation may differ: it sorts.
        let (row, array, order) = match self.backend {
            Backend::Sqlite => ("json_array", "json_group_array", ""),
            Backend::Postgres => ("json_build_array", "json_agg", " ORDER BY c.name"),
        };
        let fields: Vec<String> = COLUMNS.iter().map(|c| format!("c.{c}")).collect();
        let sql = format!(
            "SELECT CAST(COALESCE({array}({row}({}, {NOT_AFTER}, c.mac){order}), \
             '[]') AS TEXT) AS list FROM {from}",
            fields.join(", ")
        );
        // Built from the constant column list above and a constant table
        // expression: no user input (the values are bound).
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.to_string()),
            };
        }
        let text: String = query.fetch_one(&self.pool).await?;
        let mut rows: Vec<CredentialColumns> = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("credential list: {e}")))?;
        drop(text);
        if self.backend == Backend::Sqlite {
            rows.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        }
        rows.into_iter()
            .map(|columns| {
                columns.check(&self.rows)?;
                columns.into_record()
            })
            .collect()
    }
}
