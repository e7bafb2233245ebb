//! Integration tests: each drives the real `gleh` binary over HTTP on a random port with a
//! fresh database, on SQLite always and on PostgreSQL when one is reachable.

mod helpers;

mod seed;
