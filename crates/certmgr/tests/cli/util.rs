//! Helpers that make the tests read like scenarios.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certmgr_store::{MasterKey, Store};
use certmgr_testkit::TestStore;

/// How long a test's certmgr process counts as alive after its last
/// heartbeat (`CERTMGR_TEST_INSTANCE_TTL`).
pub const INSTANCE_TTL_SECS: u64 = 2;

/// Wait until the leases and journal entries of a process killed just now
/// are free: its registration expires [`INSTANCE_TTL_SECS`] after its last
/// heartbeat.
pub fn wait_for_dead_instance() {
    std::thread::sleep(std::time::Duration::from_secs(INSTANCE_TTL_SECS + 1));
}

/// A test's own certmgr: a fresh store and a scratch directory.
pub struct Env {
    pub store: TestStore,
}

impl Env {
    /// A new, empty location (not initialised).
    pub fn empty() -> Env {
        Env {
            store: TestStore::new(),
        }
    }

    /// A location with `certmgr init` done.
    pub fn new() -> Env {
        let env = Env::empty();
        env.ok(&["init"]);
        env
    }

    /// A scratch path for files the test writes or reads.
    pub fn path(&self, name: &str) -> PathBuf {
        self.store.work_dir().join(name)
    }

    /// Write a scratch file and return its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A certmgr command on this store, run in the scratch directory (to spawn
    /// long-running or interrupted processes).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_certmgr"));
        command
            .args(args)
            .current_dir(self.store.work_dir())
            .env_remove("CERTMGR_MASTER_KEY")
            // A killed process's leases free themselves after 2 s, not 30.
            .env("CERTMGR_TEST_INSTANCE_TTL", INSTANCE_TTL_SECS.to_string());
        for (key, value) in self.store.env() {
            command.env(key, value);
        }
        command
    }

    /// Run certmgr with these arguments.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Run and expect success; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "certmgr {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Run and expect exit code `code`; returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "certmgr {args:?} should exit {code}; stdout:\n{}stderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    /// Run with `--json` and parse stdout.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Digest of every row of the store: equal digests, equal stores.
    pub fn digest(&self) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = self.open_store().await;
            let digest = store.content_digest().await.unwrap();
            store.close().await;
            digest
        })
    }

    /// How many `certmgr server`s are registered as alive in the store.
    pub fn live_servers(&self) -> usize {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = self.open_store().await;
            let count = store.live_servers(30).await.unwrap().len();
            store.close().await;
            count
        })
    }

    async fn open_store(&self) -> Store {
        let key = MasterKey::read_file(&self.store.data_dir().join("master.key")).unwrap();
        let url = match self.store.database_url() {
            Some(url) => url.to_owned(),
            None => Store::sqlite_url(&self.store.data_dir().join("certmgr.db")),
        };
        Store::open(&url, key).await.unwrap()
    }
}

/// Keep reading `reader` (a child's stderr) line by line on a thread, so
/// that the child never blocks on a full pipe; the lines go after `start`
/// into the returned log.
pub fn collect_lines(reader: impl BufRead + Send + 'static, start: String) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(start));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    log
}

/// Send SIGTERM to `child`.
pub fn terminate(child: &Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// Wait at most `limit` for `child` to exit; panics with what `log` says
/// when it does not.
pub fn wait_exit(child: &mut Child, limit: Duration, log: impl Fn() -> String) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "still running {limit:?} after SIGTERM:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run the real openssl CLI in `dir`; panics with its output on failure.
#[track_caller]
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = openssl_output(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run openssl and return its output whatever the exit status.
pub fn openssl_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed")
}

/// An external CA made with openssl: `NAME.key` + `NAME.pem` in `dir`.
pub fn openssl_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A leaf key + certificate signed by the openssl CA `ca` (see [`openssl_ca`]).
pub fn openssl_leaf(dir: &Path, ca: &str, name: &str, key_alg: &[&str], days: &str) {
    let mut args = vec!["req", "-new", "-nodes", "-newkey"];
    args.extend_from_slice(key_alg);
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let subj = format!("/CN={name}.example.test");
    let san = format!("subjectAltName=DNS:{name}.example.test");
    args.extend_from_slice(&[
        "-keyout", &key, "-out", &csr, "-subj", &subj, "-addext", &san,
    ]);
    openssl(dir, &args);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            days,
            "-copy_extensions",
            "copy",
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Have the openssl CA `ca` sign `csr` with a validity entirely in the past
/// (2020-2021), writing `out`: an expired certificate.
pub fn openssl_expired(dir: &Path, ca: &str, csr: &str, out: &str) {
    std::fs::write(
        dir.join("expired-ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=expired-index.txt\nnew_certs_dir=.\nserial=expired-serial.txt\n\
         default_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n",
    )
    .unwrap();
    std::fs::write(dir.join("expired-index.txt"), "").unwrap();
    std::fs::write(dir.join("expired-serial.txt"), "1000\n").unwrap();
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "expired-ca.cnf",
            "-cert",
            &format!("{ca}.pem"),
            "-keyfile",
            &format!("{ca}.key"),
            "-in",
            csr,
            "-out",
            out,
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
            "-notext",
        ],
    );
}
