//! The command line of `certmgr token ...` and `certmgr user ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::NameArg;

/// `certmgr token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its secret is printed once.
    Create(TokenCreateArgs),
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token: it is refused from now on.
    Revoke(NameArg),
}

/// `certmgr token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// A name saying what the token is for (e.g. deploy-web).
    pub name: String,
    /// admin, operator or viewer.
    #[arg(long)]
    pub role: String,
    /// Limit the role to credentials tagged KEY=VALUE.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// Days until the token stops working (default: never).
    #[arg(long, value_name = "DAYS")]
    pub expires: Option<u32>,
}

/// `certmgr user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a local user (a password is made and printed once unless given).
    Add(UserAddArgs),
    /// List the users (never their passwords).
    List,
}

/// `certmgr user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The login name.
    pub name: String,
    /// admin, operator or viewer.
    #[arg(long)]
    pub role: String,
    /// Limit the role to credentials tagged KEY=VALUE.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}
