//! The Domino community's DXL files the tests run (`../shared/seed/dxl`
//! beside the repository, Apache-2.0; `CERTMGR_SEED_DXL` names another
//! folder). They are read where they are, never copied into the project.

use std::path::PathBuf;

/// The repository root, from the `CARGO_MANIFEST_DIR` cargo gives the
/// running test (two levels below the root, `crates/<name>`). Read at run
/// time, not with `env!`: a build shared between two checkouts (CI clones
/// share one target dir) would otherwise point into the other checkout.
pub fn repo_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.join("../..")
}

/// The seed file at `rel` (e.g. `lab/acme/lab_certstore.dxl`), or `None`
/// after a visible `SKIPPED` line when the seed is absent; under `CI=true`
/// an absent seed is a failure.
pub fn seed_dxl(rel: &str) -> Option<PathBuf> {
    let root = match std::env::var_os("CERTMGR_SEED_DXL") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared/seed/dxl"),
    };
    let path = root.join(rel);
    if path.is_file() {
        return Some(path);
    }
    crate::skip(
        &format!("seed DXL {} not found", path.display()),
        "set CERTMGR_SEED_DXL to the seed folder (shared/seed/dxl)",
    );
    None
}
