//! Questions to one server, propagation checks and CNAME following.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::WireError;
use crate::exchange::exchange;

/// The longest CNAME chain followed (resolvers commonly stop near 8-16).
const MAX_CNAME_HOPS: usize = 8;

pub(crate) fn name(text: &str) -> Result<Name, WireError> {
    let fqdn = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    Name::from_str(&fqdn).map_err(|e| WireError::BadName {
        name: text.to_owned(),
        reason: e.to_string(),
    })
}

/// Ask `server` one question, recursion off (the server must answer from its
/// own data, as an authoritative server does).
async fn ask(server: SocketAddr, qname: &str, rtype: RecordType) -> Result<Message, WireError> {
    let mut message = Message::query();
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(name(qname)?, rtype));
    exchange(server, &message).await
}

/// Ask a recursive resolver (recursion on).
async fn resolve(
    resolver: SocketAddr,
    qname: &str,
    rtype: RecordType,
) -> Result<Message, WireError> {
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name(qname)?, rtype));
    exchange(resolver, &message).await
}

/// The authoritative servers of `zone`, found through the recursive
/// `resolver`: the zone's NS names, then each name's A and AAAA addresses
/// (glue when the answer carries it), all on `port` (53 in the wild).
/// These are the servers a propagation check must ask.
pub async fn authoritative_servers(
    resolver: SocketAddr,
    zone: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, WireError> {
    let answer = resolve(resolver, zone, RecordType::NS).await?;
    let mut names: Vec<String> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.to_ascii().to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(WireError::NoNameservers {
            zone: zone.trim_end_matches('.').to_owned(),
            resolver,
            reason: format!(
                "the resolver answered {} with no NS records",
                answer.response_code
            ),
        });
    }
    let mut servers = Vec::new();
    for ns in &names {
        let mut found: Vec<std::net::IpAddr> = answer
            .additionals
            .iter()
            .filter(|r| r.name.to_ascii().eq_ignore_ascii_case(ns))
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(std::net::IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(std::net::IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        if found.is_empty() {
            for rtype in [RecordType::A, RecordType::AAAA] {
                let a = resolve(resolver, ns, rtype).await?;
                found.extend(a.answers.iter().filter_map(|r| match &r.data {
                    RData::A(a) => Some(std::net::IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(std::net::IpAddr::V6(a.0)),
                    _ => None,
                }));
            }
        }
        servers.extend(found.into_iter().map(|ip| SocketAddr::new(ip, port)));
    }
    servers.sort();
    servers.dedup();
    if servers.is_empty() {
        return Err(WireError::NoNameservers {
            zone: zone.trim_end_matches('.').to_owned(),
            resolver,
            reason: format!(
                "none of its nameservers ({}) has an address",
                names.join(", ")
            ),
        });
    }
    Ok(servers)
}

/// The first `nameserver` of a resolv.conf text (`/etc/resolv.conf`), on port 53.
pub fn resolv_conf_nameserver(text: &str) -> Option<SocketAddr> {
    text.lines()
        .map(|l| l.split(['#', ';']).next().unwrap_or("").trim())
        .filter_map(|l| l.strip_prefix("nameserver"))
        .filter_map(|rest| {
            rest.trim()
                .split('%')
                .next()?
                .parse::<std::net::IpAddr>()
                .ok()
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
}

/// The TXT values `server` serves for `record_name` right now.
pub async fn txt_values(server: SocketAddr, record_name: &str) -> Result<Vec<String>, WireError> {
    let answer = ask(server, record_name, RecordType::TXT).await?;
    match answer.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        other => {
            return Err(WireError::Unreachable {
                server,
                reason: format!("answered {other} for {record_name} TXT"),
            });
        }
    }
    Ok(answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect())
}

/// Wait until every server in `servers` serves `value` at `record_name`,
/// asking every `interval`, at most `timeout`. On timeout the error names the
/// servers that still lacked it.
pub async fn wait_for_txt(
    servers: &[SocketAddr],
    record_name: &str,
    value: &str,
    timeout: Duration,
    interval: Duration,
) -> Result<(), WireError> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut lagging = Vec::new();
        for server in servers {
            match txt_values(*server, record_name).await {
                Ok(values) if values.iter().any(|v| v == value) => {}
                Ok(_) => lagging.push(server.to_string()),
                Err(e) => lagging.push(format!("{server} ({e})")),
            }
        }
        if lagging.is_empty() {
            return Ok(());
        }
        if Instant::now() + interval > deadline {
            return Err(WireError::NotPropagated {
                name: record_name.to_owned(),
                value: value.to_owned(),
                lagging,
            });
        }
        tokio::time::sleep(interval).await;
    }
}

/// Where `record_name` really lives: follows CNAMEs (as `_acme-challenge`
/// delegation to a validation zone uses them) and returns the final name
/// (without trailing dot). A loop or an over-long chain is an error.
/// `server` is asked with recursion off: an authoritative server of the zone.
pub async fn follow_cname(server: SocketAddr, record_name: &str) -> Result<String, WireError> {
    follow(server, record_name, false).await
}

/// As [`follow_cname`], asking a recursive resolver (recursion on), for
/// when the zone's authoritative servers are not configured.
pub async fn follow_cname_recursive(
    resolver: SocketAddr,
    record_name: &str,
) -> Result<String, WireError> {
    follow(resolver, record_name, true).await
}

async fn follow(
    server: SocketAddr,
    record_name: &str,
    recursive: bool,
) -> Result<String, WireError> {
    let mut current = record_name.trim_end_matches('.').to_ascii_lowercase();
    let mut seen = vec![current.clone()];
    for _ in 0..MAX_CNAME_HOPS {
        let answer = if recursive {
            resolve(server, &current, RecordType::CNAME).await?
        } else {
            ask(server, &current, RecordType::CNAME).await?
        };
        let target = answer.answers.iter().find_map(|record| match &record.data {
            RData::CNAME(cname)
                if record
                    .name
                    .to_ascii()
                    .trim_end_matches('.')
                    .eq_ignore_ascii_case(&current) =>
            {
                Some(
                    cname
                        .0
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                )
            }
            _ => None,
        });
        let Some(target) = target else {
            return Ok(current);
        };
        if seen.contains(&target) {
            return Err(WireError::CnameChain {
                name: record_name.to_owned(),
                reason: format!("loops: {} -> {target}", seen.join(" -> ")),
            });
        }
        seen.push(target.clone());
        current = target;
    }
    Err(WireError::CnameChain {
        name: record_name.to_owned(),
        reason: format!("is longer than {MAX_CNAME_HOPS} hops"),
    })
}
