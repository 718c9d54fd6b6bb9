//! The route table: every route is added through a [`Group`] that carries the access its
//! routes need, so a route cannot exist without a policy. A group becomes a router with its
//! check attached as a route layer (`api::auth::require`), and it keeps the list of what it
//! added ([`Route`]) for [`super::route_table`], which the policy tests walk.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;

use super::AppState;
use crate::auth::{Access, Role};

/// One route: method, path template (relative to its mount point) and the access it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
}

/// Routes that share one access policy.
pub struct Group {
    access: Access,
    router: Router<AppState>,
    table: Vec<Route>,
}

macro_rules! method {
    ($name:ident, $method:ident) => {
        /// Adds a route for this method.
        pub fn $name<H, T>(mut self, path: &str, h: H) -> Group
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.table.push(Route {
                method: Method::$method,
                path: path.to_string(),
                access: self.access,
            });
            self.router = self.router.route(path, axum::routing::$name(h));
            self
        }
    };
}

impl Group {
    /// Routes anyone may call, signed in or not.
    pub fn public() -> Group {
        Group::new(Access::Public)
    }

    /// Routes that need a signed-in user with at least `role`.
    pub fn role(role: Role) -> Group {
        Group::new(Access::Role(role))
    }

    fn new(access: Access) -> Group {
        Group {
            access,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    method!(get, GET);
    method!(post, POST);
    method!(put, PUT);
    method!(patch, PATCH);
    method!(delete, DELETE);

    /// Adds the routes `f` adds (a capability module's route list).
    pub fn with(self, f: fn(Group) -> Group) -> Group {
        f(self)
    }

    /// The access this group's routes need.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The routes added so far.
    pub fn table(&self) -> &[Route] {
        &self.table
    }

    /// The router, with `layer` (the group's access check) wrapped around every route.
    pub fn into_parts(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.table)
    }
}
