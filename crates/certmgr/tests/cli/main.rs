//! End-to-end tests of the `certmgr` binary against a real store (SQLite, or
//! PostgreSQL when `CERTMGR_TEST_BACKEND=postgres`) and the real `openssl` CLI.
//! One test binary, grouped by feature.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod util;

mod access;
mod acme;
mod acme_faults;
mod acme_renewal;
mod acme_safety;
mod api;
mod audit;
mod bad_input;
mod check;
mod concurrency;
mod dns01;
mod due_index;
mod dxl;
mod hardening;
mod import_export;
mod listeners;
mod manager;
mod manual_flow;
mod metrics;
mod microca;
mod remote;
mod schemathesis;
mod secrets;
mod server;
mod store_integrity;
mod tags;
mod ui;
