/*!
X (Twitter) API v2: OAuth 1.0a request signing today; the mentions listener and the reply client
come with the service (issue 3).
*/

pub mod oauth1;
