//! signaal: an anonymous signal channel for frontline professionals in
//! government. Signals are encrypted with age at the door; only the programme
//! team's reviewers, with their own unlocked identities, can read them.

#![forbid(unsafe_code)]

pub mod annual;
pub mod audit;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod health;
pub mod intake;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod review;
pub mod reviewer_cmd;
pub mod server;
pub mod signal;
pub mod store;
pub mod summary;
pub mod views;
pub mod web;
