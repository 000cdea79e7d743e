//! Store integrity (issue 9, items 7 and 8): someone who can write to the
//! database but has no master key (a shared PostgreSQL) changes rows with
//! raw SQL; certmgr refuses each changed row, naming it, and sends nothing.
//! A local recording server stands where a request could go. Also: the
//! store's files are private, and a database password never shows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};

use certmgr_core::ChallengeKind;
use certmgr_store::{MasterKey, NewAcmeAccount, Store};
use certmgr_testkit::TestBackend;
use certmgr_testkit::stub::StubServer;

use crate::util::Env;

/// The URL of the test's store, for raw SQL and the library.
fn url(env: &Env) -> String {
    match env.store.database_url() {
        Some(url) => url.to_owned(),
        None => Store::sqlite_url(&env.store.data_dir().join("certmgr.db")),
    }
}

/// Run statements on the database directly, as someone with SQL access would.
pub(crate) fn sql(env: &Env, statements: &[&str]) {
    let url = url(env);
    runtime().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        for statement in statements {
            // The tests' own constant statements.
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Do something with the store through the library (with the master key).
fn with_store<T>(env: &Env, f: impl AsyncFnOnce(&Store) -> T) -> T {
    let url = url(env);
    runtime().block_on(async {
        let key = MasterKey::read_file(&env.store.data_dir().join("master.key")).unwrap();
        let store = Store::open(&url, key).await.unwrap();
        let out = f(&store).await;
        store.close().await;
        out
    })
}

/// A recording server that answers nothing useful: where a redirected
/// secret would arrive.
fn attacker() -> (tokio::runtime::Runtime, StubServer) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stub = rt.block_on(StubServer::start(Vec::new()));
    (rt, stub)
}

#[track_caller]
fn assert_refused(stderr: &str, table: &str, row: &str) {
    let want =
        format!("{table} row '{row}' fails its integrity check: it was changed outside certmgr; ");
    assert!(stderr.contains(&want), "expected {want:?} in:\n{stderr}");
}

fn stderr_of(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "certmgr {args:?} must fail:\n{stderr}"
    );
    stderr
}

/// A DNS account `cf` holding an API key, on the built-in PowerDNS definition.
fn dns_account(env: &Env) {
    env.file("pd.key", "API-KEY-0123456789\n");
    env.ok(&[
        "dns",
        "account",
        "create",
        "cf",
        "--provider",
        "powerdns",
        "--zone",
        "example.test",
        "--set",
        "api_url=https://pdns.example.test",
        "--set",
        "api_key=@pd.key",
    ]);
}

#[test]
fn a_dns_account_repointed_by_sql_is_refused_and_its_key_goes_nowhere() {
    let env = Env::new();
    dns_account(&env);
    let (_rt, stub) = attacker();
    // The attacker's definition: PowerDNS's, with the requests going to them.
    let builtin = std::fs::read_to_string(
        certmgr_testkit::repo_root().join("providers/powerdns/provider.toml"),
    )
    .unwrap();
    let evil = builtin
        .replacen("id = \"powerdns\"", "id = \"evil\"", 1)
        .replace("{{ params.api_url }}", &stub.base_url())
        .replace('\'', "''");
    sql(
        &env,
        &[
            &format!(
                "INSERT INTO dns_providers (id, source, file_name, imported_at) \
                 VALUES ('evil', '{evil}', 'evil.toml', 1)"
            ),
            "UPDATE dns_accounts SET provider = 'evil' WHERE name = 'cf'",
        ],
    );
    let before = env.digest();
    for args in [
        &["dns", "account", "test", "cf"][..],
        &["dns", "account", "show", "cf"],
        &["dns", "account", "list"],
    ] {
        assert_refused(&stderr_of(&env, args), "dns_accounts", "cf");
    }
    // Pointed back, the account is accepted; the planted definition is not.
    sql(
        &env,
        &["UPDATE dns_accounts SET provider = 'powerdns' WHERE name = 'cf'"],
    );
    env.ok(&["dns", "account", "show", "cf"]);
    assert_refused(
        &stderr_of(&env, &["dns", "provider", "show", "evil"]),
        "dns_providers",
        "evil",
    );
    assert!(stub.received().is_empty(), "sent: {:?}", stub.received());
    sql(
        &env,
        &["UPDATE dns_accounts SET provider = 'evil' WHERE name = 'cf'"],
    );
    assert_eq!(env.digest(), before, "refusals change nothing");
    let stderr = stderr_of(&env, &["dns", "account", "show", "cf"]);
    assert!(
        stderr.contains("delete the DNS account and create it again"),
        "{stderr}"
    );

    // The way out: delete the account and create it again.
    let out = env.ok(&["dns", "account", "delete", "cf"]);
    assert!(out.contains("DNS account cf deleted"), "{out}");
    dns_account(&env);
    env.ok(&["dns", "account", "show", "cf"]);
    assert!(stub.received().is_empty(), "sent: {:?}", stub.received());
}

#[test]
fn a_journal_entry_planted_by_sql_is_never_cleaned_up_with() {
    let env = Env::new();
    dns_account(&env);
    let (_rt, stub) = attacker();
    // An entry "left by a dead process", with captures the delete would use.
    let planted = format!(
        "INSERT INTO txt_journal (id, dns_account, zone, record_name, value, captures, state, owner, created_at) \
         VALUES ('planted-1', 'cf', 'example.test', '_acme-challenge.example.test', 'x', \
         '{{\"url\":\"{}/steal\",\"api_url\":\"{}\"}}', 'present', NULL, 1)",
        stub.base_url(),
        stub.base_url()
    );
    sql(&env, &[&planted]);
    let before = env.digest();
    // `renew --due` first cleans up what dead processes left in DNS.
    let out = env.run(&["renew", "--due"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_refused(&stderr, "txt_journal", "planted-1");
    assert!(stderr.contains("the entry is skipped"), "{stderr}");
    assert!(
        out.status.success(),
        "one planted row does not fail the run: {stderr}"
    );
    assert!(stub.received().is_empty(), "sent: {:?}", stub.received());
    assert_eq!(
        env.digest(),
        before,
        "the entry was neither used nor changed"
    );
}

/// A running `certmgr server` on free ports, killed on drop.
struct Server {
    child: Child,
    http: u16,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(env: &Env) -> Server {
        let (http, https) = (free_port(), free_port());
        let mut child = env
            .command(&[
                "server",
                "--listen",
                "off",
                "--http-listen",
                &format!("127.0.0.1:{http}"),
                "--https-listen",
                &format!("127.0.0.1:{https}"),
                "--no-renew",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains("HTTP-01 on"), "server did not start: {line}");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Server { child, http, log }
    }

    /// Waits up to 5 s for a logged line containing all of `words`.
    fn logged(&self, words: &[&str]) -> String {
        for _ in 0..50 {
            let log = self.log.lock().unwrap();
            if let Some(line) = log.iter().find(|l| words.iter().all(|w| l.contains(w))) {
                return line.clone();
            }
            drop(log);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no log line with {words:?}: {:?}", self.log.lock().unwrap());
    }

    /// Status code and body of `GET /.well-known/acme-challenge/TOKEN`.
    fn challenge(&self, token: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.http)).unwrap();
        write!(
            stream,
            "GET /.well-known/acme-challenge/{token} HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_server_does_not_answer_a_challenge_planted_by_sql() {
    let env = Env::new();
    let server = Server::start(&env);
    // A real answer, published by another certmgr process sharing the store.
    with_store(&env, async |store: &Store| {
        store
            .publish_challenge(
                ChallengeKind::Http01,
                "a.example.test",
                "real-token",
                "real-token.thumbprint",
            )
            .await
            .unwrap();
    });
    assert_eq!(
        server.challenge("real-token"),
        (200, "real-token.thumbprint".to_owned())
    );
    sql(
        &env,
        &[
            "INSERT INTO acme_challenges (token, kind, identifier, key_authorization, created_at) \
             VALUES ('planted-token', 'http-01', 'victim.example.test', 'planted-token.attacker', 1)",
            "UPDATE acme_challenges SET key_authorization = 'real-token.attacker' WHERE token = 'real-token'",
        ],
    );
    let (status, body) = server.challenge("planted-token");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.challenge("real-token");
    assert_eq!(status, 404, "a changed answer is not given either: {body}");
    // The operator learns why: the CA only sees a 404.
    let line = server.logged(&["acme_challenges", "real-token"]);
    assert!(line.contains("HTTP-01 answer"), "{line}");

    // While the server holds the database open, its files are private.
    check_private_files(&env, true);
}

/// The data directory is 0700, the key and database files 0600 (`-wal` and
/// `-shm` exist while a process has the database open).
fn check_private_files(env: &Env, open: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = env.store.data_dir();
    assert_eq!(mode(&dir), 0o700, "the data directory");
    assert_eq!(mode(&dir.join("master.key")), 0o600);
    if env.store.backend() == TestBackend::Sqlite {
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("certmgr.db") {
                assert_eq!(mode(&path), 0o600, "{name}");
                seen.push(name);
            }
        }
        seen.sort();
        if open {
            assert_eq!(seen, ["certmgr.db", "certmgr.db-shm", "certmgr.db-wal"]);
        } else {
            assert!(seen.contains(&"certmgr.db".to_owned()), "{seen:?}");
        }
    }
}

#[test]
fn an_acme_account_moved_to_another_directory_by_sql_is_refused() {
    let env = Env::new();
    let (_rt, stub) = attacker();
    with_store(&env, async |store: &Store| {
        store
            .create_acme_account(&NewAcmeAccount {
                name: "le".into(),
                ca_id: None,
                directory_url: "https://acme.example.test/directory".into(),
                account_url: "https://acme.example.test/acct/1".into(),
                contacts: Vec::new(),
                eab_kid: None,
                credentials_json: br#"{"id":"https://acme.example.test/acct/1"}"#,
                ca_bundle_pem: None,
                profile: None,
                max_concurrent_orders: None,
                preferred_chain: None,
            })
            .await
            .unwrap();
    });
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "acme:le",
    ]);
    // The sealed account key would sign requests to the attacker's CA.
    sql(
        &env,
        &[&format!(
            "UPDATE acme_accounts SET directory_url = '{}/directory' WHERE name = 'le'",
            stub.base_url()
        )],
    );
    let before = env.digest();
    assert_refused(
        &stderr_of(&env, &["cred", "issue", "web"]),
        "acme_accounts",
        "le",
    );
    assert_refused(
        &stderr_of(&env, &["acme", "account", "list"]),
        "acme_accounts",
        "le",
    );
    assert!(stub.received().is_empty(), "sent: {:?}", stub.received());
    assert_eq!(env.digest(), before);
}

#[test]
fn a_master_key_file_others_can_access_is_refused_and_the_store_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let before = env.digest();
    let key = env.store.data_dir().join("master.key");
    for mode in [0o644, 0o640, 0o604, 0o620] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = env.fails(2, &["cred", "create", "x", "--host", "x.example.test"]);
        assert!(err.contains(&format!("mode {mode:04o}")), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", key.display())),
            "{err}"
        );
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(env.digest(), before);
    check_private_files(&env, false);
}

#[test]
fn a_database_url_password_is_never_printed() {
    // (Each refused connection takes the pool's 30 s acquire timeout: one case.)
    let env = Env::new();
    let out = env.run(&[
        "--database-url",
        "postgres://u:hunter2@127.0.0.1:1/x",
        "cred",
        "list",
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
    assert!(text.contains("u:***@127.0.0.1"), "{text}");
}
