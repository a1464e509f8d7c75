//! The one polling loop every background job of `kicau run` uses: run a step, wait as it says
//! (or for a wake-up), stop on shutdown; errors are logged and retried with a growing pause.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::desk::Desk;

/// What one step of a loop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It did some work: step again at once.
    Busy,
    /// Nothing to do: wait the loop's idle pause (or a wake-up).
    Idle,
    /// Wait this long before the next step (a rate limit's reset).
    Wait(Duration),
}

impl Step {
    /// Busy when the step did some work, else idle: the usual answer of a `*_once` function
    /// that says whether it found anything to do.
    pub fn after(worked: bool) -> Step {
        if worked { Step::Busy } else { Step::Idle }
    }
}

/// A loop's settings.
pub struct Loop {
    /// What the loop is, for the logs ("listener", "dispatcher", ...).
    pub name: &'static str,
    /// The pause after an idle step.
    pub idle: Duration,
    /// Holds the loop while another instance holds this job's lease (see [`super::leases`]).
    pub lease: Option<watch::Receiver<bool>>,
    /// Cancels a step in progress at shutdown (a long poll); otherwise a step finishes first.
    pub cancel_on_shutdown: bool,
    /// Ends an idle pause early when the desk changes (the staff group's notifier).
    pub wake: Option<Desk>,
}

impl Loop {
    /// A loop that steps every `idle` when there is nothing to do.
    pub fn every(name: &'static str, idle: Duration) -> Loop {
        Loop {
            name,
            idle,
            lease: None,
            cancel_on_shutdown: false,
            wake: None,
        }
    }

    /// Runs `step` until `shutdown` turns true.
    pub async fn run<F, Fut>(self, mut shutdown: watch::Receiver<bool>, mut step: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Step>>,
    {
        let mut lease = self.lease;
        let mut backoff = Backoff::default();
        while !*shutdown.borrow() {
            if let Some(held) = &mut lease
                && !super::leases::wait_held(held, &mut shutdown).await
            {
                break;
            }
            let result = if self.cancel_on_shutdown {
                tokio::select! {
                    r = step() => r,
                    _ = shutdown.changed() => break,
                }
            } else {
                step().await
            };
            let wait = match result {
                Ok(Step::Busy) => {
                    backoff.reset();
                    continue;
                }
                Ok(Step::Idle) => {
                    backoff.reset();
                    self.idle
                }
                Ok(Step::Wait(wait)) => {
                    backoff.reset();
                    wait
                }
                Err(e) => {
                    let wait = backoff.next_wait();
                    tracing::warn!(job = self.name, error = %format!("{e:#}"), retry_in_ms = wait.as_millis() as u64, "a step failed; retrying");
                    wait
                }
            };
            match &self.wake {
                Some(desk) => tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = desk.changed() => {}
                    _ = shutdown.changed() => {}
                },
                None => tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                },
            }
        }
        tracing::info!(job = self.name, "stopped");
    }
}

/// Exponential backoff from 250 ms to 30 s.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn next_wait(&mut self) -> Duration {
        self.attempt += 1;
        Backoff::for_attempt(i64::from(self.attempt))
    }

    /// The pause before attempt number `attempt` (from 1).
    pub fn for_attempt(attempt: i64) -> Duration {
        let exp = attempt.clamp(1, 8) as u32 - 1;
        Duration::from_millis((250u64 << exp).min(30_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_ceiling() {
        assert_eq!(Backoff::for_attempt(1), Duration::from_millis(250));
        assert_eq!(Backoff::for_attempt(3), Duration::from_millis(1000));
        assert_eq!(Backoff::for_attempt(50), Duration::from_millis(30_000));
    }

    #[tokio::test]
    async fn a_loop_steps_until_shutdown_and_survives_errors() {
        let (tx, rx) = watch::channel(false);
        let mut n = 0;
        Loop::every("test", Duration::from_millis(1))
            .run(rx, || {
                n += 1;
                let stop = n == 5;
                let failed = n == 2;
                let tx = &tx;
                async move {
                    if stop {
                        let _ = tx.send(true);
                    }
                    if failed {
                        anyhow::bail!("a passing fault");
                    }
                    Ok(if n % 2 == 0 { Step::Busy } else { Step::Idle })
                }
            })
            .await;
        assert_eq!(n, 5);
    }
}
