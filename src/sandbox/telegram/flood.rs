/*!
Telegram's flood limits (core.telegram.org/bots/faq): per chat a short burst, then one message per
second; per group also a number of messages per minute. A refused message answers how long to
wait, Telegram's `retry_after`.
*/

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::errors::ApiError;
use super::{Data, TelegramSandbox};

/// Messages a chat takes at once before the one-per-second pace applies ("short bursts").
const CHAT_BURST: f64 = 3.0;

/// The sustained pace per chat, messages per second (core.telegram.org/bots/faq).
const CHAT_PER_SECOND: f64 = 1.0;

impl TelegramSandbox {
    /// Applies the flood limits to one more message for the chat.
    pub(super) fn admit(&self, data: &mut Data, chat_id: i64) -> Result<(), ApiError> {
        if !self.settings.flood_limits {
            return Ok(());
        }
        let per_minute = (chat_id < 0).then_some(self.settings.group_messages_per_minute);
        data.flood
            .entry(chat_id)
            .or_default()
            .admit(Instant::now(), per_minute)
            .map_err(ApiError::flood)
    }
}

/// One chat's flood state: a token bucket (a short burst, then one message per second) and, for
/// groups, the sending times of the last minute.
#[derive(Debug, Default)]
pub(super) struct FloodGate {
    tokens: f64,
    refilled: Option<Instant>,
    recent: VecDeque<Instant>,
}

impl FloodGate {
    /// Admits one more message at `now`, or answers how many seconds to wait (`retry_after`).
    /// A refused message does not count.
    pub(super) fn admit(&mut self, now: Instant, group_per_minute: Option<u32>) -> Result<(), u64> {
        let minute = Duration::from_secs(60);
        let tokens = match self.refilled {
            None => CHAT_BURST,
            Some(at) => (self.tokens
                + now.saturating_duration_since(at).as_secs_f64() * CHAT_PER_SECOND)
                .min(CHAT_BURST),
        };
        if let Some(limit) = group_per_minute.filter(|l| *l > 0) {
            while self
                .recent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= minute)
            {
                self.recent.pop_front();
            }
            if self.recent.len() >= limit as usize {
                let oldest = *self.recent.front().expect("limit is positive");
                let wait = minute.saturating_sub(now.saturating_duration_since(oldest));
                return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        if tokens < 1.0 {
            let wait = (1.0 - tokens) / CHAT_PER_SECOND;
            return Err(wait.ceil().max(1.0) as u64);
        }
        self.tokens = tokens - 1.0;
        self.refilled = Some(now);
        if group_per_minute.is_some() {
            self.recent.push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_takes_a_short_burst_then_one_message_per_second() {
        let start = Instant::now();
        let mut gate = FloodGate::default();
        for _ in 0..3 {
            assert_eq!(gate.admit(start, None), Ok(()));
        }
        assert_eq!(gate.admit(start, None), Err(1));
        // Refused messages do not count: a second later one more fits, and no more.
        let later = start + Duration::from_secs(1);
        assert_eq!(gate.admit(later, None), Ok(()));
        assert_eq!(gate.admit(later, None), Err(1));
        // Sustained one per second is fine.
        for second in 2..30 {
            assert_eq!(
                gate.admit(start + Duration::from_secs(second), None),
                Ok(())
            );
        }
    }

    #[test]
    fn a_group_takes_twenty_messages_a_minute() {
        let start = Instant::now();
        let mut gate = FloodGate::default();
        for second in 0..20 {
            assert_eq!(
                gate.admit(start + Duration::from_secs(second * 2), Some(20)),
                Ok(())
            );
        }
        // The 21st within the minute waits until the first leaves the window (at 60 s).
        let at = start + Duration::from_secs(40);
        assert_eq!(gate.admit(at, Some(20)), Err(20));
        assert_eq!(
            gate.admit(start + Duration::from_secs(60), Some(20)),
            Ok(())
        );
    }
}
