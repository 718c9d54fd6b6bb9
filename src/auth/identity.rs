//! Who is acting: a user's name and role. The API's auth layer puts one into every request it
//! lets through; the CLI names the OS user; mutations record it in the audit log.

use serde::Serialize;

/// Roles of the simple auth manager, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user acting with a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub username: String,
    pub role: Role,
}

impl Identity {
    /// The identity of every request when auth is off (Airflow's `all_admins`).
    pub fn anonymous_admin() -> Identity {
        Identity {
            username: "Anonymous".into(),
            role: Role::Admin,
        }
    }

    /// The person running a CLI command on this machine (the OS user), as Airflow's CLI
    /// records it.
    pub fn os_user() -> Identity {
        Identity {
            username: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
            role: Role::Admin,
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without a token.
    Public,
    /// A valid token whose role is at least this one.
    Role(Role),
}
