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
        // challtestsrv listens on loopback, over plain http
        "--allow-private-network",
        "--allow-plain-http",
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
        // the stub listens on loopback, over plain http
        "--allow-private-network",
        "--allow-plain-http",
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

/// A "billion laughs" DXL file: ten levels of ten references each expand
/// `lol` to 10^10 copies (about 30 GB) in the configuration's name.
fn billion_laughs() -> String {
    let mut dtd = String::from("<!ENTITY lol0 'lol'>\n");
    for i in 1..=10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{i} '{refs}'>\n"));
    }
    format!(
        "<?xml version='1.0' encoding='utf-8'?>\n\
         <!DOCTYPE database SYSTEM 'xmlschemas/domino_11_0_1.dtd' [\n{dtd}]>\n\
         <database xmlns='http://www.lotus.com/dxl'><document form='DnsProviderConfig'>\
         <item name='DnsProviderConfigName'><text>&lol10;</text></item>\
         <item name='DnsProviderType'><text>H</text></item>\
         <item name='ReqAddUrlFormula'><text>\"https://x.test/\"</text></item>\
         </document></database>\n"
    )
}

#[test]
fn a_billion_laughs_file_is_refused_before_expansion_and_changes_nothing() {
    let env = Env::new();
    env.file("laughs.dxl", billion_laughs());
    let before = env.digest();
    let started = std::time::Instant::now();
    let msg = env.fails(2, &["dns", "provider", "import", "laughs.dxl"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        msg.contains("laughs.dxl")
            && msg.contains("declares XML entities")
            && msg.contains("refused before parsing"),
        "{msg}"
    );
    assert_eq!(env.digest(), before, "nothing stored");
}

/// The Cloudflare seed with `cfg_CustomValue` sealed (but empty) in the
/// configuration and sent as an `X-Custom` header by every request.
fn cloudflare_with_sealed_custom_value(text: &str) -> String {
    let header =
        "\"Authorization: Bearer \" + cfg_AuthToken ) : ( \"Content-Type: application/json\" )";
    assert!(
        text.contains(header),
        "the seed file changed: adapt the test"
    );
    let sealed = text
        .replace(
            header,
            &format!("{header} : (\"X-Custom: \" + cfg_CustomValue)"),
        )
        .replacen(
            "<item name='cfg_URL'>",
            "<item name='cfg_CustomValue' seal='true'><text/></item>\n<item name='cfg_URL'>",
            1,
        );
    assert!(sealed.contains("X-Custom") && sealed.contains("seal='true'"));
    sealed
}

#[test]
fn a_sealed_item_beyond_the_known_secrets_is_redacted_in_traces() {
    let Some(cf) = seed("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    const TOKEN: &str = "Y2xvdWRmbGFyZS10b2tlbg-secret";
    const CUSTOM: &str = "custom-sealed-value-4711";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stub = rt.block_on(StubServer::start(vec![
        Exchange::new("GET", "/client/v4/zones")
            .query(&[("name", "example.test")])
            .header("x-custom", CUSTOM)
            .reply(
                200,
                Some(json!({"success": true, "result": [{"id": "z-123", "name": "example.test"}]})),
            ),
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
    let text = std::fs::read_to_string(&cf).unwrap();
    env.file("sealed.dxl", cloudflare_with_sealed_custom_value(&text));
    env.ok(&["dns", "provider", "import", "sealed.dxl"]);
    let shown = env.json(&["dns", "provider", "show", "cloudflare-dxl"]);
    let custom = shown["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cfg_CustomValue")
        .unwrap_or_else(|| panic!("{shown}"))
        .clone();
    assert_eq!(custom["secret"], true, "{shown}");

    env.file("cf.token", format!("{TOKEN}\n"));
    env.file("custom.txt", format!("{CUSTOM}\n"));
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
        "cfg_CustomValue=@custom.txt",
        "--set",
        &format!("cfg_URL={}/client/v4/zones", stub.base_url()),
        // the stub listens on loopback, over plain http
        "--allow-private-network",
        "--allow-plain-http",
    ]);
    let out = env.run(&["dns", "account", "test", "cf", "--trace"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stub.assert_done();
    assert!(
        stderr.contains("X-Custom: <redacted:cfg_CustomValue>"),
        "the sealed value is redacted in the trace:\n{stderr}"
    );
    assert!(
        !stderr.contains(CUSTOM) && !stdout.contains(CUSTOM),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn an_account_document_sealing_another_item_keeps_it_secret() {
    let Some(cf) = seed("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    const USER: &str = "sealed-user-name-0815";
    let env = Env::new();
    let text = std::fs::read_to_string(&cf).unwrap();
    // The configuration and a DnsProvider document that seals cfg_UserName,
    // which Domino's own form does not.
    let account = format!(
        "<document form='DnsProvider'>\
         <item name='RegisteredDomain'><text>example.test</text></item>\
         <item name='DnsProviderConfigName'><text>Cloudflare</text></item>\
         <item name='cfg_UserName' seal='true'><text>{USER}</text></item>\
         <item name='cfg_AuthToken' seal='true'><text>tok</text></item>\
         </document>\n</database>"
    );
    let both = text.replacen("</database>", &account, 1);
    assert_ne!(both, text);
    env.file("both.dxl", &both);
    env.ok(&["dns", "provider", "import", "both.dxl"]);
    let shown = env.json(&["dns", "provider", "show", "cloudflare-dxl"]);
    let user = shown["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cfg_UserName")
        .unwrap_or_else(|| panic!("{shown}"))
        .clone();
    assert_eq!(user["secret"], true, "sealed in the account: {shown}");
    let out = env.ok(&["dns", "account", "show", "example.test"]);
    assert!(!out.contains(USER), "{out}");
    let raw = env.store.raw_bytes();
    assert!(
        !raw.windows(USER.len()).any(|w| w == USER.as_bytes()),
        "the sealed value is stored in clear"
    );
}

#[test]
fn a_sealed_value_in_a_shared_configuration_is_refused() {
    let Some(cf) = seed("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    let env = Env::new();
    let text = std::fs::read_to_string(&cf).unwrap();
    let with_secret = text.replacen(
        "<item name='cfg_URL'>",
        "<item name='cfg_ApiSecret' seal='true'><text>s3cret</text></item>\n<item name='cfg_URL'>",
        1,
    );
    env.file("secret.dxl", &with_secret);
    let before = env.digest();
    let msg = env.fails(2, &["dns", "provider", "import", "secret.dxl"]);
    assert!(
        msg.contains("cfg_ApiSecret") && msg.contains("sealed") && msg.contains("DNS account"),
        "{msg}"
    );
    assert_eq!(env.digest(), before, "nothing stored");
}

#[test]
fn export_and_import_keep_newlines_quotes_and_markup_in_names_and_values() {
    let Some(desec) = seed("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    let tricky = "line 1&#10;line 2 &quot;q&quot; &apos;s&apos; &lt;b&gt; &amp; &amp;amp;";
    let text = std::fs::read_to_string(&desec).unwrap();
    let edited = text.replacen(
        "<item name='cfg_URL'>",
        &format!(
            "<item name='Note&#10;with &lt;markup&gt; &amp; &quot;quotes&quot;'><text>{tricky}</text></item>\n\
             <item name='cfg_URL'>"
        ),
        1,
    )
    .replacen(
        "<item name='Author'><text>HCL</text></item>",
        "<item name='Author'><text>A &lt;b&gt; &amp; &quot;c&quot;<break/>second line</text></item>",
        1,
    );
    assert_ne!(edited, text, "the seed file changed: adapt the test");
    let a = Env::new();
    a.file("tricky.dxl", &edited);
    a.ok(&["dns", "provider", "import", "tricky.dxl"]);
    a.ok(&[
        "dns",
        "provider",
        "export",
        "desec-dxl",
        "--format",
        "dxl",
        "--out",
        "again.dxl",
    ]);
    let exported = std::fs::read_to_string(a.path("again.dxl")).unwrap();
    assert!(
        exported.contains("name='Note&#10;with &lt;markup&gt; &amp; &quot;quotes&quot;'"),
        "{exported}"
    );
    let b = Env::new();
    b.file("again.dxl", &exported);
    b.ok(&["dns", "provider", "import", "again.dxl"]);
    let (sa, sb) = (
        a.json(&["dns", "provider", "show", "desec-dxl"]),
        b.json(&["dns", "provider", "show", "desec-dxl"]),
    );
    assert_eq!(sa, sb);
    assert!(
        sa["notes"]
            .as_str()
            .unwrap()
            .contains("A <b> & \"c\"\nsecond line"),
        "{sa}"
    );
    // And a second export is the same file.
    b.ok(&[
        "dns",
        "provider",
        "export",
        "desec-dxl",
        "--format",
        "dxl",
        "--out",
        "third.dxl",
    ]);
    assert_eq!(
        std::fs::read_to_string(b.path("third.dxl")).unwrap(),
        exported
    );
}

#[test]
fn names_with_terminal_controls_are_refused_and_notes_are_printed_escaped() {
    let Some(desec) = seed("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    let text = std::fs::read_to_string(&desec).unwrap();
    let env = Env::new();
    let before = env.digest();
    // DXL (XML 1.0) cannot carry ESC itself, but can carry the C1 CSI
    // (U+009B, ESC [ on many terminals) and bidi overrides.
    for (file, bad) in [
        ("csi.dxl", "&#x9b;31mdeSEC"),
        ("bidi.dxl", "deSEC&#x202e;cexe"),
    ] {
        let renamed = text.replacen(
            "<item name='DnsProviderConfigName'><text>",
            &format!("<item name='DnsProviderConfigName'><text>{bad}"),
            1,
        );
        assert_ne!(renamed, text, "the seed file changed: adapt the test");
        env.file(file, &renamed);
        let msg = env.fails(2, &["dns", "provider", "import", file]);
        assert!(
            msg.contains("DnsProviderConfigName") && msg.contains("control characters"),
            "{msg}"
        );
        assert!(
            !msg.contains('\u{9b}') && !msg.contains('\u{202e}'),
            "{msg:?}"
        );
    }
    assert_eq!(env.digest(), before, "nothing stored");

    // A note (built from the Author item) with a CSI sequence is stored but
    // printed escaped.
    let noted = text.replacen(
        "<item name='Author'><text>HCL</text></item>",
        "<item name='Author'><text>evil&#x9b;2J</text></item>",
        1,
    );
    assert_ne!(noted, text, "the seed file changed: adapt the test");
    env.file("noted.dxl", &noted);
    env.ok(&["dns", "provider", "import", "noted.dxl"]);
    let out = env.ok(&["dns", "provider", "show", "desec-dxl"]);
    assert!(
        out.contains("evil\\u{9b}2J") && !out.contains('\u{9b}'),
        "{out:?}"
    );

    // TOML: a name with ESC is refused, a note with ESC printed escaped.
    let builtin = std::fs::read_to_string(
        certmgr_testkit::repo_root().join("providers/powerdns/provider.toml"),
    )
    .unwrap();
    let mine = builtin.replacen("id = \"powerdns\"", "id = \"my-pdns\"", 1);
    assert_ne!(mine, builtin);
    let esc_name = mine.replacen(
        "name = \"PowerDNS Authoritative\"",
        "name = \"PowerDNS \\u001b[2J\\u001b]0;pwned\\u0007\"",
        1,
    );
    assert_ne!(
        esc_name, mine,
        "the built-in definition changed: adapt the test"
    );
    env.file("esc.toml", &esc_name);
    let before = env.digest();
    let msg = env.fails(2, &["dns", "provider", "import", "esc.toml"]);
    assert!(
        msg.contains("control characters") && !msg.contains('\u{1b}'),
        "{msg:?}"
    );
    assert_eq!(env.digest(), before, "nothing stored");
    let esc_note = mine.replacen(
        "multi_value_txt = true",
        "multi_value_txt = true\nnotes = \"see \\u001b[31mred\\u001b[0m\"",
        1,
    );
    env.file("note.toml", &esc_note);
    env.ok(&["dns", "provider", "import", "note.toml"]);
    let out = env.ok(&["dns", "provider", "show", "my-pdns"]);
    assert!(
        out.contains("see \\u{1b}[31mred") && !out.contains('\u{1b}'),
        "{out:?}"
    );
}
