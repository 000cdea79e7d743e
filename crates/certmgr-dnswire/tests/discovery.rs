//! Finding a zone's authoritative servers through a resolver, against a real
//! PowerDNS serving the zone (it answers NS and address questions for its
//! own zones, so it stands in for the recursive resolver).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::net::SocketAddr;

use certmgr_dnswire::{WireError, authoritative_servers, resolv_conf_nameserver};
use certmgr_testkit::powerdns::{PowerDns, powerdns_available};

#[tokio::test(flavor = "multi_thread")]
async fn every_address_of_every_nameserver_is_found() {
    if !powerdns_available() {
        return;
    }
    let pdns = PowerDns::start(&["example.test"]);
    // A second nameserver with an IPv4 and an IPv6 address.
    let body = serde_json::json!({"rrsets": [
        {"name": "example.test.", "type": "NS", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "ns1.example.test.", "disabled": false},
                     {"content": "ns2.example.test.", "disabled": false}]},
        {"name": "ns2.example.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "127.0.0.2", "disabled": false}]},
        {"name": "ns2.example.test.", "type": "AAAA", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "::1", "disabled": false}]},
    ]});
    let (status, out) = pdns
        .api(
            "PATCH",
            "/api/v1/servers/localhost/zones/example.test.",
            Some(&body.to_string()),
        )
        .unwrap();
    assert_eq!(status, 204, "{out}");

    let port = 5353;
    let servers = authoritative_servers(pdns.dns_address(), "example.test", port)
        .await
        .unwrap();
    let want: Vec<SocketAddr> = vec![
        "127.0.0.1:5353".parse().unwrap(),
        "127.0.0.2:5353".parse().unwrap(),
        "[::1]:5353".parse().unwrap(),
    ];
    let mut got = servers.clone();
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zone_without_nameservers_is_explained() {
    if !powerdns_available() {
        return;
    }
    let pdns = PowerDns::start(&["example.test"]);
    let err = authoritative_servers(pdns.dns_address(), "nowhere.example.test", 53)
        .await
        .unwrap_err();
    assert!(matches!(err, WireError::NoNameservers { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("nowhere.example.test") && msg.contains("--nameserver"),
        "{msg}"
    );
}

#[test]
fn resolv_conf_first_nameserver() {
    let text = "# generated\nsearch lan\nnameserver 10.0.0.53 # router\nnameserver 1.1.1.1\n";
    assert_eq!(
        resolv_conf_nameserver(text),
        Some("10.0.0.53:53".parse().unwrap())
    );
    assert_eq!(
        resolv_conf_nameserver("nameserver fe80::1%eth0\n"),
        Some("[fe80::1]:53".parse().unwrap())
    );
    assert_eq!(resolv_conf_nameserver("search lan\n"), None);
}
