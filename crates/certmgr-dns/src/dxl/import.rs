//! Sorting a DXL file's documents into what certmgr keeps: provider
//! configurations, DNS accounts and ACME accounts.

use super::provider::{
    ACCOUNT_FIELDS, ACCOUNT_FORM, ACME_FORM, CONFIG_FORM, DxlDefinition, MAX_DELAY_SECS,
    provider_id,
};
use super::reader::{DxlDocument, Item, ItemValue, read_dxl};
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
    /// What was changed on the way in (a propagation delay capped), one
    /// sentence each.
    pub warnings: Vec<String>,
}

/// Whether `c` could drive a terminal or disguise text when printed: C0 and
/// C1 controls (ESC), DEL, and bidi marks and overrides.
fn control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Checks a configuration document before it becomes a provider: names
/// without control characters, no secret values (a configuration is shared
/// and stored in clear), and the delay it asks for.
fn check_config(doc: &DxlDocument, file: &str, n: usize) -> Result<Option<String>, DnsError> {
    let location = |item: &str| format!("document {} (form {CONFIG_FORM:?}) item {item:?}", n + 1);
    for item in ["DnsProviderConfigName", "ProviderName"] {
        let name = doc.text(item);
        if name.chars().any(control) {
            return Err(DnsError::Invalid {
                file: file.to_string(),
                location: location(item),
                message: format!(
                    "{name:?} contains control characters (such as terminal escape sequences); remove them"
                ),
            });
        }
    }
    if let Some(item) = doc
        .items
        .iter()
        .find(|i| i.sealed && !i.value.joined().is_empty())
    {
        return Err(DnsError::Invalid {
            file: file.to_string(),
            location: location(&item.name),
            message: "the item is sealed (a secret) and has a value, but a provider configuration is stored and exported in clear; leave it empty here and give the value in the DNS account (DnsProvider document)".into(),
        });
    }
    let delay = match doc.item("cfg_DnsProviderDelay").map(|i| &i.value) {
        Some(ItemValue::Number(n)) => n.first().copied().unwrap_or(0.0),
        Some(other) => other.joined().trim().parse().unwrap_or(0.0),
        None => 0.0,
    };
    Ok((delay > MAX_DELAY_SECS as f64).then(|| {
        format!(
            "configuration {:?}: cfg_DnsProviderDelay of {delay} s is capped to {MAX_DELAY_SECS} s",
            doc.text("DnsProviderConfigName").trim()
        )
    }))
}

/// Seals, in the configuration `provider` of this file, the items the
/// account `account` seals, so that their values are secrets wherever the
/// configuration is used (redacted, left out of the journal).
fn seal_like_account(
    providers: &mut [DxlDefinition],
    account: &DxlAccount,
    file: &str,
) -> Result<(), DnsError> {
    let Some(provider) = providers.iter_mut().find(|p| p.id() == account.provider) else {
        return Ok(());
    };
    let mut doc = provider.document.clone();
    let mut changed = false;
    for (name, _, secret) in &account.fields {
        if !*secret
            || provider
                .parameters
                .iter()
                .any(|p| p.secret && p.name == *name)
        {
            continue;
        }
        match doc
            .items
            .iter_mut()
            .find(|i| i.name.eq_ignore_ascii_case(name))
        {
            Some(item) => item.sealed = true,
            None => doc.items.push(Item {
                name: name.clone(),
                value: ItemValue::Text(vec![String::new()]),
                sealed: true,
            }),
        }
        changed = true;
    }
    if changed {
        *provider = DxlDefinition::from_document(doc, file)?;
    }
    Ok(())
}

/// Reads a DXL file and validates every provider configuration in it; an
/// invalid one fails the whole import.
pub fn read_import(text: &str, file: &str) -> Result<DxlImport, DnsError> {
    let mut out = DxlImport::default();
    for (n, doc) in read_dxl(text, file)?.into_iter().enumerate() {
        match doc.form.as_str() {
            CONFIG_FORM => {
                if let Some(warning) = check_config(&doc, file, n)? {
                    out.warnings.push(warning);
                }
                out.providers.push(DxlDefinition::from_document(doc, file)?);
            }
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
    for account in &out.accounts {
        seal_like_account(&mut out.providers, account, file)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A minimal HTTP configuration with `extra` items, and `after` documents.
    fn config(extra: &str, after: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<!DOCTYPE database SYSTEM 'xmlschemas/domino_12_0_0.dtd'>\n\
             <database xmlns='http://www.lotus.com/dxl'><document form='DnsProviderConfig'>\
             <item name='DnsProviderConfigName'><text>Lab DNS</text></item>\
             <item name='DnsProviderType'><text>H</text></item>\
             <item name='ReqAddUrlFormula'><text>cfg_URL + \"/add\"</text></item>\
             <item name='ReqAddHttpType'><text>P</text></item>\
             {extra}</document>{after}</database>"
        )
    }

    #[test]
    fn a_long_provider_delay_is_capped_with_a_warning() {
        let import = read_import(
            &config(
                "<item name='cfg_DnsProviderDelay'><number>86400</number></item>",
                "",
            ),
            "slow.dxl",
        )
        .unwrap();
        assert_eq!(
            import.providers[0].provider.propagation_secs,
            MAX_DELAY_SECS
        );
        assert_eq!(
            import.warnings,
            vec![
                "configuration \"Lab DNS\": cfg_DnsProviderDelay of 86400 s is capped to 600 s"
                    .to_string()
            ]
        );
        let import = read_import(
            &config(
                "<item name='cfg_DnsProviderDelay'><number>20</number></item>",
                "",
            ),
            "ok.dxl",
        )
        .unwrap();
        assert_eq!(import.providers[0].provider.propagation_secs, 20);
        assert!(import.warnings.is_empty());
    }

    #[test]
    fn items_sealed_in_the_configuration_or_an_account_are_secret_parameters() {
        let account = "<document form='DnsProvider'>\
             <item name='RegisteredDomain'><text>lab.test</text></item>\
             <item name='DnsProviderConfigName'><text>Lab DNS</text></item>\
             <item name='cfg_UserName' seal='true'><text>me</text></item>\
             <item name='cfg_DnsZone'><text>z1</text></item></document>";
        let import = read_import(
            &config(
                "<item name='cfg_CustomValue' seal='true'><text/></item>",
                account,
            ),
            "sealed.dxl",
        )
        .unwrap();
        let secret = |name: &str| {
            import.providers[0]
                .parameters
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .secret
        };
        assert!(secret("cfg_CustomValue"), "sealed in the configuration");
        assert!(secret("cfg_UserName"), "sealed in the account");
        assert!(secret("cfg_AuthToken") && !secret("cfg_DnsZone"));
        // The export carries the seal, so the stored provider keeps it.
        let again =
            read_import(&super::super::export_dxl(&import.providers[0]), "again.dxl").unwrap();
        assert!(
            again.providers[0]
                .parameters
                .iter()
                .any(|p| p.name == "cfg_UserName" && p.secret)
        );
    }

    #[test]
    fn sealed_values_and_control_characters_in_a_configuration_are_refused() {
        let e = read_import(
            &config(
                "<item name='cfg_Key' seal='true'><text>s3cret</text></item>",
                "",
            ),
            "s.dxl",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("item \"cfg_Key\"") && e.contains("sealed") && !e.contains("s3cret"),
            "{e}"
        );
        let bad = config("", "").replace("Lab DNS", "Lab&#x9b;2J DNS");
        let e = read_import(&bad, "c.dxl").unwrap_err().to_string();
        assert!(
            e.contains("DnsProviderConfigName") && e.contains("control characters"),
            "{e}"
        );
        let bidi = config(
            "<item name='ProviderName'><text>x&#x202e;y</text></item>",
            "",
        );
        let e = read_import(&bidi, "b.dxl").unwrap_err().to_string();
        assert!(e.contains("ProviderName"), "{e}");
    }
}
