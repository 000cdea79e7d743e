//! Schemathesis (PyPI) against a real `certmgr server`: `scripts/schemathesis`
//! starts the server over HTTPS on a fresh store (this test's backend),
//! fills it, and calls every operation of `/api/openapi.json` with generated
//! requests under an admin token, a bounded number per operation with a fixed
//! seed. It fails on any 5xx and on any status code, Content-Type or body
//! the document does not declare. Without schemathesis (no Python venv
//! support, or no package index) the test prints a visible SKIPPED line;
//! under CI=true it fails instead.

use std::process::Command;

use certmgr_testkit::TestStore;

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    let script = certmgr_testkit::repo_root().join("scripts/schemathesis");
    // Only for its database: the script makes its own data directory.
    let store = TestStore::new();
    let mut command = Command::new(&script);
    command
        .arg("run")
        .arg(env!("CARGO_BIN_EXE_certmgr"))
        .env_remove("CERTMGR_DATABASE_URL")
        .env("TMPDIR", store.work_dir());
    if let Some(url) = store.database_url() {
        command.env("CERTMGR_DATABASE_URL", url);
    }
    let output = command.output().expect("run scripts/schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        certmgr_testkit::skip(
            &format!(
                "schemathesis cannot be installed here: {}",
                stderr.trim().lines().last().unwrap_or("no reason given")
            ),
            "run scripts/schemathesis install as root (it needs python3-venv and PyPI)",
        );
        return;
    }
    assert!(
        output.status.success(),
        "scripts/schemathesis run failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains(" passed"),
        "schemathesis ran no test case:\n{stdout}"
    );
}
