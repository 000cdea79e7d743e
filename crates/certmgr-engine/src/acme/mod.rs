//! ACME: accounts, and the issuance and revocation of credentials.

pub mod account;
pub mod issue;

pub use account::{
    AccountOptions, AccountRule, NewAccount, Registration, connect, deactivate, register, rollover,
};
pub use issue::{connect_for, issue, issue_with, revoke};
