/*!
X (Twitter) API v2: OAuth 1.0a request signing and the client the listener and the dispatcher use.
*/

pub mod authorize;
pub mod client;
pub mod oauth1;
pub mod oauth2;

pub use client::{Auth, Parent, Posted, Uploaded, XClient, XError, XTweet, XUser};
