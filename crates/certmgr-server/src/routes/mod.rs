//! The API's handlers, by area. Each parses the request, calls one engine
//! function and renders what it returns; access was checked by the gate.

pub mod access;
pub mod acme;
pub mod credentials;
pub mod dashboard;
pub mod directory;
pub mod dns;
pub mod jobs;
pub mod notifications;
pub mod oidc;
pub mod session;
pub mod transfer;
