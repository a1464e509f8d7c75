/*!
Kicau: the helpdesk bot of a city government's X account.

The crate is organised by domain (see ARCHITECTURE.md): [`language`] turns informal Indonesian,
Javanese and walikan into search terms; [`knowledge`] reads, checks and indexes the knowledge base;
[`triage`] decides what to do with one tweet and writes the reply; [`eval`] measures triage on
labelled tweets. These parts are pure: no database, no network.
*/

pub mod announce;
pub mod channels;
pub mod config;
pub mod console;
pub mod costs;
pub mod desk;
pub mod eval;
pub mod knowledge;
pub mod language;
pub mod learning;
pub mod privacy;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod staff_group;
pub mod store;
pub mod tickets;
pub mod triage;
pub mod tweet;
pub mod wib;

pub use config::Config;
pub use triage::{Decision, Engine, Kind};
