//! Certificate signing requests (PKCS#10) for external CAs, and the subject
//! and SAN rules shared with certificate issuance.

use certmgr_core::Hostname;
use rcgen::{CertificateParams, DistinguishedName, DnType, SanType};

use crate::error::PkiError;
use crate::key::PrivateKey;

/// SAN entries for the hostnames, in order, without duplicates.
pub(crate) fn san_entries(hostnames: &[Hostname]) -> Result<Vec<SanType>, PkiError> {
    if hostnames.is_empty() {
        return Err(PkiError::NoHostnames);
    }
    let mut seen: Vec<&Hostname> = Vec::new();
    let mut sans = Vec::new();
    for host in hostnames {
        if seen.contains(&host) {
            continue;
        }
        seen.push(host);
        sans.push(match host {
            Hostname::Dns(name) => {
                SanType::DnsName(
                    name.as_str()
                        .try_into()
                        .map_err(|_| PkiError::InvalidOption {
                            reason: format!("hostname {name:?} is not ASCII"),
                        })?,
                )
            }
            Hostname::Ip(ip) => SanType::IpAddress(*ip),
        });
    }
    Ok(sans)
}

/// Subject with CN = first DNS name (or, with IP addresses only, the first IP).
pub(crate) fn subject_for(hostnames: &[Hostname]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    let cn = hostnames
        .iter()
        .find(|h| matches!(h, Hostname::Dns(_)))
        .or_else(|| hostnames.first());
    if let Some(cn) = cn {
        dn.push(DnType::CommonName, cn.to_string());
    }
    dn
}

/// Build a PEM CSR for `key` with every hostname as a SAN and CN = first DNS name.
///
/// Exists for credentials issued by an external CA: the CLI hands this text to
/// the CA and later imports the certificate that comes back.
pub fn create_csr(key: &PrivateKey, hostnames: &[Hostname]) -> Result<String, PkiError> {
    let mut params = CertificateParams::default();
    params.subject_alt_names = san_entries(hostnames)?;
    params.distinguished_name = subject_for(hostnames);
    let pair = key.key_pair()?;
    let csr = params
        .serialize_request(&pair)
        .map_err(|e| PkiError::crypto("building the CSR", e))?;
    csr.pem()
        .map_err(|e| PkiError::crypto("encoding the CSR", e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use certmgr_core::KeySpec;

    #[test]
    fn csr_needs_hostnames() {
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        assert!(matches!(create_csr(&key, &[]), Err(PkiError::NoHostnames)));
    }

    #[test]
    fn csr_is_pem_and_names_first_dns() {
        let key = PrivateKey::generate(KeySpec::EcdsaP384).unwrap();
        let hosts: Vec<Hostname> = ["10.0.0.1", "www.example.test", "example.test"]
            .iter()
            .map(|h| h.parse().unwrap())
            .collect();
        let pem = create_csr(&key, &hosts).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let dn = subject_for(&hosts);
        assert_eq!(
            dn.get(&DnType::CommonName),
            Some(&rcgen::DnValue::Utf8String("www.example.test".into()))
        );
    }
}
