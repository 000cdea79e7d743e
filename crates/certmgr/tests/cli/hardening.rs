//! Secrets stay where they belong: a hook script sees only its contract, the
//! master key leaves certmgr's environment once read, secret parameters are
//! not accepted on the command line, and a crash writes no core dump.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::Env;

/// Variables the script provider's contract passes (docs/architecture.md).
const SCRIPT_CONTRACT: &[&str] = &[
    "PATH",
    "CERTMGR_ACTION",
    "CERTMGR_ZONE",
    "CERTMGR_RECORD_NAME",
    "CERTMGR_VALUE",
    "CERTMGR_TTL",
];

/// Variables `/bin/sh` sets by itself in any script.
const SHELL_OWN: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_"];

fn executable(env: &Env, name: &str, contents: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = env.file(name, contents);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn master_key_text(env: &Env) -> String {
    std::fs::read_to_string(env.store.data_dir().join("master.key"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn a_script_provider_sees_only_its_contract_and_never_the_master_key() {
    let env = Env::new();
    let dump = env.path("script-env.txt");
    let parent = env.path("parent-environ.txt");
    let script = executable(
        &env,
        "dump-env.sh",
        &format!(
            "#!/bin/sh\nenv > '{}'\ntr '\\0' '\\n' < /proc/$PPID/environ > '{}'\n",
            dump.display(),
            parent.display()
        ),
    );
    env.ok(&[
        "dns",
        "account",
        "create",
        "hook",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        &format!("command={}", script.display()),
    ]);
    let key = master_key_text(&env);
    let out = env
        .command(&["dns", "account", "test", "hook"])
        .env("CERTMGR_MASTER_KEY", &key)
        .env("SENTINEL_API_TOKEN", "sentinel-7d3f")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let seen = std::fs::read_to_string(&dump).unwrap();
    assert!(seen.contains("CERTMGR_ACTION="), "the script ran: {seen}");
    for line in seen.lines() {
        let name = line.split('=').next().unwrap_or_default();
        assert!(
            SCRIPT_CONTRACT.contains(&name) || SHELL_OWN.contains(&name),
            "the script saw {name}, which its contract does not pass:\n{seen}"
        );
    }
    for leak in [key.as_str(), "sentinel-7d3f", "CERTMGR_DATABASE_URL"] {
        assert!(!seen.contains(leak), "{leak} reached the script:\n{seen}");
    }
    // certmgr's own environment no longer holds the key either (it is
    // overwritten where /proc shows the environment certmgr started with).
    let parent_env = std::fs::read_to_string(&parent).unwrap();
    assert!(
        parent_env.contains("SENTINEL_API_TOKEN=sentinel-7d3f"),
        "control: the parent's environment was read:\n{parent_env}"
    );
    assert!(
        !parent_env.contains(&key),
        "the master key is still in certmgr's environment:\n{parent_env}"
    );
}

#[test]
fn secret_parameters_are_refused_inline_and_read_from_files_stdin_or_env() {
    let env = Env::new();
    let before = env.digest();
    let err = env.fails(
        2,
        &[
            "dns",
            "account",
            "create",
            "cf",
            "--provider",
            "cloudflare",
            "--zone",
            "example.com",
            "--set",
            "api_token=tok-inline-1234",
        ],
    );
    assert!(err.contains("api_token is secret"), "{err}");
    assert!(err.contains("api_token=@env:VAR"), "{err}");
    assert!(
        !err.contains("tok-inline-1234"),
        "the value is echoed: {err}"
    );
    assert_eq!(env.digest(), before, "a refused command changed the store");

    // rfc2136's TSIG secret too.
    let err = env.fails(
        2,
        &[
            "dns",
            "account",
            "create",
            "ns",
            "--provider",
            "rfc2136",
            "--zone",
            "example.com",
            "--set",
            "server=127.0.0.1:53",
            "--set",
            "key_name=k",
            "--set",
            "key_secret=c2VjcmV0",
        ],
    );
    assert!(err.contains("key_secret is secret"), "{err}");
    assert_eq!(env.digest(), before);

    // From an environment variable.
    let out = env
        .command(&[
            "dns",
            "account",
            "create",
            "cf",
            "--provider",
            "cloudflare",
            "--zone",
            "example.com",
            "--set",
            "api_token=@env:CF_TOKEN",
        ])
        .env("CF_TOKEN", "tok-from-env")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An unset variable is named.
    let err = env.fails(
        2,
        &[
            "dns",
            "account",
            "create",
            "cf2",
            "--provider",
            "cloudflare",
            "--zone",
            "example.org",
            "--set",
            "api_token=@env:CERTMGR_TEST_UNSET_VARIABLE",
        ],
    );
    assert!(
        err.contains("CERTMGR_TEST_UNSET_VARIABLE is not set"),
        "{err}"
    );

    // From standard input.
    let mut child = env
        .command(&[
            "dns",
            "account",
            "create",
            "cf3",
            "--provider",
            "cloudflare",
            "--zone",
            "example.net",
            "--set",
            "api_token=@-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"tok-from-stdin\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accounts = env.json(&["dns", "account", "list"]);
    let names: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cf", "cf3"]);
    // Neither value is stored in clear.
    let raw = env.store.raw_bytes();
    for value in ["tok-from-env", "tok-from-stdin"] {
        assert!(
            !raw.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value} is stored in clear"
        );
    }
}

#[test]
fn a_crashing_certmgr_writes_no_core_dump() {
    use std::os::unix::process::ExitStatusExt;
    let env = Env::new();
    // A script provider that waits, so that certmgr is running when we look.
    let script = executable(&env, "wait.sh", "#!/bin/sh\nsleep 20\n");
    env.ok(&[
        "dns",
        "account",
        "create",
        "slow",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        &format!("command={}", script.display()),
    ]);
    // Started with core dumps allowed, as a careless service unit would.
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "ulimit -c unlimited && exec '{}' dns account test slow",
            env!("CARGO_BIN_EXE_certmgr")
        ))
        .current_dir(env.store.work_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env.store.env() {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    // Wait until certmgr has started its script (and so hardened itself).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (limits, script_pids) = loop {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
        let children = children_of(pid);
        if !children.is_empty() || Instant::now() > deadline {
            break (limits, children);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!script_pids.is_empty(), "certmgr never started its script");
    let core_line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default()
        .to_owned();
    let fields: Vec<&str> = core_line.split_whitespace().collect();
    assert_eq!(
        fields.get(4..6),
        Some(&["0", "0"][..]),
        "certmgr keeps a core size limit: {core_line}"
    );
    // SIGABRT dumps core for a process that allows it (Rust's own SIGSEGV
    // handler would swallow a SIGSEGV sent with kill).
    std::process::Command::new("kill")
        .args(["-ABRT", &pid.to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    for script in script_pids {
        let _ = std::process::Command::new("kill")
            .arg(script.to_string())
            .status();
    }
    assert_eq!(status.signal(), Some(6), "{status:?}");
    assert!(!status.core_dumped(), "certmgr dumped core");
    assert!(
        !env.path("core").exists(),
        "a core file was written in the working directory"
    );
}

/// The processes whose parent is `pid` (from /proc/*/stat).
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The fields after the command name (which may hold spaces) in parentheses.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if after.split_whitespace().nth(1) == Some(pid.to_string().as_str()) {
            found.push(child);
        }
    }
    found
}

#[test]
fn a_master_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let before = env.digest();
    let key = env.store.data_dir().join("master.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = env.fails(2, &["cred", "list"]);
    assert!(err.contains("mode 0644"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(&["cred", "list"]);
    assert_eq!(env.digest(), before);
}

#[test]
fn a_database_password_never_appears_in_an_error() {
    let env = Env::new();
    for url in [
        "postgres://certmgr:hunter2-secret@127.0.0.1:1/none?connect_timeout=2",
        "mysql://certmgr:hunter2-secret@127.0.0.1/none",
    ] {
        let out = env
            .command(&["--database-url", url, "cred", "list"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}");
        assert!(stderr.contains("certmgr:***@127.0.0.1"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    }
}
