//! Integration tests: the real `leoflow` binary on a temp home and a free port, driven over
//! real HTTP on loopback. One test target, one module per area.

mod admin;
mod api;
mod assets;
mod auth;
mod authoring;
mod authoring_more;
mod browser;
mod containers;
mod contract;
mod deploy;
mod engine;
mod engine_images;
mod foundation;
mod oci;
mod providers;
mod registrations;
mod registry;
mod reload;
mod routes;
mod support;
mod ui;
mod webdriver;
