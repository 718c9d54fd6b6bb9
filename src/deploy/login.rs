//! `leoflow auth login | logout | status`: sign in to a control plane (Pro, or a shared Lite)
//! and keep the token for `leoflow deploy` (`credentials`).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::client::ControlPlane;
use super::credentials::{self, Credentials, Login, expired, expiry, server_key};
use crate::config::Config;

/// The token to use for `server`: `LEOFLOW_TOKEN`, else the saved sign-in.
pub fn token_for(server: &str) -> anyhow::Result<Option<(String, &'static str)>> {
    if let Ok(t) = std::env::var("LEOFLOW_TOKEN")
        && !t.is_empty()
    {
        return Ok(Some((t, "LEOFLOW_TOKEN")));
    }
    let path = credentials::path(&|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?;
    let creds = Credentials::load(&path).map_err(anyhow::Error::msg)?;
    Ok(creds
        .servers
        .get(&server_key(server))
        .map(|l| (l.token.clone(), "the saved sign-in")))
}

/// The server a command talks to: `--server`, else the `server` setting.
pub fn server(flag: Option<&str>, config: &Config) -> anyhow::Result<String> {
    match flag.map(String::from).or_else(|| config.server.clone()) {
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => Ok(server_key(&s)),
        Some(s) => bail!("server {s:?} is not a URL: give http(s)://host[:port]"),
        None => bail!(
            "no control plane given: pass --server URL (or set LEOFLOW_SERVER, or `server` in leoflow.toml)"
        ),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// `leoflow auth login`.
pub fn login(
    config: &Config,
    server_flag: Option<&str>,
    username: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let server = server(server_flag, config)?;
    let interactive = std::io::stdin().is_terminal();
    let username = match username {
        Some(u) => u.to_string(),
        None if interactive && !password_stdin => {
            eprint!("Username for {server}: ");
            std::io::stderr().flush()?;
            let mut u = String::new();
            std::io::stdin().lock().read_line(&mut u)?;
            u.trim().to_string()
        }
        None => bail!("pass --username (no terminal to ask on)"),
    };
    let password = if password_stdin {
        let mut p = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut p)
            .context("reading the password from standard input")?;
        p.trim_end_matches(['\n', '\r']).to_string()
    } else if interactive {
        rpassword::prompt_password(format!("Password for {username} at {server}: "))?
    } else {
        bail!("no terminal to ask the password on: pipe it with --password-stdin");
    };
    let token =
        runtime()?.block_on(ControlPlane::new(&server, None).login(&username, &password))?;
    let path = credentials::path(&|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?;
    let mut creds = Credentials::load(&path).map_err(anyhow::Error::msg)?;
    let expires_at = expiry(&token);
    creds.servers.insert(
        server.clone(),
        Login {
            username: username.clone(),
            token,
            expires_at: expires_at.clone(),
        },
    );
    creds.save(&path).map_err(anyhow::Error::msg)?;
    println!(
        "Signed in to {server} as {username}{} (saved in {})",
        expires_at
            .map(|e| format!(", until {e}"))
            .unwrap_or_default(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `leoflow auth logout`: forgets the sign-in of one server (or of all with no server).
pub fn logout(config: &Config, server_flag: Option<&str>) -> anyhow::Result<ExitCode> {
    let path = credentials::path(&|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?;
    let mut creds = Credentials::load(&path).map_err(anyhow::Error::msg)?;
    let which = server_flag
        .map(String::from)
        .or_else(|| config.server.clone());
    match which {
        Some(s) => {
            let key = server_key(&s);
            if creds.servers.remove(&key).is_none() {
                println!("Not signed in to {key}");
                return Ok(ExitCode::SUCCESS);
            }
            println!("Signed out of {key}");
        }
        None => {
            println!("Signed out of {} server(s)", creds.servers.len());
            creds.servers.clear();
        }
    }
    creds.save(&path).map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}

/// `leoflow auth status`: server, user and expiry of each sign-in (or of one server); exit 1
/// when that sign-in is missing or expired (without a server: when none is valid).
pub fn status(config: &Config, server_flag: Option<&str>) -> anyhow::Result<ExitCode> {
    let path = credentials::path(&|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?;
    let creds = Credentials::load(&path).map_err(anyhow::Error::msg)?;
    if let Ok(t) = std::env::var("LEOFLOW_TOKEN")
        && !t.is_empty()
    {
        let e = expiry(&t);
        println!(
            "LEOFLOW_TOKEN is set and overrides the saved sign-ins{}",
            e.as_ref()
                .map(|e| format!(" (expires {e})"))
                .unwrap_or_default()
        );
        return Ok(if expired(e.as_deref()) {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let which = server_flag
        .map(String::from)
        .or_else(|| config.server.clone())
        .map(|s| server_key(&s));
    let shown: Vec<(&String, &Login)> = creds
        .servers
        .iter()
        .filter(|(k, _)| which.as_ref().is_none_or(|w| w == *k))
        .collect();
    if shown.is_empty() {
        match which {
            Some(w) => println!("Not signed in to {w}: run `leoflow auth login --server {w}`"),
            None => println!("Not signed in to any server: run `leoflow auth login --server URL`"),
        }
        return Ok(ExitCode::FAILURE);
    }
    let mut valid = 0;
    for (server, l) in &shown {
        let dead = expired(l.expires_at.as_deref());
        if !dead {
            valid += 1;
        }
        println!(
            "{server}  {}  {}",
            l.username,
            match (&l.expires_at, dead) {
                (Some(e), true) =>
                    format!("EXPIRED at {e}: run `leoflow auth login --server {server}`"),
                (Some(e), false) => format!("valid until {e}"),
                (None, _) => "no expiry in the token".to_string(),
            }
        );
    }
    Ok(if valid > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
