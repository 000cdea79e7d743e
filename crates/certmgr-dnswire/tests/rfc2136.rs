//! RFC 2136 updates with TSIG against a real BIND 9.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_dnswire::{TsigAlgorithm, TsigKey, UpdateAction, txt_values, update_txt};
use certmgr_testkit::bind::{Bind, bind_available};

#[tokio::test(flavor = "multi_thread")]
async fn add_and_delete_txt_values_with_tsig() {
    if !bind_available() {
        return;
    }
    let bind = Bind::start(&["rfc2136.test"]);
    let server = bind.dns_address();
    let key = TsigKey::new(
        bind.tsig_name(),
        bind.tsig_algorithm().parse().unwrap(),
        bind.tsig_secret_base64(),
    )
    .unwrap();
    assert!(
        !format!("{key:?}").contains(bind.tsig_secret_base64()),
        "Debug hides the secret"
    );
    let name = "_acme-challenge.www.rfc2136.test";
    // Two values on one name (wildcard + base name in one order) coexist.
    for value in ["first", "second"] {
        update_txt(
            server,
            "rfc2136.test",
            name,
            value,
            60,
            UpdateAction::Add,
            Some(&key),
        )
        .await
        .unwrap();
    }
    let mut values = txt_values(server, name).await.unwrap();
    values.sort();
    assert_eq!(values, ["first", "second"]);
    update_txt(
        server,
        "rfc2136.test",
        name,
        "first",
        60,
        UpdateAction::Delete,
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(txt_values(server, name).await.unwrap(), ["second"]);
    update_txt(
        server,
        "rfc2136.test",
        name,
        "second",
        60,
        UpdateAction::Delete,
        Some(&key),
    )
    .await
    .unwrap();
    assert!(
        txt_values(server, name).await.unwrap().is_empty(),
        "nothing left behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_or_no_key_is_refused_with_a_clear_message() {
    if !bind_available() {
        return;
    }
    let bind = Bind::start(&["rfc2136.test"]);
    let server = bind.dns_address();
    let name = "_acme-challenge.x.rfc2136.test";
    let wrong = TsigKey::new(
        bind.tsig_name(),
        TsigAlgorithm::HmacSha256,
        "d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA==",
    )
    .unwrap();
    let err = update_txt(
        server,
        "rfc2136.test",
        name,
        "v",
        60,
        UpdateAction::Add,
        Some(&wrong),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("NOTAUTH") && err.contains("TSIG key"), "{err}");
    let err = update_txt(
        server,
        "rfc2136.test",
        name,
        "v",
        60,
        UpdateAction::Add,
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("REFUSED") && err.contains("without a TSIG key"),
        "{err}"
    );
    let unknown = TsigKey::new(
        "no-such-key",
        TsigAlgorithm::HmacSha256,
        bind.tsig_secret_base64(),
    )
    .unwrap();
    let err = update_txt(
        server,
        "rfc2136.test",
        name,
        "v",
        60,
        UpdateAction::Add,
        Some(&unknown),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("NOTAUTH"), "{err}");
    assert!(
        txt_values(server, name).await.unwrap().is_empty(),
        "refused updates change nothing"
    );
    let err = update_txt(
        server,
        "rfc2136.test",
        "www.elsewhere.test",
        "v",
        60,
        UpdateAction::Add,
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("not inside the zone"), "{err}");
}
