//! Integration tests: the real `kicau` binary, run as a user runs it, on the shipped files and on
//! fixtures written to temporary folders. Each file covers one behaviour; what they share is in
//! `helpers` and nowhere else.

mod helpers;

mod ask;
mod broadcasts;
mod browser;
mod case_tools;
mod console_keys;
mod console_pages;
mod costs;
mod desk;
mod eval;
mod hardening;
mod instances;
mod kb_check;
mod learning;
mod links_in_replies;
mod mention_gap;
mod newsroom;
mod oauth2;
mod privacy;
mod properties;
mod report;
mod report_charts;
mod sandbox_media;
mod sandbox_telegram;
mod sandbox_whatsapp;
mod sandbox_x;
mod saved_replies;
mod search;
mod service;
mod staff_group;
mod store;
mod takeover;
mod telegram_sender;
mod ticket_deadlines;
mod ticket_notes;
mod ticket_places;
mod ticket_reopening;
mod ticket_rerouting;
mod ticket_threads;
mod tickets_telegram;
mod tickets_whatsapp;
mod twitter_text;

// The sandbox's own tests still call `crate::shared()`.
use helpers::shared;
