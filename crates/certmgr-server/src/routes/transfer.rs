//! Keys and certificates in and out of a credential: the manual flow's
//! CSR, imports (PEM or PKCS#12) and exports (PEM or PKCS#12, audited).

use axum::extract::State;
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certmgr_core::KeyFamily;
use certmgr_engine::Hint;
use certmgr_engine::export::Format;
use certmgr_engine::import::{ImportOptions, ImportSummary};
use certmgr_pki::{Bundle, PkiError, read_pem_bundle, read_pkcs12};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::AppState;
use crate::extract::{JsonBody, PathParams};
use crate::gate::Caller;
use crate::problem::{ApiResult, Problem};

/// CSRs made for the manual flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrAnswer {
    /// One CSR (PEM) per key.
    csrs: Vec<CsrPem>,
    /// Whether the key of an earlier CSR was reused.
    reused_key: bool,
}

/// One CSR.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrPem {
    /// The key it is for.
    key_spec: certmgr_core::KeySpec,
    /// The CSR, PEM.
    pem: String,
}

/// Make a key and a CSR (manual flow); have it signed, then import it.
#[utoipa::path(post, path = "/api/credentials/{name}/csr", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = CsrAnswer), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn csr(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<CsrAnswer>> {
    let made = certmgr_engine::issuance::csr(&state.engine(), &name).await?;
    Ok(Json(CsrAnswer {
        csrs: made
            .csrs
            .into_iter()
            .map(|(key_spec, pem)| CsrPem { key_spec, pem })
            .collect(),
        reused_key: made.reused_key,
    }))
}

/// What to import: PEM (a certificate alone answers the CSR; with its key it
/// becomes a new version), or a PKCS#12 file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Certificate and chain, PEM (and the key, if it is in the same text).
    certificate_pem: Option<String>,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1; encrypted with `key_password`).
    key_pem: Option<String>,
    /// The password of an encrypted key.
    key_password: Option<String>,
    /// A PKCS#12 file, base64.
    pkcs12_base64: Option<String>,
    /// Its password.
    pkcs12_password: Option<String>,
    /// Keep an expired certificate (for the record).
    #[serde(default)]
    allow_expired: bool,
    /// Trust the root the bundle brings.
    #[serde(default)]
    trust_bundled_root: bool,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAnswer {
    /// The credential.
    name: String,
    /// The version holding the certificate.
    version: i64,
    /// The key family of the certificate.
    key: String,
    /// The credential's status now.
    status: certmgr_core::Status,
    /// What to know (an untrusted root kept, a hostname not covered).
    warnings: Vec<String>,
}

/// Import a certificate (with or without its key) or a PKCS#12 file.
#[utoipa::path(post, path = "/api/credentials/{name}/import", tag = "credentials", request_body = ImportBody,
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = ImportAnswer), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<ImportBody>,
) -> ApiResult<Json<ImportAnswer>> {
    let bundle = bundle(&body)?;
    let ImportSummary {
        version,
        family,
        status,
        warnings,
    } = certmgr_engine::import::import(
        &state.engine(),
        &name,
        bundle,
        ImportOptions {
            allow_expired: body.allow_expired,
            trust_bundled_root: body.trust_bundled_root,
        },
    )
    .await
    .map_err(|e| {
        // The fixes that are members of this body.
        let problem = Problem::from(e);
        match problem.fix {
            Some(Hint::TrustRoot) => problem.at("trust_bundled_root"),
            Some(Hint::AllowExpired) => problem.at("allow_expired"),
            _ => problem,
        }
    })?;
    Ok(Json(ImportAnswer {
        name,
        version,
        key: family,
        status,
        warnings,
    }))
}

fn bundle(body: &ImportBody) -> ApiResult<Bundle> {
    if let Some(data) = &body.pkcs12_base64 {
        let data = STANDARD
            .decode(data.trim())
            .map_err(|_| Problem::bad_input("pkcs12_base64 is not base64").at("pkcs12_base64"))?;
        let password = Zeroizing::new(body.pkcs12_password.clone().unwrap_or_default());
        return read_pkcs12(&data, &password).map_err(|e| {
            let field = match e {
                PkiError::WrongPassword { .. } | PkiError::PasswordRequired => "pkcs12_password",
                _ => "pkcs12_base64",
            };
            Problem::from(certmgr_engine::EngineError::from(e)).at(field)
        });
    }
    let Some(certificate) = &body.certificate_pem else {
        return Err(Problem::bad_input(
            "give certificate_pem (with key_pem for a key made elsewhere) or pkcs12_base64",
        )
        .at("certificate_pem"));
    };
    let mut text = certificate.clone();
    if let Some(key) = &body.key_pem {
        text.push('\n');
        text.push_str(key);
    }
    let password = body.key_password.as_ref().map(|p| p.as_bytes());
    let bundle = read_pem_bundle(text.as_bytes(), password).map_err(|e| {
        let field = match e {
            PkiError::WrongPassword { .. }
            | PkiError::PasswordRequired
            | PkiError::KdfTooCostly { .. } => "key_password",
            PkiError::BadKey { .. }
            | PkiError::UnsupportedKey { .. }
            | PkiError::MultipleKeys
            | PkiError::KeyMismatch => "key_pem",
            _ => "certificate_pem",
        };
        Problem::from(certmgr_engine::EngineError::from(e)).at(field)
    })?;
    if bundle.certs.is_empty() {
        return Err(
            Problem::bad_input("certificate_pem holds no certificate").at("certificate_pem")
        );
    }
    Ok(bundle)
}

/// How to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// `pem` or `pkcs12`.
    #[serde(default = "pem_format")]
    format: String,
    /// Only this key of a dual credential: rsa or ecdsa.
    key: Option<String>,
    /// The PKCS#12 file's password (required for pkcs12).
    password: Option<String>,
    /// PKCS#12 with the legacy algorithms older Windows and Java need.
    #[serde(default)]
    legacy: bool,
}

fn pem_format() -> String {
    "pem".to_owned()
}

/// One exported key with its certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedKeyAnswer {
    /// rsa or ecdsa.
    family: String,
    /// The certificate, PEM (pem format).
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_pem: Option<String>,
    /// The chain, PEM (pem format).
    #[serde(skip_serializing_if = "Option::is_none")]
    chain_pem: Option<String>,
    /// The root that anchors the chain, PEM, when known (pem format).
    #[serde(skip_serializing_if = "Option::is_none")]
    root_pem: Option<String>,
    /// The private key, PKCS#8 PEM (pem format).
    #[serde(skip_serializing_if = "Option::is_none")]
    key_pem: Option<String>,
    /// The PKCS#12 file, base64 (pkcs12 format).
    #[serde(skip_serializing_if = "Option::is_none")]
    pkcs12_base64: Option<String>,
}

/// Export the current keys with their certificates (audited).
#[utoipa::path(post, path = "/api/credentials/{name}/export", tag = "credentials", request_body = ExportBody,
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = Vec<ExportedKeyAnswer>), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<ExportBody>,
) -> ApiResult<Json<Vec<ExportedKeyAnswer>>> {
    let family = match body.key.as_deref() {
        None => None,
        Some("rsa") => Some(KeyFamily::Rsa),
        Some("ecdsa") => Some(KeyFamily::Ecdsa),
        Some(other) => {
            return Err(Problem::bad_input(format!(
                "key {other:?}: use rsa or ecdsa"
            )));
        }
    };
    let pkcs12 = match body.format.as_str() {
        "pem" => false,
        "pkcs12" => true,
        other => {
            return Err(Problem::bad_input(format!(
                "format {other:?}: use pem or pkcs12"
            )));
        }
    };
    let format = match (pkcs12, &body.password) {
        (true, None) => return Err(Problem::bad_input("format pkcs12 needs a password")),
        (true, Some(password)) => Format::Pkcs12 {
            password: Zeroizing::new(password.clone()),
            legacy: body.legacy,
        },
        (false, _) => Format::Pem,
    };
    let engine = state.engine();
    let export = certmgr_engine::export::open(&engine, &name, family).await?;
    let answers = export
        .material(&format)?
        .into_iter()
        .map(|key| ExportedKeyAnswer {
            family: key.family.to_string(),
            certificate_pem: key.certificate_pem,
            chain_pem: key.chain_pem,
            root_pem: key.root_pem,
            key_pem: key.key_pem.map(|pem| pem.to_string()),
            pkcs12_base64: key.pkcs12.map(|data| STANDARD.encode(data.as_slice())),
        })
        .collect();
    export
        .record(
            &engine,
            &format!(
                "exported as {} over the API to {}",
                if pkcs12 { "PKCS#12" } else { "PEM" },
                caller.actor.name
            ),
        )
        .await?;
    Ok(Json(answers))
}
