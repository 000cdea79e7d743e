//! The web UI in a real browser (Debian's chromium through chromedriver)
//! against a real `certmgr server`: signing in, issuing from a MicroCA and
//! from Pebble (ACME) with the job's progress shown live, exporting PEM
//! and PKCS#12, importing PKCS#12, the manual flow with a CSR signed by
//! openssl, roles (an operator has no export, in the page or the API), bad
//! input shown next to its field with the store unchanged, and axe-core on
//! every page. Each test saves screenshots (see
//! `certmgr_testkit::browser::artifacts_dir`).

use certmgr_testkit::browser::{Browser, browser_available};
use certmgr_testkit::pebble::pebble_available;
use serde_json::{Value, json};

use crate::acme::AcmeEnv;
use crate::api::ApiServer;
use crate::need_pebble;
use crate::util::{Env, openssl, openssl_ca, openssl_leaf};

/// A server on a fresh store, a browser, and where the UI is.
struct Ui {
    server: ApiServer,
    browser: Browser,
    base: String,
}

impl Ui {
    /// `certmgr server` (plain HTTP on loopback, HTTP-01 on `http_listen`)
    /// and a 1280×900 browser. None when chromium is missing (skipped).
    fn start(env: &Env, test: &str, http_listen: &str) -> Option<Ui> {
        if !browser_available() {
            return None;
        }
        let server = ApiServer::start(env, http_listen);
        let base = format!("http://{}", server.api);
        Some(Ui {
            server,
            browser: Browser::start(test, 1280, 900),
            base,
        })
    }

    fn goto(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.base));
    }

    /// Sign in on the sign-in page as `user`; waits for the dashboard.
    fn sign_in(&self, user: &str, password: &str) {
        self.goto("/");
        let b = &self.browser;
        b.wait("form [name=\"user\"]");
        assert!(b.url().contains("/login?next="), "{}", b.url());
        self.accessible("sign-in");
        b.fill("user", user);
        b.fill("password", password);
        b.click(&b.wait("form button.primary"));
        b.wait_text("Credentials by status");
        b.screenshot("dashboard");
    }

    /// axe-core finds nothing serious or critical on the page.
    #[track_caller]
    fn accessible(&self, page: &str) {
        let violations = self.browser.accessibility_violations();
        assert!(
            violations.is_empty(),
            "{page}: axe-core reports\n{}",
            violations.join("\n")
        );
    }

    /// Click the button whose text is `label`.
    #[track_caller]
    fn press(&self, label: &str) {
        let b = &self.browser;
        let mut found = None;
        b.wait_until(&format!("a button {label:?}"), || {
            found = b
                .find_all("button, a.button")
                .into_iter()
                .find(|el| b.displayed(el) && b.text(el).trim() == label);
            found.is_some()
        });
        b.click(&found.unwrap());
    }

    /// The buttons shown, by their text.
    fn buttons(&self) -> Vec<String> {
        let b = &self.browser;
        b.find_all("button, a.button")
            .iter()
            .filter(|el| b.displayed(el))
            .map(|el| b.text(el).trim().to_owned())
            .collect()
    }

    /// The error shown next to the control named `name`.
    #[track_caller]
    fn field_error(&self, name: &str) -> String {
        let b = &self.browser;
        let slot = b.wait(&format!("[id=\"f-{name}-error\"]"));
        let control = b.wait(&format!("[name=\"{name}\"]"));
        assert_eq!(
            b.execute(
                "return arguments[0].getAttribute('aria-invalid')",
                vec![control.reference()]
            ),
            json!("true"),
            "{name} is not marked invalid"
        );
        b.text(&slot)
    }

    /// Call the API from the page, with the session and its CSRF token.
    fn fetch(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let answer = self.browser.execute_async(
            "const [method, path, body, done] = arguments;
             fetch('/api/session').then((r) => r.json()).then((s) =>
               fetch(path, {method, headers: {'Content-Type': 'application/json',
                 'X-CSRF-Token': s.csrf_token}, body: JSON.stringify(body)}))
             .then(async (r) => done([r.status, await r.json().catch(() => null)]));",
            vec![json!(method), json!(path), body],
        );
        (answer[0].as_u64().unwrap() as u16, answer[1].clone())
    }

    /// Fill in and send the new-credential form.
    fn create(&self, name: &str, hostnames: &str, issuer: &str, extra: &[(&str, &str)]) {
        let b = &self.browser;
        self.goto("/credentials/new");
        b.fill("name", name);
        b.fill("hostnames", hostnames);
        b.select(&b.wait("[name=\"issuer\"]"), issuer);
        for (field, value) in extra {
            b.fill(field, value);
        }
        self.press("Create");
    }
}

fn new_user(env: &Env, name: &str, role: &str) -> String {
    env.ok(&["user", "add", name, "--role", role])
        .trim()
        .to_owned()
}

#[test]
fn sign_in_issue_from_a_microca_watch_it_and_export_pem_and_pkcs12() {
    let env = Env::new();
    if !certmgr_testkit::openssl_available() {
        return;
    }
    env.ok(&["ca", "create", "lab"]);
    let password = new_user(&env, "ui-admin", "admin");
    let Some(ui) = Ui::start(&env, "microca-export", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    ui.accessible("dashboard");

    b.click(&b.wait("#nav a[href=\"/credentials\"]"));
    b.wait_text("No credential matches.");
    ui.accessible("credential list (empty)");
    ui.press("New credential");
    b.wait("form [name=\"hostnames\"]");
    ui.accessible("new credential");
    ui.create(
        "web",
        "web.example.test\nwww.example.test",
        "ca:lab",
        &[("validity_days", "30")],
    );
    // The job's outcome shows, then the page shows the credential as it
    // is now (a MicroCA signs at once: the live steps are checked with
    // Pebble below).
    b.wait_until("the page to show the finished job", || {
        b.url().contains("done=")
    });
    b.wait_text("Issuance done.");
    b.wait(".badge.s-valid");
    b.screenshot("issued");
    let page = b.body_text();
    assert!(page.contains("www.example.test"), "{page}");
    assert!(
        page.contains("Certificate") && page.contains("Root"),
        "no chain drawn:\n{page}"
    );
    ui.accessible("credential detail");

    ui.press("Export");
    b.wait("form [name=\"format\"]");
    ui.accessible("export form");
    ui.press("Download");
    let pem = std::fs::read_to_string(b.downloaded("web.pem")).unwrap();
    assert!(
        pem.contains("BEGIN CERTIFICATE") && pem.contains("BEGIN PRIVATE KEY"),
        "{pem}"
    );
    let dir = env.path("");
    let dir = dir.as_path();
    std::fs::write(dir.join("exported.pem"), &pem).unwrap();
    let san = openssl(
        dir,
        &[
            "x509",
            "-in",
            "exported.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    assert!(san.contains("www.example.test"), "{san}");

    ui.goto("/credentials/web");
    ui.press("Export");
    b.click(&b.wait("input[name=\"format\"][value=\"pkcs12\"]"));
    b.fill("password", "export password 123");
    b.click(&b.wait("form button.primary"));
    let p12 = b.downloaded("web.p12");
    std::fs::copy(&p12, dir.join("web.p12")).unwrap();
    let read = openssl(
        dir,
        &[
            "pkcs12",
            "-in",
            "web.p12",
            "-passin",
            "pass:export password 123",
            "-nokeys",
        ],
    );
    assert!(read.contains("BEGIN CERTIFICATE"), "{read}");
    b.screenshot("exported");

    // Both exports are in the audit log.
    let exports = env.json(&["audit", "list", "--action", "cred.export"]);
    assert_eq!(exports.as_array().unwrap().len(), 2, "{exports}");

    ui.goto("/");
    b.wait_text("Expiring in the next 90 days");
    let dashboard = b.body_text();
    assert!(dashboard.contains("1 in 90 days"), "{dashboard}");
    ui.accessible("dashboard with a credential");
    ui.goto("/credentials?sort=expiry");
    b.wait("a[href=\"/credentials/web\"]");
    ui.accessible("credential list");
    ui.server.stop();
}

#[test]
fn an_operator_sees_no_export_and_the_api_refuses_it_the_export_too() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "web"]);
    let password = new_user(&env, "op", "operator");
    let Some(ui) = Ui::start(&env, "operator", "127.0.0.1:0") else {
        return;
    };
    ui.sign_in("op", &password);
    ui.goto("/credentials/web");
    ui.browser.wait_text("Keys and chains");
    ui.browser.screenshot("operator-detail");
    let buttons = ui.buttons();
    assert!(buttons.contains(&"Renew now".to_owned()), "{buttons:?}");
    assert!(!buttons.contains(&"Export".to_owned()), "{buttons:?}");
    assert!(!buttons.contains(&"Delete".to_owned()), "{buttons:?}");
    let (status, problem) = ui.fetch(
        "POST",
        "/api/credentials/web/export",
        json!({"format": "pem"}),
    );
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["type"], "urn:certmgr:problem:forbidden");
    ui.server.stop();
}

#[test]
fn bad_input_shows_next_to_its_field_and_changes_nothing() {
    let env = Env::new();
    if !certmgr_testkit::openssl_available() {
        return;
    }
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "imported",
        "--host",
        "imp.example.test",
        "--issuer",
        "import",
    ]);
    let password = new_user(&env, "ui-admin", "admin");
    let dir = env.path("");
    let dir = dir.as_path();
    openssl_ca(dir, "UI Test CA");
    openssl_leaf(
        dir,
        "UI Test CA",
        "imp",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "20",
    );
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-in",
            "imp.pem",
            "-inkey",
            "imp.key",
            "-certfile",
            "UI Test CA.pem",
            "-out",
            "imp.p12",
            "-passout",
            "pass:right password",
        ],
    );
    let Some(ui) = Ui::start(&env, "bad-input", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    let before = env.digest();

    // An invalid hostname.
    ui.create("broken", "not a hostname!", "ca:lab", &[]);
    let error = ui.field_error("hostnames");
    assert!(error.contains("invalid hostname"), "{error}");
    b.screenshot("bad-hostname");
    ui.accessible("new credential with an error");
    assert_eq!(
        env.digest(),
        before,
        "a refused credential changed the store"
    );

    // A malformed PEM.
    ui.goto("/credentials/imported");
    ui.press("Import");
    b.fill(
        "certificate_pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    b.click(&b.wait("form button.primary"));
    let error = ui.field_error("certificate_pem");
    assert!(!error.is_empty());
    b.screenshot("bad-pem");
    assert_eq!(env.digest(), before, "a malformed PEM changed the store");

    // A PKCS#12 file with the wrong password, then the right one.
    ui.goto("/credentials/imported");
    ui.press("Import");
    let file = b.wait("input[name=\"pkcs12_base64\"]");
    b.type_into(&file, dir.join("imp.p12").to_str().unwrap());
    b.fill("pkcs12_password", "wrong password");
    b.click(&b.wait("form button.primary"));
    let error = ui.field_error("pkcs12_password");
    assert!(error.contains("password"), "{error}");
    b.screenshot("wrong-p12-password");
    ui.accessible("import form with an error");
    assert_eq!(env.digest(), before, "a wrong password changed the store");

    b.fill("pkcs12_password", "right password");
    b.click(&b.wait("[name=\"trust_bundled_root\"]"));
    b.click(&b.wait("form button.primary"));
    b.wait_until("the import to show", || {
        b.body_text().contains("imported") && b.find("ol.chain").is_some()
    });
    b.screenshot("imported");
    let page = b.body_text();
    assert!(page.contains("UI Test CA"), "{page}");
    ui.server.stop();
}

#[test]
fn the_manual_flow_downloads_a_csr_and_takes_the_signed_certificate() {
    let env = Env::new();
    if !certmgr_testkit::openssl_available() {
        return;
    }
    let password = new_user(&env, "ui-admin", "admin");
    let dir = env.path("");
    let dir = dir.as_path();
    openssl_ca(dir, "UI Test CA");
    let Some(ui) = Ui::start(&env, "manual-flow", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    ui.create("handmade", "handmade.example.test", "manual", &[]);
    b.wait_text("Certificate signing request");
    ui.accessible("manual credential");
    ui.press("Download CSR");
    let csr = b.downloaded("handmade.csr");
    std::fs::copy(&csr, dir.join("handmade.csr")).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "handmade.csr",
            "-CA",
            "UI Test CA.pem",
            "-CAkey",
            "UI Test CA.key",
            "-CAcreateserial",
            "-out",
            "handmade.pem",
            "-days",
            "20",
            "-copy_extensions",
            "copy",
        ],
    );
    let chain = std::fs::read_to_string(dir.join("handmade.pem")).unwrap()
        + &std::fs::read_to_string(dir.join("UI Test CA.pem")).unwrap();
    ui.press("Import");
    b.fill("certificate_pem", &chain);
    // The CA is nobody's yet: the form says so at the box that fixes it,
    // and nothing is stored.
    let before = env.digest();
    b.click(&b.wait("form button.primary"));
    let error = ui.field_error("trust_bundled_root");
    assert!(error.contains("not trusted"), "{error}");
    b.screenshot("untrusted-root");
    assert_eq!(env.digest(), before);
    b.click(&b.wait("[name=\"trust_bundled_root\"]"));
    b.click(&b.wait("form button.primary"));
    b.wait_until("the signed certificate to show", || {
        b.find("ol.chain").is_some()
    });
    b.screenshot("manual-imported");
    assert!(b.body_text().contains("UI Test CA"));
    let shown = env.json(&["cred", "show", "handmade"]);
    assert_eq!(shown["credential"]["status"], "valid", "{shown}");
    ui.server.stop();
}

#[test]
fn an_acme_credential_is_issued_by_pebble_and_reaches_valid_on_its_page() {
    need_pebble!();
    let t = AcmeEnv::start();
    let password = new_user(&t.env, "ui-admin", "admin");
    let Some(ui) = Ui::start(&t.env, "acme", &t.http01()) else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    ui.create("acme-web", "acme-web.example.test", "acme:pb", &[]);
    b.wait("ol.steps li");
    b.screenshot("acme-issuing");
    ui.accessible("issuing");
    b.wait_until("the job to end", || b.url().contains("done="));
    b.wait_text("Issuance done.");
    b.wait(".badge.s-valid");
    b.screenshot("acme-valid");
    let page = b.body_text();
    assert!(page.contains("acme-web.example.test"), "{page}");
    assert!(
        page.contains("Pebble"),
        "the chain does not name Pebble's CA:\n{page}"
    );
    ui.server.stop();
}

#[test]
fn the_pages_work_at_phone_width_and_follow_a_dark_system_setting() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "web"]);
    let password = new_user(&env, "ui-admin", "admin");
    if !browser_available() {
        return;
    }
    let server = ApiServer::start(&env, "127.0.0.1:0");
    let browser = Browser::start("phone", 390, 844);
    browser.command(
        "POST",
        "goog/cdp/execute",
        json!({"cmd": "Emulation.setEmulatedMedia", "params": {
            "features": [{"name": "prefers-color-scheme", "value": "dark"}]}}),
    );
    let base = format!("http://{}", server.api);
    let ui = Ui {
        server,
        browser,
        base,
    };
    ui.sign_in("ui-admin", &password);
    let b = &ui.browser;
    for page in ["/", "/credentials", "/credentials/web", "/credentials/new"] {
        ui.goto(page);
        b.wait("main h1");
        std::thread::sleep(std::time::Duration::from_millis(200));
        // Nothing wider than the screen but tables, which scroll in their box.
        let overflow = b.execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        );
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{page} scrolls sideways by {overflow} px"
        );
        let background = b.execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        );
        assert_eq!(background, json!("rgb(15, 20, 25)"), "{page} is not dark");
        b.screenshot(&format!(
            "phone-{}",
            page.trim_matches('/').replace('/', "-")
        ));
        ui.accessible(&format!("{page} at phone width, dark"));
    }
    ui.server.stop();
}

#[test]
fn a_dns_account_made_in_the_ui_is_tested_and_its_trace_hides_the_key() {
    let Some((pdns, t)) = crate::dns01::setup_zones(&["example.test"]) else {
        return;
    };
    let password = new_user(&t.env, "ui-admin", "admin");
    let Some(ui) = Ui::start(&t.env, "dns-account", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    b.click(&b.wait("#nav a[href=\"/dns\"]"));
    b.wait_text("New DNS account");
    ui.accessible("DNS overview");
    b.fill("name", "pd");
    b.select(&b.wait("[name=\"provider\"]"), "powerdns");
    // The provider's parameters appear once it is chosen.
    b.wait("[name=\"param.api_key\"]");
    assert_eq!(
        b.property(&b.wait("[name=\"param.api_key\"]"), "type"),
        json!("password")
    );
    b.fill("zones", "example.test");
    b.fill("param.api_url", &pdns.api_url());
    b.fill("param.api_key", pdns.api_key());
    b.fill("nameservers", &pdns.dns_address().to_string());
    b.click(&b.wait("[name=\"allow_private_network\"]"));
    b.click(&b.wait("[name=\"allow_plain_http\"]"));
    b.screenshot("dns-form");
    ui.press("Create account");
    b.wait_text("DNS account pd");
    ui.accessible("DNS account");
    let page = b.body_text();
    assert!(
        page.contains("api_key") && !page.contains(pdns.api_key()),
        "{page}"
    );

    ui.press("Test");
    b.wait_text("Trace (secrets redacted)");
    b.screenshot("dns-test");
    let trace: Vec<String> = b
        .find_all("ol.trace li")
        .iter()
        .map(|li| b.text(li))
        .collect();
    assert!(trace.len() >= 2, "{trace:?}");
    assert!(trace.iter().any(|l| l.contains("PATCH")), "{trace:?}");
    let page = b.body_text();
    assert!(page.contains("was added and deleted"), "{page}");
    assert!(!page.contains(pdns.api_key()), "the key shows:\n{page}");
    assert!(
        pdns.records_named("example.test", "_certmgr-test")
            .is_empty()
    );
    ui.accessible("DNS test result");

    b.click(&b.wait("a[href=\"/dns/providers/powerdns\"]"));
    b.wait_text("Parameters");
    ui.accessible("DNS provider");
    ui.server.stop();
}

#[test]
fn every_admin_page_works_and_passes_axe() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    let password = new_user(&env, "ui-admin", "admin");
    let Some(ui) = Ui::start(&env, "admin-pages", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);

    // MicroCAs: create one, download a root.
    b.click(&b.wait("#nav a[href=\"/cas\"]"));
    b.wait_text("New MicroCA");
    ui.accessible("MicroCAs");
    b.fill("name", "second");
    ui.press("Create MicroCA");
    b.wait_until("the new MicroCA to be listed", || {
        b.body_text().contains("certmgr MicroCA second")
    });
    b.click(&b.wait("button[aria-label=\"Download root of second\"]"));
    let root = std::fs::read_to_string(b.downloaded("second-root.pem")).unwrap();
    assert!(root.contains("BEGIN CERTIFICATE"), "{root}");
    // The same name again: the error is at the name, nothing changes.
    let before = env.digest();
    b.fill("name", "second");
    ui.press("Create MicroCA");
    assert!(!ui.field_error("name").is_empty());
    assert_eq!(env.digest(), before);

    for (link, heading) in [("/acme", "CA catalog"), ("/trust", "Trust store")] {
        b.click(&b.wait(&format!("#nav a[href=\"{link}\"]")));
        b.wait_text(heading);
        ui.accessible(link);
    }

    // Tokens: the secret is shown once.
    b.click(&b.wait("#nav a[href=\"/tokens\"]"));
    b.wait_text("New token");
    b.fill("name", "deploy");
    b.select(&b.wait("[name=\"role\"]"), "operator");
    ui.press("Create token");
    let secret = b.wait("input[aria-label=\"Token deploy\"]");
    let secret = b.property(&secret, "value");
    assert!(secret.as_str().unwrap().starts_with("cmt_"), "{secret}");
    ui.accessible("tokens");

    // Users: a made password is shown once.
    b.click(&b.wait("#nav a[href=\"/users\"]"));
    b.wait_text("New user");
    b.fill("name", "carol");
    ui.press("Add user");
    b.wait("input[aria-label=\"Password of carol\"]");
    ui.accessible("users");

    // The audit log shows what was just done, filtered.
    ui.goto("/audit?action=token.create");
    b.wait_text("deploy");
    let page = b.body_text();
    assert!(!page.contains("user.add"), "{page}");
    ui.accessible("audit log");
    b.screenshot("audit");
    ui.server.stop();
}

#[test]
fn a_webhook_channel_made_in_the_ui_gets_a_signed_test_message() {
    let env = Env::new();
    let password = new_user(&env, "ui-admin", "admin");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime
        .block_on(certmgr_testkit::notify_peers::WebhookReceiver::start())
        .unwrap();
    let Some(ui) = Ui::start(&env, "notifications", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    b.click(&b.wait("#nav a[href=\"/notifications\"]"));
    b.wait_text("New channel");
    ui.accessible("notifications");

    // An address that is not one: shown at its field, nothing stored.
    let before = env.digest();
    b.fill("name", "mail");
    b.fill("email.host", "smtp.example.test");
    b.fill("email.from", "certmgr@example.test");
    b.fill("email.to", "ops@example.test, not an address");
    ui.press("Add channel");
    let error = ui.field_error("email.to");
    assert!(!error.is_empty());
    b.screenshot("bad-address");
    assert_eq!(env.digest(), before);

    b.fill("name", "ops");
    b.click(&b.wait("input[name=\"kind\"][value=\"webhook\"]"));
    b.fill("webhook.url", &format!("{}/hook", receiver.url));
    b.fill("webhook.secret", "a signing secret for the test");
    b.click(&b.wait("[name=\"webhook.allow_plain_http\"]"));
    ui.press("Add channel");
    let test = b.wait("button[aria-label=\"Send test to ops\"]");
    ui.accessible("notification channels");
    let page = b.body_text();
    assert!(!page.contains("a signing secret"), "{page}");
    b.click(&test);
    b.wait_text("sent to");
    b.screenshot("test-sent");
    let hooks = receiver.received("/hook");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let hook = &hooks[0];
    let timestamp = &hook.headers["x-certmgr-timestamp"];
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        b"a signing secret for the test",
    );
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&hook.body);
    let expected = format!(
        "sha256={}",
        hex::encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref())
    );
    assert_eq!(hook.headers["x-certmgr-signature"], expected);
    assert_eq!(hook.json()["type"], "test");
    ui.server.stop();
    drop(runtime);
}

#[test]
fn signing_in_and_deleting_work_from_the_keyboard_and_delete_asks_first() {
    use certmgr_testkit::browser::{ENTER, ESCAPE, TAB};
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "ca:lab",
    ]);
    let password = new_user(&env, "ui-admin", "admin");
    let Some(ui) = Ui::start(&env, "keyboard", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.goto("/credentials/web");
    b.wait("form [name=\"user\"]");
    // The user field has the focus; Tab goes to the password, Enter signs in
    // and comes back to the page asked for.
    let focused = b.active().unwrap();
    assert_eq!(b.property(&focused, "name"), json!("user"));
    b.type_into(&focused, &format!("ui-admin{TAB}{password}{ENTER}"));
    b.wait_text("Keys and chains");
    assert!(b.url().ends_with("/credentials/web"), "{}", b.url());

    // Delete asks first; Escape keeps the credential.
    ui.press("Delete");
    let dialog = b.wait("dialog[open]");
    b.screenshot("confirm-delete");
    ui.accessible("confirmation dialog");
    let cancel = b.active().unwrap();
    assert_eq!(b.text(&cancel), "Cancel", "the safe choice has the focus");
    b.type_into(&cancel, &ESCAPE.to_string());
    b.wait_until("the dialog to close", || !b.displayed(&dialog));
    assert!(env.ok(&["cred", "list"]).contains("web"));

    // Confirmed from the keyboard, it is gone.
    ui.press("Delete");
    b.wait("dialog[open]");
    let cancel = b.active().unwrap();
    b.type_into(&cancel, &format!("{TAB}{ENTER}"));
    b.wait_text("No credential matches.");
    assert!(!env.ok(&["cred", "list"]).contains("web"));
    ui.server.stop();
}

#[test]
fn a_domino_dxl_file_imports_through_the_dns_page_and_a_broken_one_changes_nothing() {
    let Some(cf) = certmgr_testkit::seed_dxl("dns-providers/cloudflare/certstore_cloudflare.dxl")
    else {
        return;
    };
    // A file input takes a canonical path.
    let cf = cf.canonicalize().unwrap();
    let env = Env::new();
    let password = new_user(&env, "ui-admin", "admin");
    let text = std::fs::read_to_string(&cf).unwrap();
    let broken = text.replacen(
        "cfg_URL +\"/\"+ cfg_DnsZone + \"/dns_records/\"</text>",
        "cfg_URL +\"/\"+ @Lft(cfg_DnsZone; 3) + \"/dns_records/\"</text>",
        1,
    );
    assert!(broken != text, "the seed file changed: adapt the test");
    let broken = env.file("broken.dxl", &broken);
    let Some(ui) = Ui::start(&env, "dxl-import", "127.0.0.1:0") else {
        return;
    };
    let b = &ui.browser;
    ui.sign_in("ui-admin", &password);
    ui.goto("/dns");
    b.wait_text("Import provider definitions");

    let before = env.digest();
    b.type_into(&b.wait("input[name=\"text\"]"), broken.to_str().unwrap());
    ui.press("Import");
    let alert = b.wait("form .alert");
    let message = b.text(&alert);
    assert!(
        message.contains("broken.dxl") && message.contains("@Lft"),
        "{message}"
    );
    b.screenshot("broken-dxl");
    assert_eq!(env.digest(), before, "a refused import changed the store");

    ui.goto("/dns");
    b.wait_text("Import provider definitions");
    b.type_into(&b.wait("input[name=\"text\"]"), cf.to_str().unwrap());
    ui.press("Import");
    b.wait_text("Imported:");
    b.screenshot("dxl-imported");
    ui.accessible("DNS page after an import");
    let listed = env.json(&["dns", "provider", "list"]).to_string();
    assert!(listed.contains("\"dxl\""), "{listed}");
    ui.server.stop();
}
