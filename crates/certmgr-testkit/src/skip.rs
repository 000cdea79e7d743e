//! One way to skip a test whose peer is missing, so that the test command's
//! tally can count skipped tests apart from passed ones.

use std::io::Write;

/// Prefix of the line [`skip`] writes; `scripts/test` counts these lines.
pub const SKIP_PREFIX: &str = "SKIPPED: ";

/// Records that the running test is skipped because of `reason`: writes
/// `SKIPPED: <test name>: <reason>` straight to the process's stderr (libtest
/// would capture `eprintln!`), where `scripts/test` counts it. Under `CI=true`
/// a skip is a failure instead: it panics with `reason` and `install_hint`.
pub fn skip(reason: &str, install_hint: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{reason} and CI=true: {install_hint}; tests must not be skipped in CI"
    );
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned();
    let _ = writeln!(std::io::stderr(), "{SKIP_PREFIX}{name}: {reason}");
}

/// Whether the `openssl` command runs. Otherwise the running test is
/// skipped with [`skip`] (a failure under `CI=true`) and this returns false.
pub fn openssl_available() -> bool {
    let runs = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !runs {
        skip(
            "openssl not installed",
            "install the Debian package `openssl` (scripts/install-deps)",
        );
    }
    runs
}
