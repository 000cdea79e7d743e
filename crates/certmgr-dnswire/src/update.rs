//! RFC 2136 dynamic updates of TXT records, signed with TSIG (RFC 8945).

use std::fmt;
use std::net::SocketAddr;

use base64::Engine;
use hickory_proto::op::{ResponseCode, update_message};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm as HickoryAlgorithm;
use hickory_proto::rr::{DNSClass, RData, Record, RecordSet, RecordType, TSigner};
use zeroize::Zeroizing;

use crate::WireError;
use crate::exchange::exchange;
use crate::query::name;

/// How far apart the clocks of certmgr and the server may be (seconds, RFC 8945 §5.2.3).
const TSIG_FUDGE: u16 = 300;

/// TSIG MAC algorithms certmgr signs updates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithm {
    /// hmac-sha256
    HmacSha256,
    /// hmac-sha384
    HmacSha384,
    /// hmac-sha512
    HmacSha512,
}

impl std::str::FromStr for TsigAlgorithm {
    type Err = WireError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
            "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
            "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
            other => Err(WireError::Tsig(format!(
                "unsupported algorithm {other:?}: use hmac-sha256, hmac-sha384 or hmac-sha512"
            ))),
        }
    }
}

/// A TSIG key: its name, algorithm and shared secret. Debug never shows the secret.
#[derive(Clone)]
pub struct TsigKey {
    /// The key's name, as the server knows it.
    pub name: String,
    /// The MAC algorithm.
    pub algorithm: TsigAlgorithm,
    secret: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl TsigKey {
    /// A key from its name, algorithm and base64 secret (as `tsig-keygen` prints it).
    pub fn new(
        name: &str,
        algorithm: TsigAlgorithm,
        secret_base64: &str,
    ) -> Result<Self, WireError> {
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret_base64.trim())
            .map_err(|_| WireError::Tsig(format!("the secret of key {name:?} is not base64")))?;
        Ok(TsigKey {
            name: name.to_owned(),
            algorithm,
            secret: Zeroizing::new(secret),
        })
    }

    fn signer(&self) -> Result<TSigner, WireError> {
        let algorithm = match self.algorithm {
            TsigAlgorithm::HmacSha256 => HickoryAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => HickoryAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => HickoryAlgorithm::HmacSha512,
        };
        TSigner::new(
            self.secret.to_vec(),
            algorithm,
            name(&self.name)?,
            TSIG_FUDGE,
        )
        .map_err(|e| WireError::Tsig(e.to_string()))
    }
}

/// Add or delete one TXT value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateAction {
    /// Add the value (other values on the name stay).
    Add,
    /// Delete exactly this value (other values on the name stay).
    Delete,
}

/// Send an RFC 2136 update of `record_name` TXT `value` in `zone` to `server`.
pub async fn update_txt(
    server: SocketAddr,
    zone: &str,
    record_name: &str,
    value: &str,
    ttl: u32,
    action: UpdateAction,
    tsig: Option<&TsigKey>,
) -> Result<(), WireError> {
    let zone_name = name(zone)?;
    let record = name(record_name)?;
    if !zone_name.zone_of(&record) {
        return Err(WireError::BadName {
            name: record_name.to_owned(),
            reason: format!("is not inside the zone {zone}"),
        });
    }
    let mut rrset = RecordSet::with_ttl(record.clone(), RecordType::TXT, ttl);
    rrset.insert(
        Record::from_rdata(record, ttl, RData::TXT(TXT::new(vec![value.to_owned()]))),
        0,
    );
    rrset.set_dns_class(DNSClass::IN);
    let mut message = match action {
        UpdateAction::Add => update_message::append(rrset, zone_name, false, false),
        UpdateAction::Delete => update_message::delete_by_rdata(rrset, zone_name, false),
    };
    if let Some(key) = tsig {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        message
            .finalize(&key.signer()?, now)
            .map_err(|e| WireError::Tsig(e.to_string()))?;
    }
    let answer = exchange(server, &message).await?;
    match answer.response_code {
        ResponseCode::NoError => Ok(()),
        ResponseCode::NotAuth => Err(WireError::Refused(format!(
            "{server} answered NOTAUTH for zone {zone}: the TSIG key {} is wrong or unknown there (check its name, algorithm and secret)",
            tsig.map(|k| k.name.as_str()).unwrap_or("(none)")
        ))),
        ResponseCode::Refused => Err(WireError::Refused(format!(
            "{server} REFUSED the update of {record_name}: the zone does not allow updates {}",
            match tsig {
                Some(key) => format!("with key {} (allow-update / update-policy)", key.name),
                None => "without a TSIG key: configure one".into(),
            }
        ))),
        ResponseCode::NotZone => Err(WireError::Refused(format!(
            "{server} says {record_name} is not in zone {zone} (NOTZONE): check the zone name"
        ))),
        other => Err(WireError::Refused(format!(
            "{server} answered {other} to the update of {record_name}"
        ))),
    }
}
