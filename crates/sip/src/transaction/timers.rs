//! Timer values of RFC 3261 section 17 and table 4.

use std::time::Duration;

/// The base timers and whether the transport is reliable.
///
/// Over a reliable transport (TCP, TLS, WebSocket) nothing is retransmitted and the
/// "absorb retransmissions" waits (timers D, I, J, K) are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network, 5 s.
    pub t4: Duration,
    /// True for TCP, TLS, WS and WSS.
    pub reliable: bool,
}

impl Timers {
    /// Default values for a reliable transport such as WebSocket.
    pub const RELIABLE: Timers = Timers {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        t4: Duration::from_secs(5),
        reliable: true,
    };

    /// Default values for an unreliable transport such as UDP.
    pub const UNRELIABLE: Timers = Timers { reliable: false, ..Timers::RELIABLE };

    /// 64*T1: timers B, F, H, L and M (transaction timeouts), 32 s by default.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// First retransmit interval (timers A, E, G), or `None` on a reliable transport.
    pub fn first_retransmit(&self) -> Option<Duration> {
        (!self.reliable).then_some(self.t1)
    }

    /// Timer D: how long an INVITE client waits for response retransmissions.
    pub fn d(&self) -> Duration {
        if self.reliable { Duration::ZERO } else { Duration::from_secs(32).max(self.timeout()) }
    }

    /// Timers I and K: wait for ACK / response retransmissions.
    pub fn i_k(&self) -> Duration {
        if self.reliable { Duration::ZERO } else { self.t4 }
    }

    /// Timer J: how long a non-INVITE server absorbs request retransmissions.
    pub fn j(&self) -> Duration {
        if self.reliable { Duration::ZERO } else { self.timeout() }
    }
}

impl Default for Timers {
    fn default() -> Self {
        Timers::RELIABLE
    }
}
