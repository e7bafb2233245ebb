//! `gleh user create|list|set-password|revoke-sessions|delete|set-admin|disable|enable`.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, bail};

use super::UserCommand;
use crate::{
    auth::password::Hasher,
    config::Config,
    db::{
        Db, sessions,
        users::{self, AccountChange, Applied, Created, User},
    },
    domain::{NewPassword, Username, username_key},
    time::{iso8601, now},
};

fn read_password(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let pw = if stdin.is_terminal() {
        let first = rpassword::prompt_password(prompt)?;
        let again = rpassword::prompt_password("Repeat: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    Ok(pw)
}

async fn find(db: &Db, username: &str) -> anyhow::Result<User> {
    users::find_by_key(db, &username_key(username))
        .await?
        .with_context(|| format!("no user named {username:?}"))
}

pub(super) async fn run(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let db = super::open_migrated(config).await?;
    match cmd {
        UserCommand::Create { username, admin } => {
            let name = Username::parse(&username).map_err(anyhow::Error::msg)?;
            let pw = read_password("Password: ")?;
            let pw = NewPassword::parse(&pw, &username, config.min_password_length)
                .map_err(anyhow::Error::msg)?;
            let hash = Hasher::new().hash(pw.into_inner()).await?;
            match users::insert(&db, name.as_ref(), &name.key(), &hash, admin, now()).await? {
                Created::Id(id) => println!(
                    "created user {username} (id {id}{})",
                    if admin { ", admin" } else { "" }
                ),
                Created::Taken => bail!("username {username:?} is taken"),
            }
        }
        UserCommand::List => {
            println!(
                "{:>6}  {:<24} {:<6} {:<9} created",
                "id", "username", "admin", "disabled"
            );
            for u in users::list(&db).await? {
                println!(
                    "{:>6}  {:<24} {:<6} {:<9} {}",
                    u.id,
                    u.username,
                    if u.is_admin { "yes" } else { "no" },
                    if u.disabled { "yes" } else { "no" },
                    iso8601(u.created_at)
                );
            }
        }
        UserCommand::SetPassword { username } => {
            let u = find(&db, &username).await?;
            let pw = read_password("New password: ")?;
            let pw = NewPassword::parse(&pw, &u.username, config.min_password_length)
                .map_err(anyhow::Error::msg)?;
            let hash = Hasher::new().hash(pw.into_inner()).await?;
            let ended = users::set_password_hash(&db, u.id, &hash, None).await?;
            println!("password set for {}; {ended} session(s) ended", u.username);
        }
        UserCommand::RevokeSessions { username } => {
            let u = find(&db, &username).await?;
            let ended = sessions::delete_for_user(&db, u.id).await?;
            println!("{ended} session(s) of {} ended", u.username);
        }
        UserCommand::Delete { username } => {
            let u = find(&db, &username).await?;
            change(&db, &username, AccountChange::Delete).await?;
            println!("deleted user {}", u.username);
        }
        UserCommand::SetAdmin { username, remove } => {
            let done = change(&db, &username, AccountChange::SetAdmin(!remove)).await?;
            let what = if remove {
                "no longer an admin"
            } else {
                "now an admin"
            };
            println!("{done}: {what}");
        }
        UserCommand::Disable { username } => {
            let done = change(&db, &username, AccountChange::Disable).await?;
            println!("{done}: disabled");
        }
        UserCommand::Enable { username } => {
            let done = change(&db, &username, AccountChange::Enable).await?;
            println!("{done}: enabled");
        }
    }
    Ok(())
}

/// Applies an account change by name; "NAME (N session(s) ended)" when done. The CLI may
/// change any account but, as the web, may not leave the hub without an enabled admin
/// unless there was none to begin with.
async fn change(db: &Db, username: &str, change: AccountChange) -> anyhow::Result<String> {
    let u = find(db, username).await?;
    match users::apply(db, u.id, change).await? {
        Applied::NotFound => bail!("no user named {username:?}"),
        Applied::LastAdmin => bail!(
            "{} is the last enabled admin; make another account an admin first",
            u.username
        ),
        Applied::Done { sessions_ended, .. } => Ok(format!(
            "{} ({sessions_ended} session(s) ended)",
            u.username
        )),
    }
}
