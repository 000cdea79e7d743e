//! TXT lookups, propagation waits and CNAME following against real DNS
//! servers (pebble-challtestsrv instances; RFC 2136 is tested against BIND).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use certmgr_dnswire::{WireError, follow_cname, txt_values, wait_for_txt};
use certmgr_testkit::pebble::{Pebble, pebble_available};

fn post(api: &str, path: &str, body: serde_json::Value) {
    let out = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            "-d",
            &body.to_string(),
            &format!("{api}{path}"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dns(pebble: &Pebble) -> SocketAddr {
    pebble.dns_server().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn txt_values_and_a_lagging_server() {
    if !pebble_available() {
        return;
    }
    let (a, b) = (Pebble::start(), Pebble::start());
    let name = "_acme-challenge.www.example.test";
    assert!(txt_values(dns(&a), name).await.unwrap().is_empty());
    post(
        &a.challtestsrv_api(),
        "/set-txt",
        serde_json::json!({"host": format!("{name}."), "value": "v1"}),
    );
    assert_eq!(txt_values(dns(&a), name).await.unwrap(), ["v1"]);

    // B lags: the wait names it when time runs out.
    let servers = [dns(&a), dns(&b)];
    let started = Instant::now();
    let err = wait_for_txt(
        &servers,
        name,
        "v1",
        Duration::from_millis(600),
        Duration::from_millis(100),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(500));
    match &err {
        WireError::NotPropagated { lagging, .. } => {
            assert_eq!(lagging, &[dns(&b).to_string()], "only B lags: {err}");
        }
        other => panic!("{other}"),
    }
    // B catches up while we wait: the wait succeeds.
    let api = b.challtestsrv_api();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        post(
            &api,
            "/set-txt",
            serde_json::json!({"host": "_acme-challenge.www.example.test.", "value": "v1"}),
        );
    });
    wait_for_txt(
        &servers,
        name,
        "v1",
        Duration::from_secs(5),
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    late.join().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_chains_are_followed_and_loops_refused() {
    if !pebble_available() {
        return;
    }
    let p = Pebble::start();
    let api = p.challtestsrv_api();
    let server = dns(&p);
    post(
        &api,
        "/set-cname",
        serde_json::json!({"host": "_acme-challenge.www.example.test.", "target": "step.delegate.test."}),
    );
    post(
        &api,
        "/set-cname",
        serde_json::json!({"host": "step.delegate.test.", "target": "final.validation.test."}),
    );
    assert_eq!(
        follow_cname(server, "_acme-challenge.www.example.test")
            .await
            .unwrap(),
        "final.validation.test"
    );
    assert_eq!(
        follow_cname(server, "plain.example.test").await.unwrap(),
        "plain.example.test"
    );
    post(
        &api,
        "/set-cname",
        serde_json::json!({"host": "loop-a.example.test.", "target": "loop-b.example.test."}),
    );
    post(
        &api,
        "/set-cname",
        serde_json::json!({"host": "loop-b.example.test.", "target": "loop-a.example.test."}),
    );
    let err = follow_cname(server, "loop-a.example.test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loops"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let closed: SocketAddr = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    let started = Instant::now();
    let err = txt_values(closed, "x.example.test").await.unwrap_err();
    assert!(err.to_string().contains(&closed.to_string()), "{err}");
    assert!(started.elapsed() < Duration::from_secs(7));
}
