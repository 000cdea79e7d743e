//! Reading the files a user hands to certmgr, defensively.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// The largest input file certmgr reads (certificates, keys, PKCS#12).
const MAX_INPUT_BYTES: u64 = certmgr_pki::MAX_INPUT_LEN as u64;

/// Read a whole input file; refuses missing, empty and oversized files.
pub fn read_input(path: &Path) -> CliResult<Vec<u8>> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::bad_input(format!("cannot read {shown}: {e}")))?;
    let mut data = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| CliError::bad_input(format!("cannot read {shown}: {e}")))?;
    if data.is_empty() {
        return Err(CliError::bad_input(format!("{shown} is empty")));
    }
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(CliError::bad_input(format!(
            "{shown} is larger than {} KiB: not a certificate, key or PKCS#12 file",
            MAX_INPUT_BYTES / 1024
        )));
    }
    Ok(data)
}

/// Read a password from the first line of a file (the newline is not part of it).
pub fn read_password(path: &Path) -> CliResult<Zeroizing<String>> {
    let data = Zeroizing::new(read_input(path).or_else(|e| {
        // An empty password file means an empty password, which is legal for PKCS#12.
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() == 0 => Ok(Vec::new()),
            _ => Err(e),
        }
    })?);
    let text = std::str::from_utf8(&data).map_err(|_| {
        CliError::bad_input(format!(
            "{}: the password is not UTF-8 text",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_owned()))
}

/// Reads the values of `--set NAME=VALUE` parameters. A value can be given
/// inline, or read from elsewhere so that it stays out of `ps` and the shell
/// history: `NAME=@FILE` (first line of a file), `NAME=@-` (first line of
/// standard input) or `NAME=@env:VAR` (an environment variable). Parameters
/// in `secret` must come from one of those; an inline value is refused.
pub fn read_params(
    pairs: &[String],
    secret: &std::collections::BTreeSet<String>,
) -> CliResult<std::collections::BTreeMap<String, Zeroizing<String>>> {
    let mut params = std::collections::BTreeMap::new();
    let mut stdin_used = false;
    for pair in pairs {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            CliError::bad_input(format!(
                "--set {:?}: use NAME=VALUE, or NAME=@FILE, NAME=@- (standard input) or NAME=@env:VAR",
                pair.split('=').next().unwrap_or_default()
            ))
        })?;
        let value = match value.strip_prefix('@') {
            Some("-") => {
                if std::mem::replace(&mut stdin_used, true) {
                    return Err(CliError::bad_input(format!(
                        "--set {name}=@-: standard input can give only one value; read the others from files or @env:VAR"
                    )));
                }
                read_first_line(std::io::stdin().lock(), "standard input")?
            }
            Some(spec) if spec.starts_with("env:") => {
                let var = &spec["env:".len()..];
                match std::env::var(var) {
                    Ok(v) if !v.is_empty() => Zeroizing::new(v),
                    _ => {
                        return Err(CliError::bad_input(format!(
                            "--set {name}=@env:{var}: the environment variable {var} is not set"
                        )));
                    }
                }
            }
            Some(path) => read_password(Path::new(path))?,
            None if secret.contains(name) => {
                return Err(CliError::bad_input(format!(
                    "--set {name}: {name} is secret, and a value on the command line shows in `ps` and the shell history; \
                     give it as {name}=@FILE, {name}=@- (standard input) or {name}=@env:VAR"
                )));
            }
            None => Zeroizing::new(value.to_owned()),
        };
        params.insert(name.to_owned(), value);
    }
    Ok(params)
}

/// The first line of a reader, at most [`MAX_INPUT_BYTES`].
fn read_first_line(reader: impl Read, what: &str) -> CliResult<Zeroizing<String>> {
    let mut data = Zeroizing::new(Vec::new());
    reader
        .take(MAX_INPUT_BYTES)
        .read_to_end(&mut data)
        .map_err(|e| CliError::bad_input(format!("cannot read {what}: {e}")))?;
    let text = std::str::from_utf8(&data)
        .map_err(|_| CliError::bad_input(format!("{what}: the value is not UTF-8 text")))?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}

/// Write a file atomically (temp file + rename) with the given Unix mode.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> CliResult<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let failed =
        |e: std::io::Error| CliError::failed(format!("cannot write {}: {e}", path.display()));
    let mut temp = tempfile_in(dir).map_err(failed)?;
    temp.1.write_all(contents).map_err(failed)?;
    temp.1.sync_all().map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp.0, std::fs::Permissions::from_mode(mode)).map_err(failed)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    std::fs::rename(&temp.0, path).map_err(failed)
}

/// Create a uniquely named file in `dir`, private to the owner from the start.
fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    for attempt in 0u32..100 {
        let name = format!(".certmgr-{}-{attempt}.tmp", std::process::id());
        let path = dir.join(name);
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}
