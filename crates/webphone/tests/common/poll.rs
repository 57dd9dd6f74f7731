//! The one poll loop of the integration tests (webphone's, rc-sim's and rc-rest's include this
//! file), for the few conditions that have no event to wait on: a file another program writes
//! (Linphone's recording, a stand-in browser's record), another program's state (`linphonec`'s
//! registration, a PulseAudio daemon's exit, a page's WebRTC statistics), a snapshot a server
//! only answers when asked (rc-sim's bot reports and recordings), this process's open file
//! descriptors. Anything with an event (phone events, rc-sim's log stream, audio frames, a
//! channel) is waited on instead, with a deadline and no polling.
//!
//! A test looks, and when it is not there yet calls [`Poll::again`] (or its blocking twin),
//! which waits a short interval before the next look and fails the test, naming what it was
//! waiting for, once the deadline has passed. The pause between looks is the only sleep in
//! these tests' synchronisation; `crates/bench/tests/hygiene.rs` holds every other sleep to
//! its allow-list.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// How long a poll goes on by default.
pub const POLL_WAIT: Duration = Duration::from_secs(10);

/// How often a poll looks by default.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// A poll for `what` with a deadline.
#[derive(Debug)]
pub struct Poll {
    what: String,
    deadline: Instant,
    every: Duration,
}

impl Poll {
    /// A poll for `what` that gives up after [`POLL_WAIT`], looking every [`POLL_EVERY`].
    pub fn new(what: impl Into<String>) -> Poll {
        Poll { what: what.into(), deadline: Instant::now() + POLL_WAIT, every: POLL_EVERY }
    }

    /// The same with another deadline, from now.
    pub fn within(mut self, wait: Duration) -> Poll {
        self.deadline = Instant::now() + wait;
        self
    }

    /// The same looking every `every`.
    pub fn every(mut self, every: Duration) -> Poll {
        self.every = every;
        self
    }

    /// False once the deadline has passed; else waits the interval and returns true.
    pub async fn wait(&mut self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.every).await;
        true
    }

    /// Waits the interval before the next look, or fails once the deadline has passed.
    pub async fn again(&mut self) {
        self.again_or(String::new).await
    }

    /// The same, adding `context()` to the failure.
    pub async fn again_or(&mut self, context: impl FnOnce() -> String) {
        if !self.wait().await {
            self.fail(context())
        }
    }

    /// [`wait`](Self::wait) for threads outside a runtime.
    pub fn wait_blocking(&mut self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        std::thread::sleep(self.every);
        true
    }

    /// [`again`](Self::again) for threads outside a runtime.
    pub fn again_blocking(&mut self) {
        if !self.wait_blocking() {
            self.fail(String::new())
        }
    }

    fn fail(&self, context: String) -> ! {
        let sep = if context.is_empty() { "" } else { "\n" };
        panic!("timed out waiting for {}{sep}{context}", self.what)
    }
}
