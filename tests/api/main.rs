//! Integration tests, one binary: each drives the real `gleh` binary over HTTP on a random
//! port with a fresh database, on SQLite always and on PostgreSQL when one is reachable.
//! `helpers` is the harness; every other module is one feature.

mod helpers;

mod account;
mod admin_browser;
mod admin_courses;
mod admin_system;
mod admin_users;
mod auth;
mod avatar;
mod backup;
pub(crate) mod browser;
mod calibre_real;
mod courses;
mod csrf;
mod doctor;
mod early_answers;
mod ebooks;
mod ebooks_feeds;
mod faults;
mod hardening;
mod import_gleh;
mod learning;
mod multi;
mod nginx;
mod openapi;
mod rolling;
mod seed;
mod sessions;
mod systemd;
mod tls;
mod verify;
