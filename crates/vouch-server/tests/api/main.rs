#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! vouch-server end to end: a real server on 127.0.0.1:0 over a real SQLite file, per test.

mod authorization;
mod bad_input;
mod central_sync;
mod conformance;
mod dis_at_kiosks;
mod dis_chip;
mod dis_faces;
mod dis_liveness;
mod dis_pages;
mod dis_sessions;
mod dis_trust_platform;
mod eeid;
mod flows;
mod front_door;
mod kiosk;
mod kiosk_camera;
mod kiosk_chip;
mod kiosk_document;
mod layers;
mod limits;
mod oauth;
mod pairing;
mod signing;
mod surface;
mod tls;
mod verifik;
mod verifik_messages;
mod webhooks;
