//! The scheduler: decides which task instances run next, by Airflow 3's rules.
//!
//! `rules` holds the pure trigger-rule evaluation; the event-driven loop that applies it to
//! runs in the store is built on top of it.

pub mod rules;
