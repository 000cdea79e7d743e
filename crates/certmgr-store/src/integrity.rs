//! Row integrity: the columns that decide where a secret is sent, or what
//! the challenge server answers, are authenticated with a key derived from
//! the master key, so that SQL write access alone (a shared PostgreSQL) is
//! not enough to redirect anything.
//!
//! Each covered table has a `mac` column (migration 0013): HMAC-SHA256 under
//! the *row key* (HMAC-SHA256 of the master key with [`ROW_KEY_LABEL`],
//! separate from the sealing key) over the table name and the covered
//! columns, each length-prefixed. Every read that uses a row checks it; a row
//! that fails is refused with [`StoreError::Tampered`], naming the table and
//! the row. Every write stamps the row again from what the database holds,
//! inside the write's transaction; an update first checks the row it changes,
//! so certmgr never launders a tampered row by rewriting it.
//!
//! Upgrade: a store from before row MACs has the version 1 key check in
//! `meta`. On the first open with the master key, one transaction swaps it
//! for version 2 (compare-and-swap, so one process does it), seals the
//! journal's captures that were in clear and stamps every row. A store with
//! the version 2 check never stamps rows wholesale again: a row someone adds
//! with SQL afterwards stays refused. Forging the version 1 check takes the
//! master key (it is sealed); replaying one from a copy of the database made
//! before the upgrade is the remaining way, and needs such a copy.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, Tx};
use crate::{MasterKey, StoreError};

/// Label of the row key's derivation from the master key.
const ROW_KEY_LABEL: &[u8] = b"certmgr row integrity v1";
/// Plaintext of the key check of stores from before row MACs.
const KEY_CHECK_V1: &[u8] = b"certmgr master key check v1";
/// Plaintext of the key check of stores whose rows carry MACs.
const KEY_CHECK_V2: &[u8] = b"certmgr master key check v2: rows authenticated";
/// Associated data of the key check.
const KEY_CHECK_CONTEXT: &str = "meta/key_check";
/// Prefix of a sealed value kept in a text column (base64 follows).
const SEALED_TEXT_PREFIX: &str = "sealed:";

/// How a covered column is read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// TEXT, possibly NULL.
    Text,
    /// BIGINT, possibly NULL.
    Int,
    /// BLOB / BYTEA, possibly NULL.
    Bytes,
}

/// A table whose rows carry a `mac` column.
pub(super) struct Covered {
    /// The table.
    pub(super) table: &'static str,
    /// Its primary key column (text).
    pub(super) key: &'static str,
    /// The column that names a row in messages (one of `columns`).
    pub(super) label: &'static str,
    /// The authenticated columns, in MAC order.
    pub(super) columns: &'static [(&'static str, Kind)],
    /// What the owner of the store does about a row that fails its check.
    pub(super) remedy: &'static str,
}

#[path = "integrity/tables.rs"]
mod tables;
pub(super) use tables::*;

/// One column's value as the MAC sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value<'a> {
    /// TEXT (NULL is `None`).
    Text(Option<&'a str>),
    /// BIGINT (NULL is `None`).
    Int(Option<i64>),
    /// BLOB (NULL is `None`).
    Bytes(Option<&'a [u8]>),
}

/// Owned column values read from a row.
enum Owned {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
}

impl Owned {
    fn read(row: &AnyRow, column: &str, kind: Kind) -> Result<Owned, StoreError> {
        Ok(match kind {
            Kind::Text => Owned::Text(row.try_get(column)?),
            Kind::Int => Owned::Int(row.try_get(column)?),
            Kind::Bytes => Owned::Bytes(row.try_get(column)?),
        })
    }

    fn value(&self) -> Value<'_> {
        match self {
            Owned::Text(v) => Value::Text(v.as_deref()),
            Owned::Int(v) => Value::Int(*v),
            Owned::Bytes(v) => Value::Bytes(v.as_deref()),
        }
    }
}

/// The key that authenticates rows. Never printed.
pub(super) struct RowKey {
    key: hmac::Key,
}

impl fmt::Debug for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RowKey(<redacted>)")
    }
}

impl RowKey {
    /// Derive the row key from the master key.
    pub(super) fn derive(master: &MasterKey) -> RowKey {
        let bytes = master.derive(ROW_KEY_LABEL);
        RowKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes.as_ref()),
        }
    }

    fn context(&self, table: &str, values: &[(&str, Value<'_>)]) -> hmac::Context {
        let mut ctx = hmac::Context::with_key(&self.key);
        let field = |ctx: &mut hmac::Context, bytes: &[u8]| {
            ctx.update(&(bytes.len() as u64).to_be_bytes());
            ctx.update(bytes);
        };
        field(&mut ctx, table.as_bytes());
        for (column, value) in values {
            field(&mut ctx, column.as_bytes());
            match value {
                Value::Text(None) | Value::Int(None) | Value::Bytes(None) => ctx.update(b"N"),
                Value::Text(Some(text)) => {
                    ctx.update(b"T");
                    field(&mut ctx, text.as_bytes());
                }
                Value::Int(Some(int)) => {
                    ctx.update(b"I");
                    ctx.update(&int.to_be_bytes());
                }
                Value::Bytes(Some(bytes)) => {
                    ctx.update(b"B");
                    field(&mut ctx, bytes);
                }
            }
        }
        ctx
    }

    /// The MAC (hex) of a row of `spec.table` with these column values.
    pub(super) fn tag(&self, spec: &Covered, values: &[(&str, Value<'_>)]) -> String {
        hex::encode(self.context(spec.table, values).sign().as_ref())
    }

    /// Check `mac` against the column values; `label` names the row.
    pub(super) fn verify(
        &self,
        spec: &Covered,
        values: &[(&str, Value<'_>)],
        mac: Option<&str>,
        label: &str,
    ) -> Result<(), StoreError> {
        let expected = self.context(spec.table, values).sign();
        let given = mac.and_then(|m| hex::decode(m).ok()).unwrap_or_default();
        // Constant time: aws-lc's verify compares the tags so.
        if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), &given).is_ok() {
            Ok(())
        } else {
            Err(StoreError::Tampered {
                table: spec.table,
                row: printable(label),
                remedy: spec.remedy,
            })
        }
    }

    /// Check a row read with all of `spec`'s columns and `mac`.
    pub(super) fn check(&self, spec: &Covered, row: &AnyRow) -> Result<(), StoreError> {
        let owned = read_columns(spec, row)?;
        let values = values_of(spec, &owned);
        let mac: Option<String> = row.try_get("mac")?;
        let label = match owned
            .iter()
            .zip(spec.columns)
            .find(|(_, (name, _))| *name == spec.label)
        {
            Some((Owned::Text(Some(text)), _)) => text.clone(),
            _ => String::from("?"),
        };
        self.verify(spec, &values, mac.as_deref(), &label)
    }

    /// Compute and write the MAC of the row `key` of `spec.table` from what
    /// the database holds now (call after the write, in its transaction).
    pub(super) async fn stamp(
        &self,
        tx: &mut Tx<'_>,
        spec: &Covered,
        key: &str,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(select_one(spec, false)))
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else {
            return Ok(());
        };
        self.write_mac(tx, spec, key, &row).await
    }

    async fn write_mac(
        &self,
        tx: &mut Tx<'_>,
        spec: &Covered,
        key: &str,
        row: &AnyRow,
    ) -> Result<(), StoreError> {
        let owned = read_columns(spec, row)?;
        let tag = self.tag(spec, &values_of(spec, &owned));
        // Built from constants: the values are bound.
        let sql = format!("UPDATE {} SET mac = $1 WHERE {} = $2", spec.table, spec.key);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tag)
            .bind(key)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Read the row `key` of `spec.table` in the transaction and check it
    /// (before changing it). `Ok(false)` when there is no such row.
    pub(super) async fn check_in(
        &self,
        tx: &mut Tx<'_>,
        spec: &Covered,
        key: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(select_one(spec, true)))
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some(row) => self.check(spec, &row).map(|()| true),
            None => Ok(false),
        }
    }
}

fn read_columns(spec: &Covered, row: &AnyRow) -> Result<Vec<Owned>, StoreError> {
    spec.columns
        .iter()
        .map(|(column, kind)| Owned::read(row, column, *kind))
        .collect()
}

fn values_of<'a>(spec: &Covered, owned: &'a [Owned]) -> Vec<(&'static str, Value<'a>)> {
    spec.columns
        .iter()
        .zip(owned)
        .map(|((column, _), value)| (*column, value.value()))
        .collect()
}

/// `SELECT` of the covered columns (and `mac`) of one row by its key.
fn select_one(spec: &Covered, with_mac: bool) -> String {
    format!(
        "SELECT {}{} FROM {} WHERE {} = $1",
        column_list(spec),
        if with_mac { ", mac" } else { "" },
        spec.table,
        spec.key
    )
}

/// The covered columns of `spec`, comma-separated, for a `SELECT`.
pub(super) fn column_list(spec: &Covered) -> String {
    let names: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
    names.join(", ")
}

/// A row label fit for a message: control characters escaped, at most 80
/// characters (a planted row chooses its own name).
fn printable(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars().take(80) {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A sealed value as text (`sealed:` + base64), for a TEXT column.
pub(super) fn sealed_text(sealed: &[u8]) -> String {
    format!("{SEALED_TEXT_PREFIX}{}", BASE64.encode(sealed))
}

/// The sealed bytes of a value written by [`sealed_text`]; `None` for
/// anything else (such as text in clear).
pub(super) fn sealed_bytes(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.strip_prefix(SEALED_TEXT_PREFIX)?).ok()
}

/// Associated data of a journal entry's sealed captures.
pub(super) fn captures_context(journal_id: &str) -> String {
    format!("txt_journal/{journal_id}/captures")
}

impl Store {
    /// Check that the master key opens this store, adopt it for a new one,
    /// and bring a store from before row MACs up to date (once).
    pub(super) async fn check_master_key(&self) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'key_check'")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => {
                let sealed: Vec<u8> = row.try_get("value")?;
                match self.key.open(&sealed, KEY_CHECK_CONTEXT) {
                    Ok(plain) if plain.as_slice() == KEY_CHECK_V2 => Ok(()),
                    Ok(plain) if plain.as_slice() == KEY_CHECK_V1 => {
                        if !self.authenticate_old_rows(&sealed).await? {
                            // Another process did it meanwhile: check again.
                            return Box::pin(self.check_master_key()).await;
                        }
                        Ok(())
                    }
                    _ => Err(StoreError::WrongMasterKey),
                }
            }
            None => {
                let sealed = self.key.seal(KEY_CHECK_V2, KEY_CHECK_CONTEXT)?;
                // A concurrent first open may have written it already; then check again.
                let inserted = sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
                )
                .bind(sealed)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if inserted == 0 {
                    Box::pin(self.check_master_key()).await
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The upgrade of a store from before row MACs, in one transaction:
    /// the key check becomes version 2 (only if it still is `old_check`),
    /// captures in clear are sealed, every covered row is stamped. Returns
    /// `false` when another process had already done it.
    async fn authenticate_old_rows(&self, old_check: &[u8]) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let swapped =
            sqlx::query("UPDATE meta SET value = $1 WHERE key = 'key_check' AND value = $2")
                .bind(self.key.seal(KEY_CHECK_V2, KEY_CHECK_CONTEXT)?)
                .bind(old_check.to_vec())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if swapped != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let journal = sqlx::query("SELECT id, captures FROM txt_journal")
            .fetch_all(&mut *tx)
            .await?;
        for row in journal {
            let id: String = row.try_get("id")?;
            let captures: String = row.try_get("captures")?;
            if sealed_bytes(&captures).is_none() {
                let sealed = self.key.seal(captures.as_bytes(), &captures_context(&id))?;
                sqlx::query("UPDATE txt_journal SET captures = $1 WHERE id = $2")
                    .bind(sealed_text(&sealed))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for spec in COVERED {
            // Built from constants.
            let sql = format!("SELECT {} FROM {}", column_list(spec), spec.table);
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let key: String = row.try_get(spec.key)?;
                self.rows.write_mac(&mut tx, spec, &key, &row).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_bind_table_columns_and_values_and_key() {
        let master = MasterKey::generate().unwrap();
        let rows = RowKey::derive(&master);
        let values = [
            ("id", Value::Text(Some("1"))),
            ("provider", Value::Text(Some("cloudflare"))),
            ("n", Value::Int(Some(3))),
            ("b", Value::Bytes(None)),
        ];
        let tag = rows.tag(&DNS_ACCOUNTS, &values);
        assert!(rows.verify(&DNS_ACCOUNTS, &values, Some(&tag), "x").is_ok());
        let mut moved = values.clone();
        moved[1].1 = Value::Text(Some("evil"));
        let err = rows
            .verify(&DNS_ACCOUNTS, &moved, Some(&tag), "cf")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "dns_accounts row 'cf' fails its integrity check: it was changed outside certmgr; delete the DNS account and create it again"
        );
        // NULL differs from empty, another table from this one.
        let mut empty = values.clone();
        empty[3].1 = Value::Bytes(Some(b""));
        assert!(rows.verify(&DNS_ACCOUNTS, &empty, Some(&tag), "x").is_err());
        assert!(rows.verify(&TXT_JOURNAL, &values, Some(&tag), "x").is_err());
        assert!(rows.verify(&DNS_ACCOUNTS, &values, None, "x").is_err());
        assert!(
            rows.verify(&DNS_ACCOUNTS, &values, Some("zz"), "x")
                .is_err()
        );
        // Another master key, another row key.
        let other = RowKey::derive(&MasterKey::generate().unwrap());
        assert!(
            other
                .verify(&DNS_ACCOUNTS, &values, Some(&tag), "x")
                .is_err()
        );
    }

    #[test]
    fn planted_labels_are_printed_safely() {
        assert_eq!(printable("cf"), "cf");
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(printable(&"x".repeat(200)).len(), 80);
    }

    #[test]
    fn sealed_text_round_trip() {
        assert_eq!(sealed_bytes(&sealed_text(b"\x01abc")).unwrap(), b"\x01abc");
        assert!(sealed_bytes("{\"url\":\"http://evil\"}").is_none());
    }
}
