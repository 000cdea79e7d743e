//! Sorting a DXL file's documents into what certmgr keeps: provider
//! configurations, DNS accounts and ACME accounts.

use super::provider::{
    ACCOUNT_FIELDS, ACCOUNT_FORM, ACME_FORM, CONFIG_FORM, DxlDefinition, provider_id,
};
use super::reader::{DxlDocument, read_dxl};
use crate::error::DnsError;

/// A Domino `DnsProvider` document: which configuration serves which
/// registered domain, with the account's fields.
#[derive(Debug, Clone)]
pub struct DxlAccount {
    /// Provider id of its configuration (`DnsProviderConfigName` as an id).
    pub provider: String,
    /// `RegisteredDomain`: the zone it serves.
    pub zone: String,
    /// `AccountName`: the ACME account it is meant for (may be empty).
    pub acme_account: String,
    /// Non-empty `cfg_*` account fields: `(name, value, secret)`.
    pub fields: Vec<(String, String, bool)>,
}

/// A Domino `AcmeAccount` document with a directory URL.
#[derive(Debug, Clone)]
pub struct DxlAcmeAccount {
    /// `AccountName`.
    pub name: String,
    /// `AcmeDirectoryURL`.
    pub directory: String,
    /// `AcmeEmailAddress` (may be empty).
    pub email: String,
    /// `ReqKeyAlg`: `E` (ECDSA) or `R` (RSA).
    pub key_alg: String,
    /// `ReqKeyCurve`, e.g. `P256`.
    pub key_curve: String,
    /// `ReqKeySize`, e.g. `2048`.
    pub key_size: String,
    /// `AcmeEabKid` (may be empty).
    pub eab_kid: String,
    /// `AcmeEabHmac` (may be empty; a secret).
    pub eab_hmac: String,
    /// `AcmeAgreeToServiceTerms` = 1.
    pub agree_tos: bool,
}

/// Everything a DXL file holds that certmgr can use.
#[derive(Debug, Clone, Default)]
pub struct DxlImport {
    /// `DnsProviderConfig` documents.
    pub providers: Vec<DxlDefinition>,
    /// `DnsProvider` documents.
    pub accounts: Vec<DxlAccount>,
    /// `AcmeAccount` documents with a directory URL.
    pub acme_accounts: Vec<DxlAcmeAccount>,
    /// Documents left out, with why (other forms, ACME accounts without a directory).
    pub skipped: Vec<String>,
}

/// Reads a DXL file and validates every provider configuration in it; an
/// invalid one fails the whole import.
pub fn read_import(text: &str, file: &str) -> Result<DxlImport, DnsError> {
    let mut out = DxlImport::default();
    for (n, doc) in read_dxl(text, file)?.into_iter().enumerate() {
        match doc.form.as_str() {
            CONFIG_FORM => out.providers.push(DxlDefinition::from_document(doc, file)?),
            ACCOUNT_FORM => out.accounts.push(account(&doc, file, n)?),
            ACME_FORM => match acme_account(&doc) {
                Some(a) => out.acme_accounts.push(a),
                None => out.skipped.push(format!(
                    "document {} (AcmeAccount {:?}): no AcmeDirectoryURL",
                    n + 1,
                    doc.text("AccountName")
                )),
            },
            other => out.skipped.push(format!(
                "document {} (form {other:?}): not a DNS or ACME document",
                n + 1
            )),
        }
    }
    Ok(out)
}

fn account(doc: &DxlDocument, file: &str, n: usize) -> Result<DxlAccount, DnsError> {
    let invalid = |item: &str, message: &str| DnsError::Invalid {
        file: file.to_string(),
        location: format!("document {} (form \"DnsProvider\") item {item:?}", n + 1),
        message: message.to_string(),
    };
    let provider = provider_id(&doc.text("DnsProviderConfigName"));
    if provider.is_empty() {
        return Err(invalid(
            "DnsProviderConfigName",
            "empty; name the configuration this account uses",
        ));
    }
    let zone = doc.text("RegisteredDomain").trim().to_ascii_lowercase();
    if zone.is_empty() {
        return Err(invalid(
            "RegisteredDomain",
            "empty; name the domain this account serves",
        ));
    }
    let fields = ACCOUNT_FIELDS
        .iter()
        .filter_map(|(name, secret, _)| {
            let item = doc.item(name)?;
            let v = item.value.joined();
            (!v.is_empty()).then(|| (name.to_string(), v, *secret || item.sealed))
        })
        .collect();
    Ok(DxlAccount {
        provider,
        zone,
        acme_account: doc.text("AccountName"),
        fields,
    })
}

fn acme_account(doc: &DxlDocument) -> Option<DxlAcmeAccount> {
    let directory = doc.text("AcmeDirectoryURL").trim().to_string();
    if directory.is_empty() {
        return None;
    }
    Some(DxlAcmeAccount {
        name: doc.text("AccountName").trim().to_string(),
        directory,
        email: doc.text("AcmeEmailAddress").trim().to_string(),
        key_alg: doc.text("ReqKeyAlg").trim().to_string(),
        key_curve: doc.text("ReqKeyCurve").trim().to_string(),
        key_size: doc.text("ReqKeySize").trim().to_string(),
        eab_kid: doc.text("AcmeEabKid").trim().to_string(),
        eab_hmac: doc.text("AcmeEabHmac").trim().to_string(),
        agree_tos: doc.text("AcmeAgreeToServiceTerms").trim() == "1",
    })
}
