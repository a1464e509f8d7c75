//! Keeping this instance's leases on the jobs only one instance may run (reading mentions,
//! reading Telegram updates): renewed every third of their time to live on the shared polling
//! loop, given up on a clean stop so that another instance need not wait for them to lapse.

use tokio::sync::watch;

use super::poll::{Loop, Step};
use crate::store::lease::Lease;

/// Keeps `lease` in a task until `shutdown`, then releases it. The receiver says whether this
/// instance holds it; a change is logged.
pub fn keep(lease: Lease, shutdown: watch::Receiver<bool>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        Loop::every("lease keeper", lease.ttl() / 3)
            .run(shutdown, || async {
                let held = match lease.hold().await {
                    Ok(held) => held,
                    Err(e) => {
                        tracing::warn!(lease = %lease.name(), error = %e, "renewing a lease failed");
                        false
                    }
                };
                if held != *tx.borrow() {
                    if held {
                        tracing::info!(lease = %lease.name(), "this instance runs the job now");
                    } else {
                        tracing::info!(lease = %lease.name(), "another instance runs the job: standing by");
                    }
                    let _ = tx.send(held);
                }
                Ok(Step::Idle)
            })
            .await;
        if *tx.borrow() {
            let _ = tx.send(false);
            if let Err(e) = lease.release().await {
                tracing::warn!(lease = %lease.name(), error = %e, "releasing a lease failed");
            }
        }
    });
    rx
}

/// Waits until `held` says the lease is this instance's, or `shutdown`. Whether it is held.
pub async fn wait_held(
    held: &mut watch::Receiver<bool>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    while !*held.borrow() {
        tokio::select! {
            changed = held.changed() => if changed.is_err() { return false },
            _ = shutdown.changed() => return false,
        }
        if *shutdown.borrow() {
            return false;
        }
    }
    true
}
