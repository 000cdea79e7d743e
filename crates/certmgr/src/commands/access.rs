//! `certmgr token ...` and `certmgr user ...`: the engine makes them
//! ([`certmgr_engine::access`]); this reads the role, tag and password and
//! prints the secret once.

use crate::commands::Target;
use certmgr_core::Role;
use certmgr_engine::access::{create_token, create_user, parse_scope};
use serde_json::json;

use crate::cli::{TokenCreateArgs, UserAddArgs};
use crate::error::{CliError, CliResult};
use crate::input::read_password;
use crate::output::{print_json, print_table, timestamp};

fn role(text: &str) -> CliResult<Role> {
    text.parse()
        .map_err(|_| CliError::bad_input(format!("--role {text:?}: use admin, operator or viewer")))
}

fn scope_text(scope: &Option<certmgr_store::TagScope>) -> String {
    scope
        .as_ref()
        .map(|s| format!("{}={}", s.key, s.value))
        .unwrap_or_else(|| "all".into())
}

pub async fn token_create(
    target: &Target<'_>,
    args: &TokenCreateArgs,
    json: bool,
) -> CliResult<()> {
    let engine = target.engine("token create")?;
    let role = role(&args.role)?;
    let scope = args.tag.as_deref().map(parse_scope).transpose()?;
    let issued = create_token(engine, &args.name, role, scope.as_ref(), args.expires).await?;
    if json {
        return print_json(&json!({ "token": issued.record, "secret": issued.secret.as_str() }));
    }
    println!("{}", issued.secret.as_str());
    eprintln!(
        "API token {:?} ({role}, credentials: {}) created; the secret above is shown once: give it as CERTMGR_TOKEN",
        issued.record.name,
        scope_text(&issued.record.scope)
    );
    Ok(())
}

pub async fn token_list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let engine = target.engine("token list")?;
    let tokens = engine.store().list_tokens().await?;
    if json {
        return print_json(&tokens);
    }
    let when = |t: Option<i64>| t.map(timestamp).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.role.to_string(),
                scope_text(&t.scope),
                when(t.expires_at),
                when(t.revoked_at),
                when(t.last_used_at),
            ]
        })
        .collect();
    print_table(
        &[
            "NAME",
            "ROLE",
            "CREDENTIALS",
            "EXPIRES",
            "REVOKED",
            "LAST USED",
        ],
        &rows,
    )
}

pub async fn token_revoke(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    let engine = target.engine("token revoke")?;
    let token = engine.store().revoke_token(name).await?;
    if json {
        return print_json(&token);
    }
    println!("API token {name:?} revoked");
    Ok(())
}

pub async fn user_add(target: &Target<'_>, args: &UserAddArgs, json: bool) -> CliResult<()> {
    let engine = target.engine("user add")?;
    let role = role(&args.role)?;
    let scope = args.tag.as_deref().map(parse_scope).transpose()?;
    let password = args
        .password_file
        .as_deref()
        .map(read_password)
        .transpose()?;
    let (user, made) = create_user(engine, &args.name, role, scope.as_ref(), password).await?;
    if json {
        return print_json(
            &json!({ "user": user, "password": made.as_deref().map(String::as_str) }),
        );
    }
    match made {
        Some(password) => {
            println!("{}", password.as_str());
            eprintln!(
                "user {:?} ({role}) added; the password above is shown once",
                user.name
            );
        }
        None => println!("user {:?} ({role}) added", user.name),
    }
    Ok(())
}

pub async fn user_list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let engine = target.engine("user list")?;
    let users = engine.store().list_users().await?;
    if json {
        return print_json(&users);
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.name.clone(),
                u.role.to_string(),
                scope_text(&u.scope),
                if u.has_password {
                    "password"
                } else {
                    "single sign-on"
                }
                .into(),
                timestamp(u.created_at),
            ]
        })
        .collect();
    print_table(
        &["NAME", "ROLE", "CREDENTIALS", "SIGN-IN", "CREATED"],
        &rows,
    )
}
