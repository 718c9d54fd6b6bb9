//! `leoflow deploy` and what it needs: sign-ins to control planes (`credentials`, `login`),
//! the control plane's API (`client`), the daemonless image builder and registry client
//! (`oci`, `layer`) and the command itself (`run`).

pub mod client;
pub mod credentials;
pub mod layer;
pub mod login;
pub mod oci;
pub mod run;
