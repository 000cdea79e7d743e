//! The MicroCA: a private root (and optional intermediate) that issues
//! short-lived server certificates for internal hosts.

use certmgr_core::{Hostname, KeyFamily, KeySpec};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyUsagePurpose, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::csr::{san_entries, subject_for};
use crate::error::PkiError;
use crate::info::{parse_one, same_public_key, to_time};
use crate::key::PrivateKey;

/// The longest validity accepted for a CA, about 100 years.
const MAX_CA_DAYS: u32 = 36_525;
/// The longest validity accepted for a leaf (ten years; browsers accept far less).
const MAX_LEAF_DAYS: u32 = 3_650;
/// Backdating of notBefore, to tolerate clock skew between hosts.
const BACKDATE: Duration = Duration::minutes(1);

/// What the MicroCA's root (and intermediate) should look like.
#[derive(Debug, Clone)]
pub struct CaOptions {
    /// Common name of the root; the intermediate gets "<CN> Intermediate".
    pub common_name: String,
    /// Optional organization (O) for both certificates.
    pub organization: Option<String>,
    /// Key type for the root and the intermediate.
    pub key: KeySpec,
    /// Validity of the root (and at most of the intermediate), in days.
    pub validity_days: u32,
    /// Whether to create an intermediate (pathlen 0) that issues the leaves.
    pub intermediate: bool,
}

/// The certificates and keys of a freshly created MicroCA, for the store to keep.
#[derive(Debug, Clone)]
pub struct CaMaterial {
    /// The self-signed root certificate, DER.
    pub root_der: Vec<u8>,
    /// The root's key.
    pub root_key: PrivateKey,
    /// The intermediate certificate and key, when requested.
    pub intermediate: Option<(Vec<u8>, PrivateKey)>,
}

impl CaMaterial {
    /// The certificate and key that sign leaves: the intermediate if any, else the root.
    pub fn issuer(&self) -> (&[u8], &PrivateKey) {
        match &self.intermediate {
            Some((der, key)) => (der, key),
            None => (&self.root_der, &self.root_key),
        }
    }
}

/// How to issue a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafOptions {
    /// Validity in days from now (capped at the issuer's own expiry).
    pub validity_days: u32,
}

impl Default for LeafOptions {
    fn default() -> Self {
        LeafOptions { validity_days: 90 }
    }
}

/// A random positive serial of 127 bits (RFC 5280 allows 20 octets; CAB BR want >= 64 random bits).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|e| PkiError::crypto("random serial", e))?;
    // Clear the sign bit and set the next one: positive, always 16 octets.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn ca_name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

fn ca_params(
    name: DistinguishedName,
    constraints: BasicConstraints,
    now: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(random_serial()?);
    params.not_before = now - BACKDATE;
    params.not_after = not_after;
    Ok(params)
}

/// Create a MicroCA: a self-signed root and, if asked, an intermediate under it.
///
/// Root: basicConstraints CA:true (critical), keyUsage keyCertSign + cRLSign
/// (critical), SKI, random serial, notBefore one minute in the past.
pub fn create_ca(options: &CaOptions) -> Result<CaMaterial, PkiError> {
    let cn = options.common_name.trim();
    if cn.is_empty() {
        return Err(PkiError::InvalidOption {
            reason: "the CA needs a non-empty common name".to_owned(),
        });
    }
    if options.validity_days == 0 || options.validity_days > MAX_CA_DAYS {
        return Err(PkiError::InvalidOption {
            reason: format!("CA validity must be 1 to {MAX_CA_DAYS} days"),
        });
    }
    let org = options
        .organization
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let now = OffsetDateTime::now_utc();
    let not_after = now + Duration::days(i64::from(options.validity_days));

    let root_key = PrivateKey::generate(options.key)?;
    let root_pair = root_key.key_pair()?;
    let root_params = ca_params(
        ca_name(cn, org),
        BasicConstraints::Unconstrained,
        now,
        not_after,
    )?;
    let root_cert = root_params
        .self_signed(&root_pair)
        .map_err(|e| PkiError::crypto("signing the root certificate", e))?;
    let root_der = root_cert.der().to_vec();

    let intermediate = if options.intermediate {
        let key = PrivateKey::generate(options.key)?;
        let pair = key.key_pair()?;
        let mut params = ca_params(
            ca_name(&format!("{cn} Intermediate"), org),
            BasicConstraints::Constrained(0),
            now,
            not_after,
        )?;
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::from_params(&root_params, &root_pair);
        let cert = params
            .signed_by(&pair, &issuer)
            .map_err(|e| PkiError::crypto("signing the intermediate certificate", e))?;
        Some((cert.der().to_vec(), key))
    } else {
        None
    };
    Ok(CaMaterial {
        root_der,
        root_key,
        intermediate,
    })
}

/// Issue a TLS server certificate for `leaf_key`'s public key, signed by the
/// issuer certificate and key (typically [`CaMaterial::issuer`]).
///
/// The leaf carries every hostname as a SAN, EKU serverAuth, keyUsage
/// digitalSignature (+ keyEncipherment for RSA) critical, CA:false, AKI = the
/// issuer's SKI, its own SKI and a random serial. Returns the leaf DER.
pub fn issue_leaf(
    issuer_der: &[u8],
    issuer_key: &PrivateKey,
    leaf_key: &PrivateKey,
    hostnames: &[Hostname],
    options: &LeafOptions,
) -> Result<Vec<u8>, PkiError> {
    if options.validity_days == 0 || options.validity_days > MAX_LEAF_DAYS {
        return Err(PkiError::InvalidOption {
            reason: format!("certificate validity must be 1 to {MAX_LEAF_DAYS} days"),
        });
    }
    let issuer_cert = parse_one(issuer_der)?;
    if !issuer_cert.is_ca() {
        return Err(PkiError::BadIssuer {
            reason: "its basicConstraints do not say CA:true".to_owned(),
        });
    }
    if !same_public_key(issuer_cert.public_key().raw, &issuer_key.public_key_der()) {
        return Err(PkiError::BadIssuer {
            reason: "the CA key does not match the CA certificate".to_owned(),
        });
    }
    let now = OffsetDateTime::now_utc();
    let issuer_not_after = to_time(issuer_cert.validity().not_after.timestamp());
    let not_after = (now + Duration::days(i64::from(options.validity_days))).min(issuer_not_after);
    if not_after <= now {
        return Err(PkiError::BadIssuer {
            reason: "the CA certificate has expired; create a new CA".to_owned(),
        });
    }

    let mut params = CertificateParams::default();
    params.subject_alt_names = san_entries(hostnames)?;
    params.distinguished_name = subject_for(hostnames);
    params.is_ca = IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if leaf_key.spec().family() == KeyFamily::Rsa {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    params.not_before = now - BACKDATE;
    params.not_after = not_after;

    let issuer_pair = issuer_key.key_pair()?;
    let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(issuer_der), &issuer_pair)
        .map_err(|e| PkiError::BadIssuer {
            reason: e.to_string(),
        })?;
    let leaf_pair = leaf_key.key_pair()?;
    let cert = params
        .signed_by(&leaf_pair, &issuer)
        .map_err(|e| PkiError::crypto("signing the certificate", e))?;
    Ok(cert.der().to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::info::{authority_key_id, certificate_info, parse_certificate, subject_key_id};

    fn hosts(names: &[&str]) -> Vec<Hostname> {
        names.iter().map(|h| h.parse().unwrap()).collect()
    }

    #[test]
    fn root_and_intermediate_have_the_right_shape() {
        let ca = create_ca(&CaOptions {
            common_name: "Example Root".into(),
            organization: Some("Example".into()),
            key: KeySpec::EcdsaP256,
            validity_days: 365,
            intermediate: true,
        })
        .unwrap();
        let root = certificate_info(&ca.root_der).unwrap();
        assert!(root.is_ca && root.self_signed);
        assert_eq!(root.subject, "CN=Example Root, O=Example");
        assert!(root.serial_hex.len() >= 16);
        let (int_der, int_key) = ca.intermediate.as_ref().unwrap();
        let int = certificate_info(int_der).unwrap();
        assert!(int.is_ca && !int.self_signed);
        assert_eq!(int.issuer, root.subject);
        assert_eq!(int.spki_der, int_key.public_key_der());
        let root_x = parse_certificate(&ca.root_der).unwrap();
        let int_x = parse_certificate(int_der).unwrap();
        assert_eq!(authority_key_id(&int_x), subject_key_id(&root_x));
        assert!(int_x.verify_signature(Some(root_x.public_key())).is_ok());
        let bc = int_x.basic_constraints().unwrap().unwrap();
        assert_eq!(bc.value.path_len_constraint, Some(0));
        assert_eq!(ca.issuer().0, int_der.as_slice());
    }

    #[test]
    fn leaf_has_names_and_links_to_issuer() {
        let ca = create_ca(&CaOptions {
            common_name: "Leaf Test Root".into(),
            organization: None,
            key: KeySpec::EcdsaP384,
            validity_days: 30,
            intermediate: false,
        })
        .unwrap();
        let leaf_key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let (issuer_der, issuer_key) = ca.issuer();
        let der = issue_leaf(
            issuer_der,
            issuer_key,
            &leaf_key,
            &hosts(&["a.example.test", "*.b.example.test", "192.0.2.7"]),
            &LeafOptions::default(),
        )
        .unwrap();
        let info = certificate_info(&der).unwrap();
        assert_eq!(info.subject, "CN=a.example.test");
        assert_eq!(info.dns_names, ["a.example.test", "*.b.example.test"]);
        assert_eq!(
            info.ip_addresses,
            ["192.0.2.7".parse::<std::net::IpAddr>().unwrap()]
        );
        assert!(!info.is_ca && !info.self_signed);
        assert_eq!(info.key_spec, Some(KeySpec::EcdsaP256));
        // Validity is capped by the issuer's expiry (30 days, not 90).
        assert!(info.not_after <= certificate_info(issuer_der).unwrap().not_after);
        let leaf_x = parse_certificate(&der).unwrap();
        let root_x = parse_certificate(issuer_der).unwrap();
        assert_eq!(authority_key_id(&leaf_x), subject_key_id(&root_x));
        assert!(leaf_x.verify_signature(Some(root_x.public_key())).is_ok());
        assert!(crate::key_matches(&leaf_key, &der).unwrap());
    }

    #[test]
    fn refuses_bad_options_and_wrong_ca_key() {
        let ca = create_ca(&CaOptions {
            common_name: "R".into(),
            organization: None,
            key: KeySpec::EcdsaP256,
            validity_days: 30,
            intermediate: false,
        })
        .unwrap();
        let other = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let h = hosts(&["x.test"]);
        let err = issue_leaf(&ca.root_der, &other, &other, &h, &LeafOptions::default());
        assert!(matches!(err, Err(PkiError::BadIssuer { .. })));
        let err = issue_leaf(
            &ca.root_der,
            &ca.root_key,
            &other,
            &h,
            &LeafOptions { validity_days: 0 },
        );
        assert!(matches!(err, Err(PkiError::InvalidOption { .. })));
        let err = create_ca(&CaOptions {
            common_name: " ".into(),
            organization: None,
            key: KeySpec::EcdsaP256,
            validity_days: 30,
            intermediate: false,
        });
        assert!(matches!(err, Err(PkiError::InvalidOption { .. })));
    }
}
