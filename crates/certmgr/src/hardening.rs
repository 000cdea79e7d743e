//! Process hardening done once, first thing in `main`, while the process is
//! still single-threaded: take the master key out of the environment and keep
//! secrets out of core dumps; and fix the C library's allocator so that a
//! long-running server gives back the memory it no longer uses.
//!
//! This is the one module of the workspace allowed `unsafe`: the C library
//! calls below have no safe wrapper in `std`, and `std::env::remove_var` is
//! unsafe because another thread could read the environment at the same time.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::sync::OnceLock;

use zeroize::Zeroizing;

/// The master key as it was in `CERTMGR_MASTER_KEY` when certmgr started.
static ENV_MASTER_KEY: OnceLock<Option<Zeroizing<String>>> = OnceLock::new();

/// The first admin's password as it was in `CERTMGR_ADMIN_PASSWORD`.
static ENV_ADMIN_PASSWORD: OnceLock<Option<Zeroizing<String>>> = OnceLock::new();

/// The API token of `--server` mode, as it was in `CERTMGR_TOKEN`.
static ENV_TOKEN: OnceLock<Option<Zeroizing<String>>> = OnceLock::new();

/// The variable the API token of `--server` mode is read from.
pub const TOKEN_ENV: &str = "CERTMGR_TOKEN";

/// The API token from `CERTMGR_TOKEN`, read by [`harden_process`].
pub fn env_token() -> Option<Zeroizing<String>> {
    ENV_TOKEN
        .get()
        .and_then(Option::as_ref)
        .filter(|token| !token.trim().is_empty())
        .cloned()
}

/// The variable `certmgr server` reads the first admin's password from.
pub const ADMIN_PASSWORD_ENV: &str = "CERTMGR_ADMIN_PASSWORD";

/// Hardens the process. Must be called before any thread starts (before the
/// async runtime is built): it changes the process environment.
pub fn harden_process() {
    disable_core_dumps();
    fix_mmap_threshold();
    let _ = ENV_MASTER_KEY.set(take_env_secret(certmgr_store::MASTER_KEY_ENV));
    let _ = ENV_ADMIN_PASSWORD.set(take_env_secret(ADMIN_PASSWORD_ENV));
    let _ = ENV_TOKEN.set(take_env_secret(TOKEN_ENV));
}

/// The first admin's password from `CERTMGR_ADMIN_PASSWORD`, read by
/// [`harden_process`]; `None` when unset or empty.
pub fn env_admin_password() -> Option<Zeroizing<String>> {
    ENV_ADMIN_PASSWORD
        .get()
        .and_then(Option::as_ref)
        .filter(|password| !password.is_empty())
        .cloned()
}

/// The master key from `CERTMGR_MASTER_KEY`, read by [`harden_process`];
/// `None` when the variable was unset or empty.
pub fn env_master_key() -> Option<&'static str> {
    ENV_MASTER_KEY
        .get()
        .and_then(Option::as_ref)
        .map(|key| key.as_str())
        .filter(|key| !key.trim().is_empty())
}

/// Reads an environment variable, overwrites its bytes in place (so that
/// `/proc/PID/environ`, which shows the environment the process started with,
/// no longer carries it) and removes it, so neither this process's children
/// nor anyone reading its memory later finds the value there.
fn take_env_secret(name: &str) -> Option<Zeroizing<String>> {
    let value = Zeroizing::new(std::env::var(name).ok()?);
    let Ok(c_name) = CString::new(name) else {
        return Some(value);
    };
    // SAFETY: single-threaded (see `harden_process`), so no other thread
    // reads or changes the environment meanwhile. `getenv` returns a pointer
    // to the NUL-terminated value inside the environment block, or null;
    // overwriting its `strlen` bytes stays inside that string.
    unsafe {
        let ptr = libc::getenv(c_name.as_ptr());
        if !ptr.is_null() {
            let len = libc::strlen(ptr);
            std::ptr::write_bytes(ptr, b'0', len);
        }
        std::env::remove_var(name);
    }
    Some(value)
}

/// Keeps key material out of core dumps: a core size limit of zero, and on
/// Linux the process marked not dumpable (which also keeps other processes of
/// the same user from reading its memory through ptrace or `/proc`).
fn disable_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `setrlimit` reads the struct we pass; it has no other effect on memory.
    // A failure (not permitted) leaves the default, which is all we can do.
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory.
    let _ = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
}

/// Blocks of 128 KiB and more: served by `mmap` of their own, and given back
/// to the system as soon as they are freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Turns off glibc's moving mmap threshold. By default glibc raises the
/// threshold to the size of the largest `mmap`ed block freed so far (up to
/// 32 MiB), and heaps are trimmed only when twice that is free at their top:
/// after one password hash (Argon2 takes 19 MiB) or one large SQLite sort,
/// every later buffer below that size came from the heaps and stayed there:
/// `certmgr server` with 10,000 credentials held about twice the memory it
/// uses (bench/README.md, `bench/api.sh`). Setting the threshold once turns
/// the adjustment off for good.
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` takes two integers and only changes the allocator's
    // parameters; called before any other thread exists. A failure (0) leaves
    // glibc's default, which is all we can do.
    let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
}
