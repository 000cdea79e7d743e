//! Generates the provider catalog list from the folders under `providers/`,
//! so adding a provider is adding a folder.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // At run time, not env!(): a build script binary may be reused for
    // another checkout of the same crate (a worktree sharing the target dir).
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let root = Path::new(&manifest_dir).join("../../providers");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut ids: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().join("provider.toml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    let mut out = String::from("&[\n");
    for id in &ids {
        let file = root.join(id).join("provider.toml");
        println!("cargo:rerun-if-changed={}", file.display());
        let _ = writeln!(
            out,
            "    ({id:?}, \"providers/{id}/provider.toml\", include_str!({:?})),",
            file.display().to_string()
        );
    }
    out.push(']');
    let dest =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("catalog.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
