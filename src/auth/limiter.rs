//! Failed sign-in rate limit per (username, client address): at most `max` attempts that did not
//! succeed within a sliding `window`. An attempt counts from the moment it starts (so a burst of
//! parallel guesses cannot slip past the check) and is forgiven when it succeeds.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked keys, expired ones are swept on the next attempt.
const SWEEP_ABOVE: usize = 10_000;

/// The sliding-window counter.
pub struct Limiter {
    max: usize,
    window: Duration,
    attempts: Mutex<HashMap<(String, IpAddr), VecDeque<Instant>>>,
}

impl Limiter {
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter {
            max: max.max(1),
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Records the start of an attempt, or refuses it with how long until the next is allowed.
    pub fn begin(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        self.begin_at(username, client, Instant::now())
    }

    /// Forgets the failures of a key after a successful sign-in.
    pub fn succeeded(&self, username: &str, client: IpAddr) {
        self.lock().remove(&key(username, client));
    }

    fn begin_at(&self, username: &str, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = map.entry(key(username, client)).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.max(Duration::from_secs(1)));
        }
        q.push_back(now);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, IpAddr), VecDeque<Instant>>> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(username: &str, client: IpAddr) -> (String, IpAddr) {
    // Bounded: a megabyte-long username must not become a megabyte-long key.
    (username.chars().take(128).collect(), client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_reopens_after_the_window() {
        let l = Limiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = Instant::now();
        for i in 0..3 {
            l.begin_at("bob", ip, t0 + Duration::from_secs(i)).unwrap();
        }
        let wait = l
            .begin_at("bob", ip, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // Another user or another address is counted apart.
        l.begin_at("alice", ip, t0).unwrap();
        l.begin_at("bob", [10, 0, 0, 1].into(), t0).unwrap();
        // The oldest attempt leaves the window after 60 s.
        l.begin_at("bob", ip, t0 + Duration::from_secs(60)).unwrap();
        // Success forgives.
        l.succeeded("bob", ip);
        l.begin_at("bob", ip, t0 + Duration::from_secs(61)).unwrap();
    }
}
