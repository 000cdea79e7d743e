//! Moving from Domino CertMgr: DXL exports import and run as they are.
//! The lab file (a provider that writes to pebble-challtestsrv, a DNS
//! provider account and an ACME account for Pebble on their fixed ports)
//! issues a certificate end to end; bad files change nothing; `--trace`
//! shows the pipeline with secrets redacted; providers export back to DXL.

use certmgr_testkit::pebble::{PebbleOptions, pebble_available};
use certmgr_testkit::stub::{Exchange, StubServer};
use serde_json::json;

use crate::acme::AcmeEnv;
use crate::need_pebble;
use crate::util::Env;

/// A seed DXL file (../shared/seed/dxl, Apache-2.0).
fn seed(rel: &str) -> Option<std::path::PathBuf> {
    certmgr_testkit::seed_dxl(rel)
}

#[test]
fn the_domino_lab_file_imports_and_issues_through_challtestsrv() {
    need_pebble!();
    let Some(lab) = seed("lab/acme/lab_certstore.dxl") else {
        return;
    };
    // The lab file names https://127.0.0.1:14000/dir and
    // http://127.0.0.1:8055/set-txt: Pebble runs on exactly those.
    let t = AcmeEnv::start_with(
        PebbleOptions {
            acme_port: Some(14000),
            challtestsrv_api_port: Some(8055),
            ..PebbleOptions::default()
        },
        false,
    );
    let bundle = t.pebble.ca_bundle_path().to_str().unwrap().to_owned();
    let out = t.env.ok(&[
        "dns",
        "provider",
        "import",
        lab.to_str().unwrap(),
        "--ca-bundle",
        &bundle,
    ]);
    assert!(
        out.contains("DNS provider \"pebble\" imported")
            && out.contains("DNS account \"pebble.lab\" (pebble) serves pebble.lab")
            && out.contains("ACME account \"Pebble\" registered"),
        "{out}"
    );
    let shown = t.env.json(&["dns", "account", "show", "pebble.lab"]);
    assert_eq!(shown["propagation"], "delay", "{shown}");
    let provider = t.env.json(&["dns", "provider", "show", "pebble"]);
    assert_eq!(provider["kind"], "dxl");
    assert_eq!(provider["propagation_secs"], 10, "cfg_DnsProviderDelay");

    t.env.ok(&[
        "cred",
        "create",
        "lab",
        "--host",
        "www.pebble.lab",
        "--issuer",
        "acme:Pebble",
        "--challenge",
        "dns-01",
    ]);
    let out = t.env.run(&["cred", "issue", "lab"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        t.pebble.logs()
    );
    let text = &t.verify("lab", &[""])[0];
    assert!(text.contains("DNS:www.pebble.lab"), "{text}");

    // importing the same file again changes nothing
    let before = t.env.digest();
    let msg = t.env.fails(
        2,
        &[
            "dns",
            "provider",
            "import",
            lab.to_str().unwrap(),
            "--ca-bundle",
            &bundle,
        ],
    );
    assert!(msg.contains("was imported before"), "{msg}");
    assert_eq!(t.env.digest(), before);
}

#[test]
fn a_broken_formula_is_refused_naming_file_item_and_position() {
    let Some(cf) = seed("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    let env = Env::new();
    let text = std::fs::read_to_string(&cf).unwrap();
    let broken = text.replacen(
        "cfg_URL +\"/\"+ cfg_DnsZone + \"/dns_records/\"</text>",
        "cfg_URL +\"/\"+ @Lft(cfg_DnsZone; 3) + \"/dns_records/\"</text>",
        1,
    );
    assert!(broken != text, "the seed file changed: adapt the test");
    env.file("broken.dxl", &broken);
    let before = env.digest();
    let msg = env.fails(2, &["dns", "provider", "import", "broken.dxl"]);
    assert!(
        msg.contains("broken.dxl")
            && msg.contains("ReqAddUrlFormula")
            && msg.contains("line 1")
            && msg.contains("@Lft"),
        "{msg}"
    );
    assert_eq!(env.digest(), before, "nothing stored");

    env.file("not.dxl", "<database><document form='DnsProviderConfig'>");
    let msg = env.fails(2, &["dns", "provider", "import", "not.dxl"]);
    assert!(
        msg.contains("not.dxl") && msg.contains("not well-formed XML"),
        "{msg}"
    );
    assert_eq!(env.digest(), before, "nothing stored");
}

#[test]
fn export_writes_dxl_that_imports_again() {
    let Some(desec) = seed("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    let a = Env::new();
    a.ok(&["dns", "provider", "import", desec.to_str().unwrap()]);
    a.ok(&[
        "dns",
        "provider",
        "export",
        "desec-dxl",
        "--format",
        "dxl",
        "--out",
        "desec-again.dxl",
    ]);
    let exported = std::fs::read_to_string(a.path("desec-again.dxl")).unwrap();
    assert!(
        exported.starts_with("<?xml") && exported.contains("<document form='DnsProviderConfig'>"),
        "{exported}"
    );
    assert!(
        exported.contains("<break/>"),
        "multi-line formulas keep their line breaks"
    );
    let b = Env::new();
    b.file("desec-again.dxl", &exported);
    b.ok(&["dns", "provider", "import", "desec-again.dxl"]);
    assert_eq!(
        a.json(&["dns", "provider", "show", "desec-dxl"]),
        b.json(&["dns", "provider", "show", "desec-dxl"])
    );
    let msg = a.fails(
        2,
        &["dns", "provider", "export", "cloudflare", "--format", "dxl"],
    );
    assert!(msg.contains("TOML definition"), "{msg}");
}

#[test]
fn account_test_traces_the_pipeline_without_secrets() {
    let Some(cf) = seed("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    const TOKEN: &str = "Y2xvdWRmbGFyZS10b2tlbg-secret";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let zone_lookup = Exchange::new("GET", "/client/v4/zones")
        .query(&[("name", "example.test")])
        .header("authorization", &format!("Bearer {TOKEN}"))
        .reply(
            200,
            Some(json!({"success": true, "result": [{"id": "z-123", "name": "example.test"}]})),
        );
    let stub = rt.block_on(StubServer::start(vec![
        zone_lookup,
        Exchange::new("POST", "/client/v4/zones/z-123/dns_records/").reply(
            200,
            Some(json!({"success": true, "result": {"id": "rec-9"}})),
        ),
        Exchange::new("DELETE", "/client/v4/zones/z-123/dns_records/rec-9").reply(
            200,
            Some(json!({"success": true, "result": {"id": "rec-9"}})),
        ),
    ]));
    let env = Env::new();
    env.ok(&["dns", "provider", "import", cf.to_str().unwrap()]);
    env.file("cf.token", format!("{TOKEN}\n"));
    env.ok(&[
        "dns",
        "account",
        "create",
        "cf",
        "--provider",
        "cloudflare-dxl",
        "--zone",
        "example.test",
        "--set",
        "cfg_AuthToken=@cf.token",
        "--set",
        &format!("cfg_URL={}/client/v4/zones", stub.base_url()),
    ]);
    let out = env.run(&["dns", "account", "test", "cf", "--trace"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stub.assert_done();
    for want in [
        "[Lookup#1] > GET",
        "Authorization: Bearer <redacted:cfg_AuthToken>",
        "[Lookup] custom formula gave \"z-123\"",
        "[Add#1] > POST",
        "[Add] StatusFormula gave 200",
        "[Del#1] > DELETE",
    ] {
        assert!(
            stderr.contains(want),
            "{want:?} missing from the trace:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains(TOKEN) && !stdout.contains(TOKEN),
        "{stderr}"
    );
    // the looked-up zone id went back to the account
    let shown = env.json(&["dns", "account", "show", "cf"]);
    assert!(
        shown["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "cfg_DnsZone"),
        "{shown}"
    );
}
