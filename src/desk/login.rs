/*!
The login guard: password guessing costs the guesser time, and never the server.

- Failures are counted per account (in the `staff` table, shared by every instance) and per
  client address (in memory). After [`FREE_FAILURES`] an account must wait before its next
  attempt: 1 s, then 2, 4, 8... up to 15 minutes ([`Attempt::Wait`], a 429 with `Retry-After` in
  the console). An address gets [`ADDRESS_FREE_FAILURES`] (an office shares one address) and then
  waits the same way. A waiting attempt is refused before any password is checked, and nobody
  sleeps on the server.
- After [`LOCK_AFTER`] consecutive failures the account is locked for 15 minutes
  ([`Attempt::Locked`]): even the right password is refused until then, or until an admin
  unlocks it (the console, or `kicau staff unlock NAME`). The lock and the unlock are audited,
  once each; single failures are not (a flood must not fill the audit log).
- Argon2 (19 MiB a hash) runs on [`HASHING_SLOTS`] threads of its own, so that a flood of
  logins neither stalls the async workers nor grows memory: each thread reuses its own memory
  (tokio's blocking pool would start a new thread, with a new 19 MiB, whenever none was idle at
  that instant; measured, the RSS grew by 300 MB in a 10-second flood).
- Time comes from a [`Clock`] the tests can set.
*/

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Row as _;
use tokio::sync::oneshot;

use super::staff::{self, Session, StaffError};
use crate::store::{Store, now_ms};

/// Failures of an account before it must wait between attempts.
pub const FREE_FAILURES: i64 = 3;
/// Failures from one address before it must wait between attempts.
pub const ADDRESS_FREE_FAILURES: i64 = 10;
/// Consecutive failures that lock an account.
pub const LOCK_AFTER: i64 = 10;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// The longest wait between attempts.
const MAX_WAIT_MS: i64 = 15 * 60 * 1000;
/// Password hashes computed at once.
pub const HASHING_SLOTS: usize = 2;
/// Addresses remembered at most; the oldest are forgotten first.
const MAX_ADDRESSES: usize = 10_000;

/// A hash of a password nobody has, checked when the account does not exist, so that the time
/// taken does not tell which names exist.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9u2VvQvC1sX0i1hM6c8vYb0oI3HqE3oTQ2m2S8hF0nA";

/// Milliseconds since the epoch: the system's, or a time the tests set and move.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `start` until moved.
    pub fn manual(start: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(start))))
    }

    pub fn now(&self) -> i64 {
        self.0
            .as_ref()
            .map_or_else(now_ms, |t| t.load(Ordering::SeqCst))
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, ms: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
}

/// What came of a login attempt.
#[derive(Debug)]
pub enum Attempt {
    /// The password was right: a new session.
    Opened(Session),
    /// A wrong name or password (the caller cannot tell which).
    Refused,
    /// Too many failures lately: try again in this many seconds; nothing was checked.
    Wait(u64),
    /// The account is locked until this time (ms); nothing was checked.
    Locked(i64),
    /// The password was the account's one-time password, which expired or was used already:
    /// an admin must issue a new one (`kicau staff reset NAME`).
    OneTimeSpent,
}

/// The login guard of one console (see the module's documentation).
#[derive(Debug)]
pub struct LoginGuard {
    clock: Clock,
    hashing: Hashing,
    /// Per client address: failures and when the last one was.
    addresses: Mutex<HashMap<IpAddr, (i64, i64)>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard::new(Clock::system())
    }
}

/// How long to wait after `failures` failures beyond `free`, the last at `last` (ms); `None`
/// when an attempt may be made at `now`.
fn remaining_wait(failures: i64, free: i64, last: i64, now: i64) -> Option<u64> {
    if failures < free {
        return None;
    }
    let exponent = (failures - free).min(20) as u32;
    let wait = (1000i64 << exponent).min(MAX_WAIT_MS);
    let left = last + wait - now;
    (left > 0).then(|| ((left + 999) / 1000) as u64)
}

impl LoginGuard {
    pub fn new(clock: Clock) -> LoginGuard {
        LoginGuard {
            clock,
            hashing: Hashing::start(HASHING_SLOTS),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Checks `password` for `name`, from `client` when known, and opens a session when it is
    /// right and neither the account nor the address must wait.
    pub async fn login(
        &self,
        store: &Store,
        name: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Attempt, StaffError> {
        let now = self.clock.now();
        if let Some(ip) = client {
            let known = self.addresses.lock().expect("poisoned").get(&ip).copied();
            if let Some((failures, last)) = known
                && let Some(wait) = remaining_wait(failures, ADDRESS_FREE_FAILURES, last, now)
            {
                return Ok(Attempt::Wait(wait));
            }
        }
        let row = sqlx::query(
            "SELECT failed_logins, last_failed_at, locked_until FROM staff WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(store.pool())
        .await?;
        let counters = row.map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1), r.get::<i64, _>(2)));
        if let Some((failures, last, locked_until)) = counters {
            if locked_until > now {
                return Ok(Attempt::Locked(locked_until));
            }
            if let Some(wait) = remaining_wait(failures, FREE_FAILURES, last, now) {
                return Ok(Attempt::Wait(wait));
            }
        }
        let account = staff::actor(store, name).await?;
        let hash = account
            .as_ref()
            .map_or(DUMMY.to_owned(), |(_, hash, _)| hash.clone());
        let right = self.verify(password.to_owned(), hash).await && account.is_some();
        match account {
            Some((actor, _, must_change)) if right => {
                sqlx::query(
                    "UPDATE staff SET failed_logins = 0, last_failed_at = 0 WHERE name = $1",
                )
                .bind(name)
                .execute(store.pool())
                .await?;
                if let Some(ip) = client {
                    self.addresses.lock().expect("poisoned").remove(&ip);
                }
                if must_change {
                    // One session per one-time password: whoever logs in with it must set a
                    // password of their own there, or ask for a new one. Taken in one
                    // conditional update, so that two logins at once cannot both have it.
                    let taken = sqlx::query(
                        "UPDATE staff SET otp_used_at = $1 \
                         WHERE name = $2 AND otp_used_at = 0 AND otp_expires_at > $1",
                    )
                    .bind(now)
                    .bind(name)
                    .execute(store.pool())
                    .await?;
                    if taken.rows_affected() == 0 {
                        return Ok(Attempt::OneTimeSpent);
                    }
                }
                Ok(Attempt::Opened(
                    staff::open_session(store, actor, must_change, now).await?,
                ))
            }
            account => {
                self.address_failed(client, now);
                if account.is_some() {
                    self.account_failed(store, name, now).await?;
                }
                Ok(Attempt::Refused)
            }
        }
    }

    /// Counts a failure of `name`; the [`LOCK_AFTER`]th in a row locks it (audited once).
    async fn account_failed(&self, store: &Store, name: &str, now: i64) -> Result<(), StaffError> {
        let row = sqlx::query(
            "UPDATE staff SET failed_logins = failed_logins + 1, last_failed_at = $1 \
             WHERE name = $2 RETURNING failed_logins",
        )
        .bind(now)
        .bind(name)
        .fetch_one(store.pool())
        .await?;
        let failures: i64 = row.get(0);
        if failures >= LOCK_AFTER {
            sqlx::query(
                "UPDATE staff SET locked_until = $1, failed_logins = 0, last_failed_at = 0 \
                 WHERE name = $2",
            )
            .bind(now + LOCK_MS)
            .bind(name)
            .execute(store.pool())
            .await?;
            store
                .audit(
                    "system",
                    "account_locked",
                    &format!("staff:{name}"),
                    &format!("{failures} failed logins in a row; locked for 15 minutes"),
                )
                .await?;
            tracing::warn!(staff = name, "account locked after repeated failed logins");
        }
        Ok(())
    }

    fn address_failed(&self, client: Option<IpAddr>, now: i64) {
        let Some(ip) = client else {
            return;
        };
        let mut addresses = self.addresses.lock().expect("poisoned");
        if addresses.len() >= MAX_ADDRESSES && !addresses.contains_key(&ip) {
            let oldest = addresses
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(ip, _)| *ip);
            if let Some(oldest) = oldest {
                addresses.remove(&oldest);
            }
        }
        let entry = addresses.entry(ip).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
    }

    /// Argon2 on the hashing threads; waits its turn.
    async fn verify(&self, password: String, hash: String) -> bool {
        self.hashing.verify(password, hash).await
    }
}

/// A password check waiting for a hashing thread.
type Job = (String, String, oneshot::Sender<bool>);

/// The threads that check passwords, fed through one short queue: a flood waits on it
/// asynchronously (costing nothing) rather than in memory.
#[derive(Debug)]
struct Hashing {
    queue: tokio::sync::mpsc::Sender<Job>,
}

impl Hashing {
    fn start(threads: usize) -> Hashing {
        let (queue, jobs) = tokio::sync::mpsc::channel::<Job>(threads);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads {
            let jobs = jobs.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kicau-argon2-{i}"))
                .spawn(move || {
                    // Argon2's 19 MiB, allocated once and reused: allocating it per check let
                    // the allocator keep a new arena's worth per thread.
                    let mut memory = Vec::new();
                    loop {
                        let job = jobs.lock().expect("poisoned").blocking_recv();
                        let Some((password, hash, answer)) = job else {
                            return; // the guard is gone
                        };
                        let _ = answer.send(verify_reusing(&password, &hash, &mut memory));
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "a password hashing thread could not start");
            }
        }
        Hashing { queue }
    }

    async fn verify(&self, password: String, hash: String) -> bool {
        let (answer, answered) = oneshot::channel();
        if self.queue.send((password, hash, answer)).await.is_err() {
            return false;
        }
        answered.await.unwrap_or(false)
    }
}

/// Checks `password` against an argon2 PHC string, in `memory` (grown to the hash's size once,
/// then reused); the comparison takes the same time whatever differs.
fn verify_reusing(password: &str, hash: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::PasswordHash;
    let mut check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
        let version = argon2::Version::try_from(parsed.version.unwrap_or(0x13)).ok()?;
        let params = argon2::Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        if memory.len() < params.block_count() {
            memory.resize(params.block_count(), argon2::Block::default());
        }
        let blocks = params.block_count();
        let mut out = vec![0u8; expected.len()];
        argon2::Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut memory[..blocks],
            )
            .ok()?;
        Some(expected == argon2::password_hash::Output::new(&out).ok()?)
    };
    check().unwrap_or(false)
}

/// Lifts the lock and the failure count of `name` (an admin in the console, or
/// `kicau staff unlock` on the server); audited. Returns whether it was locked.
pub async fn unlock(store: &Store, by: &str, name: &str, now: i64) -> Result<bool, StaffError> {
    let row = sqlx::query("SELECT locked_until FROM staff WHERE name = $1")
        .bind(name)
        .fetch_optional(store.pool())
        .await?;
    let Some(row) = row else {
        return Err(StaffError::Unknown(name.to_owned()));
    };
    let was_locked = row.get::<i64, _>(0) > now;
    sqlx::query(
        "UPDATE staff SET locked_until = 0, failed_logins = 0, last_failed_at = 0 WHERE name = $1",
    )
    .bind(name)
    .execute(store.pool())
    .await?;
    store
        .audit(by, "account_unlocked", &format!("staff:{name}"), "")
        .await?;
    Ok(was_locked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reusing_check_agrees_with_the_crate() {
        let hash = {
            use argon2::password_hash::{PasswordHasher as _, SaltString};
            let salt = SaltString::encode_b64(b"a-fixed-salt-16b").unwrap();
            argon2::Argon2::default()
                .hash_password(b"kata-sandi-baru-sari", &salt)
                .unwrap()
                .to_string()
        };
        let mut memory = Vec::new();
        assert!(verify_reusing("kata-sandi-baru-sari", &hash, &mut memory));
        assert!(!verify_reusing("kata-sandi-baru-sarI", &hash, &mut memory));
        assert!(verify_reusing("kata-sandi-baru-sari", &hash, &mut memory));
        assert!(!verify_reusing("x", DUMMY, &mut memory));
        assert!(!verify_reusing("x", "not a hash", &mut memory));
    }

    #[test]
    fn the_wait_doubles_after_the_free_failures_and_is_capped() {
        assert_eq!(remaining_wait(2, 3, 0, 0), None);
        assert_eq!(remaining_wait(3, 3, 0, 0), Some(1));
        assert_eq!(remaining_wait(4, 3, 0, 0), Some(2));
        assert_eq!(remaining_wait(6, 3, 0, 0), Some(8));
        assert_eq!(remaining_wait(6, 3, 0, 8_000), None);
        assert_eq!(remaining_wait(40, 3, 0, 0), Some(15 * 60));
    }
}
