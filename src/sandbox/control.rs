/*!
What the control endpoints of the three stand-ins share (SANDBOX.md, "Control endpoints"): their
JSON answers (`{"ok":true}`, `{"error":"..."}`), the JSON body every `POST` takes, injected faults
(checked, queued, matched and used up the same way everywhere), and the `reset` and `faults`
handlers, written once for X, Telegram and WhatsApp.

What a fault does when it hits (the error each platform answers) stays with each stand-in: only
the bookkeeping is shared.
*/

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::de::DeserializeOwned;
use serde_json::json;

/// A stand-in the shared control handlers act on.
pub(super) trait Controlled: Clone + Send + Sync + 'static {
    /// The faults its `faults` endpoint takes.
    type Fault: Fault;

    /// Forgets the stand-in's state, as its public `reset` documents.
    fn forget(&self);

    /// Queues a fault that passed the shared checks.
    fn inject(&self, fault: Self::Fault);
}

/// A fault a test injects: the next `times` matching calls wait `delay_ms`, then fail with
/// `status` or, without a status, proceed.
pub(super) trait Fault: DeserializeOwned + Clone + Send + Sync + 'static {
    /// How many more calls it hits.
    fn times_mut(&mut self) -> &mut u32;

    /// The status it fails calls with; `None` only delays them.
    fn status(&self) -> Option<u16>;

    /// How long it holds each call, in milliseconds.
    fn delay_ms(&self) -> u64;
}

/// Implements [`Fault`] for a struct with the fields every stand-in's fault has: `times: u32`,
/// `status: Option<u16>` and `delay_ms: u64`.
macro_rules! impl_fault {
    ($fault:ty) => {
        impl $crate::sandbox::control::Fault for $fault {
            fn times_mut(&mut self) -> &mut u32 {
                &mut self.times
            }

            fn status(&self) -> Option<u16> {
                self.status
            }

            fn delay_ms(&self) -> u64 {
                self.delay_ms
            }
        }
    };
}

pub(super) use impl_fault;

/// The serde default of a fault's `times`: it hits the next call only.
pub(super) fn once() -> u32 {
    1
}

/// The injected faults of one stand-in, in the order they came.
#[derive(Debug)]
pub(super) struct Faults<F>(Vec<F>);

impl<F> Default for Faults<F> {
    fn default() -> Self {
        Faults(Vec::new())
    }
}

impl<F: Fault> Faults<F> {
    pub(super) fn push(&mut self, fault: F) {
        self.0.push(fault);
    }

    /// Uses the oldest fault that `hits` the call once, forgetting it when it is used up, and
    /// answers it.
    pub(super) fn take(&mut self, hits: impl Fn(&F) -> bool) -> Option<F> {
        let index = self.0.iter().position(hits)?;
        let fault = &mut self.0[index];
        *fault.times_mut() -= 1;
        let taken = fault.clone();
        if *fault.times_mut() == 0 {
            self.0.remove(index);
        }
        Some(taken)
    }
}

/// Whether a fault scoped to `wanted` (every method when `None`) hits `method`. Method names
/// compare without regard to case, as HTTP methods and Telegram's method names do.
pub(super) fn method_hits(wanted: Option<&str>, method: &str) -> bool {
    wanted.is_none_or(|m| m.eq_ignore_ascii_case(method))
}

/// Holds a call for the fault's delay.
pub(super) async fn pause(fault: &impl Fault) {
    let delay_ms = fault.delay_ms();
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
}

/// `{"ok":true}`: the control endpoint did what it was asked.
pub(super) fn ok() -> Response {
    axum::Json(json!({"ok": true})).into_response()
}

/// `{"error": message}` with `status`.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// `{"error": message}` with 400: the request asks for something the sandbox cannot do.
pub(super) fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

/// A control endpoint's JSON body. One that does not parse into `T` is answered 400 with
/// `{"error":"invalid body: ..."}`. The `Content-Type` is not checked, so a hand-written
/// `curl -d` works too.
pub(super) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        serde_json::from_slice(&body)
            .map(JsonBody)
            .map_err(|e| bad_request(&format!("invalid body: {e}")))
    }
}

/// The shared endpoints of a stand-in, at its paths: `reset` forgets its state, `faults` queues
/// a fault.
pub(super) fn shared_routes<S: Controlled>(reset: &str, faults: &str) -> Router<S> {
    Router::new()
        .route(reset, post(reset_state::<S>))
        .route(faults, post(add_fault::<S>))
}

/// `POST /sandbox/reset` (X) and `POST /sandbox/{telegram,whatsapp}/reset`.
async fn reset_state<S: Controlled>(State(sandbox): State<S>) -> Response {
    sandbox.forget();
    ok()
}

/// `POST /sandbox/{x,telegram,whatsapp}/faults`: queues a fault that hits at least one call and
/// fails, if it fails, with an error status.
async fn add_fault<S: Controlled>(
    State(sandbox): State<S>,
    JsonBody(mut fault): JsonBody<S::Fault>,
) -> Response {
    if *fault.times_mut() == 0 {
        return bad_request("times must be at least 1");
    }
    if fault
        .status()
        .is_some_and(|s| StatusCode::from_u16(s).is_err() || s < 400)
    {
        return bad_request("status must be an error status");
    }
    sandbox.inject(fault);
    ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    struct TestFault {
        name: String,
        times: u32,
    }

    impl Fault for TestFault {
        fn times_mut(&mut self) -> &mut u32 {
            &mut self.times
        }

        fn status(&self) -> Option<u16> {
            None
        }

        fn delay_ms(&self) -> u64 {
            0
        }
    }

    #[test]
    fn the_oldest_matching_fault_is_used_up_first() {
        let fault = |name: &str, times| TestFault {
            name: name.to_owned(),
            times,
        };
        let mut faults = Faults::default();
        faults.push(fault("a", 2));
        faults.push(fault("b", 1));
        let name = |f: Option<TestFault>| f.map(|f| f.name);
        assert_eq!(name(faults.take(|f| f.name == "b")).as_deref(), Some("b"));
        assert_eq!(name(faults.take(|f| f.name == "b")), None);
        assert_eq!(name(faults.take(|_| true)).as_deref(), Some("a"));
        assert_eq!(name(faults.take(|_| true)).as_deref(), Some("a"));
        assert_eq!(name(faults.take(|_| true)), None);
    }

    #[test]
    fn methods_match_without_regard_to_case() {
        assert!(method_hits(None, "sendmessage"));
        assert!(method_hits(Some("sendMessage"), "sendmessage"));
        assert!(method_hits(Some("get"), "GET"));
        assert!(!method_hits(Some("POST"), "GET"));
    }
}
