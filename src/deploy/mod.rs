//! `leoflow deploy` and what it needs: sign-ins to control planes (`credentials`), the
//! control plane API (`client`), the image builder and registry client (`oci`) and the
//! command itself (`run`).

pub mod client;
pub mod credentials;
pub mod login;
