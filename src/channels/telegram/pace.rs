/*!
Telegram's flood limits, kept by the sender rather than waited out inside a request.

Telegram asks bots (core.telegram.org/bots/faq) for at most one message a second in a chat, twenty
a minute in a group (a negative chat id: groups, supergroups and channels) and thirty a second
overall. [`Pacer::take`] either takes a slot for a message now or says how long until one is
free, so that the caller can put the message back in its queue and stay free to stop at once:
teloxide's `Throttle`, used before, held the send inside the request for up to a minute, and a
shutdown waited for it. A 429 that still comes back (another instance, a stricter Telegram)
carries `retry_after`, which the caller honours as before.

Time is passed in (milliseconds), so the limits are tested without waiting.
*/

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// The limits a [`Pacer`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The shortest gap between two messages in one chat.
    pub chat_gap: Duration,
    /// Messages in one group in any minute (0: no such limit).
    pub group_per_minute: usize,
    /// Messages to all chats in any second (0: no such limit).
    pub overall_per_second: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            chat_gap: Duration::from_secs(1),
            group_per_minute: 20,
            overall_per_second: 30,
        }
    }
}

const MINUTE_MS: i64 = 60_000;
const SECOND_MS: i64 = 1_000;

/// When messages went out lately, per chat and overall.
#[derive(Debug, Default)]
pub struct Pacer {
    limits: Limits,
    /// Per chat, the times of its messages in the last minute (only the last for a private
    /// chat), oldest first.
    chats: HashMap<i64, VecDeque<i64>>,
    /// The times of all messages in the last second, oldest first.
    overall: VecDeque<i64>,
}

impl Pacer {
    pub fn new(limits: Limits) -> Pacer {
        Pacer {
            limits,
            ..Pacer::default()
        }
    }

    /// Takes a slot for one message to `chat_id` at `now_ms` and answers None, or answers how
    /// long until a slot is free (and takes nothing).
    pub fn take(&mut self, chat_id: i64, now_ms: i64) -> Option<Duration> {
        self.forget_before(now_ms);
        let mut free_at = now_ms;
        if let Some(times) = self.chats.get(&chat_id) {
            if let Some(&last) = times.back() {
                free_at = free_at.max(last + self.limits.chat_gap.as_millis() as i64);
            }
            let limit = self.limits.group_per_minute;
            if chat_id < 0 && limit > 0 && times.len() >= limit {
                free_at = free_at.max(times[times.len() - limit] + MINUTE_MS);
            }
        }
        let limit = self.limits.overall_per_second;
        if limit > 0 && self.overall.len() >= limit {
            free_at = free_at.max(self.overall[self.overall.len() - limit] + SECOND_MS);
        }
        if free_at > now_ms {
            return Some(Duration::from_millis((free_at - now_ms) as u64));
        }
        let times = self.chats.entry(chat_id).or_default();
        times.push_back(now_ms);
        if chat_id >= 0 {
            // A private chat only needs its last message.
            while times.len() > 1 {
                times.pop_front();
            }
        }
        self.overall.push_back(now_ms);
        None
    }

    /// Drops what no limit looks at any more, so that memory follows the chats of the last
    /// minute only.
    fn forget_before(&mut self, now_ms: i64) {
        let gap = self.limits.chat_gap.as_millis() as i64;
        self.chats.retain(|chat, times| {
            let window = if *chat < 0 { MINUTE_MS.max(gap) } else { gap };
            while times.front().is_some_and(|&t| t + window <= now_ms) {
                times.pop_front();
            }
            !times.is_empty()
        });
        while self
            .overall
            .front()
            .is_some_and(|&t| t + SECOND_MS <= now_ms)
        {
            self.overall.pop_front();
        }
    }

    /// How many chats the pacer remembers (for the tests of its memory).
    pub fn chats_remembered(&self) -> usize {
        self.chats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: i64 = -1_001_000_000_001;

    #[test]
    fn one_message_a_second_in_a_chat() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.take(42, 0), None);
        assert_eq!(pacer.take(42, 300), Some(Duration::from_millis(700)));
        // Another chat has its own pace.
        assert_eq!(pacer.take(43, 300), None);
        assert_eq!(pacer.take(42, 1000), None);
    }

    #[test]
    fn twenty_a_minute_in_a_group() {
        let mut pacer = Pacer::default();
        for i in 0..20 {
            assert_eq!(pacer.take(GROUP, i * 1000), None, "message {i}");
        }
        // The 21st waits until the first is a minute old.
        assert_eq!(pacer.take(GROUP, 20_000), Some(Duration::from_secs(40)));
        assert_eq!(pacer.take(GROUP, 59_999), Some(Duration::from_millis(1)));
        assert_eq!(pacer.take(GROUP, 60_000), None);
        // And the 22nd until the second is.
        assert_eq!(pacer.take(GROUP, 61_000), None);
    }

    #[test]
    fn thirty_a_second_overall() {
        let mut pacer = Pacer::default();
        for chat in 0..30 {
            assert_eq!(pacer.take(chat, 500), None);
        }
        assert_eq!(pacer.take(99, 900), Some(Duration::from_millis(600)));
        assert_eq!(pacer.take(99, 1500), None);
    }

    #[test]
    fn a_refused_slot_takes_nothing() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.take(42, 0), None);
        for t in [100, 200, 300] {
            assert!(pacer.take(42, t).is_some());
        }
        assert_eq!(pacer.take(42, 1000), None);
    }

    #[test]
    fn memory_follows_the_last_minute() {
        let mut pacer = Pacer::new(Limits {
            overall_per_second: 0,
            ..Limits::default()
        });
        for chat in 0..1000 {
            pacer.take(chat, chat);
            pacer.take(-chat - 1, chat);
        }
        assert_eq!(pacer.take(5000, 2000), None);
        // Private chats are forgotten after their gap, groups after a minute.
        assert_eq!(pacer.chats_remembered(), 1001);
        assert_eq!(pacer.take(5001, 61_000), None);
        assert_eq!(pacer.chats_remembered(), 1);
    }
}
