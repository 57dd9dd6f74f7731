//! The connection policy, sans-IO: keep-alive, reconnect back-off and the choice of proxy.
//!
//! The driver (phone.rs) owns the socket and the timers; this module only decides, from the
//! time and what happened, what to do next. Every decision is a pure function of its inputs
//! (a random number for jitter included), so it is tested on a fake clock below.
//!
//! ```text
//!   Connected ──drop / dead keep-alive──► Waiting(attempt n, at t) ──t──► Connecting(proxy)
//!      ▲                                        ▲                              │
//!      └──────────────── connected ─────────────┴────────── failed ────────────┘
//! ```

use std::time::{Duration, Instant};

/// How the phone keeps its connection up. The defaults suit a real server; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    /// A WebSocket ping goes out this long after the last one; a connection that has not been
    /// heard from for two intervals is dead (RFC 5626 suggests 25–30 s keep-alives).
    pub keepalive: Duration,
    /// The first reconnect waits about this long; each failure doubles it.
    pub backoff_base: Duration,
    /// The longest wait between reconnect attempts.
    pub backoff_max: Duration,
    /// After this many failed attempts on the primary proxy, try the backup.
    pub failover_after: u32,
    /// On the backup proxy, try the primary again after this long (`None`: the sipInfo's
    /// `switchBackInterval`).
    pub switch_back: Option<Duration>,
    /// A registration refused with 5xx or 408 is retried after about this long, doubling up to
    /// `backoff_max` (a `Retry-After` from the server wins).
    pub register_retry_base: Duration,
    /// How often the machine's network addresses are read to notice a network change (which
    /// restarts the ICE of calls in progress and brings a planned reconnect forward).
    pub network_poll: Duration,
    /// Each step of connecting (TCP, TLS, WebSocket) may take this long; then the attempt
    /// fails and the next one follows the back-off (a captive portal that accepts TCP and
    /// never answers TLS must not hold the phone "reconnecting" forever).
    pub connect_timeout: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            keepalive: Duration::from_secs(25),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            failover_after: 3,
            switch_back: None,
            register_retry_base: Duration::from_secs(5),
            network_poll: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The `n`-th wait (0-based) of an exponential back-off from `base` capped at `max`, spread by
/// `jitter` in `[0, 1)`: the wait is between half and all of the exponential value, so phones
/// that lost the same server do not come back in step.
pub fn backoff(base: Duration, max: Duration, n: u32, jitter: f64) -> Duration {
    let full = base.saturating_mul(1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX)).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Which proxy a reconnect attempt goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// `outboundProxy`.
    Primary,
    /// `outboundProxyBackup`.
    Backup,
}

/// The proxy for attempt `n` (0-based) after a drop: the primary `failover_after` times, then
/// the backup and the primary in turn. Without a backup, always the primary.
pub fn proxy_for_attempt(n: u32, failover_after: u32, has_backup: bool) -> Proxy {
    if !has_backup || n < failover_after {
        return Proxy::Primary;
    }
    if (n - failover_after).is_multiple_of(2) {
        Proxy::Backup
    } else {
        Proxy::Primary
    }
}

/// Keep-alive and dead-connection detection for one connection.
#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: Duration,
    last_heard: Instant,
    last_ping: Instant,
}

/// What the keep-alive wants done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAliveAction {
    /// Send a WebSocket ping now.
    Ping,
    /// Nothing heard for two intervals: the connection is dead.
    Dead,
}

impl KeepAlive {
    /// A keep-alive for a connection opened at `now`.
    pub fn new(interval: Duration, now: Instant) -> KeepAlive {
        KeepAlive { interval, last_heard: now, last_ping: now }
    }

    /// Anything (a frame, a pong) arrived.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// When [`poll`](Self::poll) has something to say.
    pub fn next_wake(&self) -> Instant {
        (self.last_ping + self.interval).min(self.last_heard + self.interval * 2)
    }

    /// What to do at `now`, if anything.
    pub fn poll(&mut self, now: Instant) -> Option<KeepAliveAction> {
        if now >= self.last_heard + self.interval * 2 {
            return Some(KeepAliveAction::Dead);
        }
        if now >= self.last_ping + self.interval {
            self.last_ping = now;
            return Some(KeepAliveAction::Ping);
        }
        None
    }
}

/// The reconnect side of the policy: failures in a row and the switch back to the primary.
#[derive(Debug, Clone)]
pub struct Reconnect {
    settings: LinkSettings,
    has_backup: bool,
    switch_back: Duration,
    failures: u32,
    on: Proxy,
    since: Instant,
}

impl Reconnect {
    /// Connected to `on` at `now`; `switch_back_interval` is the sipInfo's (seconds).
    pub fn new(settings: LinkSettings, has_backup: bool, switch_back_interval: u32, on: Proxy, now: Instant) -> Reconnect {
        let from_info = Duration::from_secs(u64::from(switch_back_interval.max(1)));
        let switch_back = settings.switch_back.unwrap_or(from_info);
        Reconnect { settings, has_backup, switch_back, failures: 0, on, since: now }
    }

    /// The connection dropped or an attempt failed: the attempt number, the proxy for the next
    /// attempt and how long to wait before it. `jitter` is a random number in `[0, 1)`.
    pub fn next_attempt(&mut self, jitter: f64) -> (u32, Proxy, Duration) {
        let n = self.failures;
        self.failures += 1;
        let wait = backoff(self.settings.backoff_base, self.settings.backoff_max, n, jitter);
        (n + 1, proxy_for_attempt(n, self.settings.failover_after, self.has_backup), wait)
    }

    /// Connected to `proxy` at `now`. The failures count on until [`registered`](Self::registered):
    /// a server that takes connections but not registrations still gets a growing wait.
    pub fn connected(&mut self, proxy: Proxy, now: Instant) {
        self.on = proxy;
        self.since = now;
    }

    /// Registered on the connection: the failures are forgotten.
    pub fn registered(&mut self) {
        self.failures = 0;
    }

    /// When to try the primary again while on the backup.
    pub fn switch_back_at(&self) -> Option<Instant> {
        (self.on == Proxy::Backup).then(|| self.since + self.switch_back)
    }

    /// A switch-back attempt failed at `now`: stay on the backup for another interval.
    pub fn switch_back_failed(&mut self, now: Instant) {
        self.since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_spreads_it_over_the_upper_half() {
        let waits: Vec<_> = (0..8).map(|n| backoff(S, 30 * S, n, 0.999_999).as_secs()).collect();
        assert_eq!(waits, [0, 1, 3, 7, 15, 29, 29, 29], "almost the full value with jitter near 1");
        assert_eq!(backoff(S, 30 * S, 3, 0.0), 4 * S, "half of 8 s with jitter 0");
        assert_eq!(backoff(S, 30 * S, 1000, 0.5), Duration::from_millis(22_500), "no overflow far out");
    }

    #[test]
    fn attempts_fail_over_to_the_backup_then_alternate() {
        let picks: Vec<_> = (0..7).map(|n| proxy_for_attempt(n, 3, true)).collect();
        use Proxy::*;
        assert_eq!(picks, [Primary, Primary, Primary, Backup, Primary, Backup, Primary]);
        assert!((0..7).all(|n| proxy_for_attempt(n, 3, false) == Primary), "no backup: primary only");
    }

    #[test]
    fn keepalive_pings_every_interval_and_declares_death_after_two_silent_ones() {
        let t0 = Instant::now();
        let mut k = KeepAlive::new(25 * S, t0);
        assert_eq!(k.next_wake(), t0 + 25 * S);
        assert_eq!(k.poll(t0 + 10 * S), None);
        assert_eq!(k.poll(t0 + 25 * S), Some(KeepAliveAction::Ping));
        k.heard(t0 + 25 * S + Duration::from_millis(3));
        assert_eq!(k.poll(t0 + 50 * S), Some(KeepAliveAction::Ping), "the pong kept it alive");
        assert_eq!(k.next_wake(), t0 + 75 * S, "the next ping comes before the death line");
        assert_eq!(k.poll(t0 + 75 * S), Some(KeepAliveAction::Ping));
        assert_eq!(k.poll(t0 + 75 * S + Duration::from_millis(3)), Some(KeepAliveAction::Dead), "nothing heard since 25 s: dead within two intervals");
    }

    #[test]
    fn reconnect_counts_failures_and_forgets_them_once_connected() {
        let t0 = Instant::now();
        let settings = LinkSettings { failover_after: 2, ..LinkSettings::default() };
        let mut r = Reconnect::new(settings, true, 2400, Proxy::Primary, t0);
        let attempts: Vec<_> = (0..3).map(|_| r.next_attempt(0.0)).collect();
        assert_eq!(attempts, [(1, Proxy::Primary, S / 2), (2, Proxy::Primary, S), (3, Proxy::Backup, 2 * S)]);
        r.connected(Proxy::Backup, t0 + 5 * S);
        assert_eq!(r.next_attempt(0.0), (4, Proxy::Primary, 4 * S), "connected but not registered: still counting");
        r.connected(Proxy::Backup, t0 + 10 * S);
        r.registered();
        assert_eq!(r.next_attempt(0.0), (1, Proxy::Primary, S / 2), "a fresh count once registered");
    }

    #[test]
    fn switch_back_is_due_an_interval_after_landing_on_the_backup() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(LinkSettings::default(), true, 2400, Proxy::Primary, t0);
        assert_eq!(r.switch_back_at(), None, "on the primary: nothing to switch back to");
        r.connected(Proxy::Backup, t0 + 10 * S);
        assert_eq!(r.switch_back_at(), Some(t0 + 2410 * S), "the sipInfo's switchBackInterval");
        r.switch_back_failed(t0 + 2410 * S);
        assert_eq!(r.switch_back_at(), Some(t0 + 4810 * S));
        let quick = LinkSettings { switch_back: Some(2 * S), ..LinkSettings::default() };
        let r = Reconnect::new(quick, true, 2400, Proxy::Backup, t0);
        assert_eq!(r.switch_back_at(), Some(t0 + 2 * S), "the setting overrides the sipInfo");
    }
}
