//! The driver's connection: keep-alive pings, reconnects with back-off, failover to the backup
//! proxy and the switch back to the primary. The decisions are [`crate::link`]'s; this module
//! does the IO they ask for.

use super::{Driver, PhoneEvent};
use crate::link::{KeepAlive, KeepAliveAction, LinkSettings, Proxy, Reconnect};
use crate::transport::{self, SipSocket, TransportError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rc_dialect::SipInfo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A finished connection attempt.
pub(super) struct Attempt {
    proxy: Proxy,
    switch_back: bool,
    result: Result<SipSocket, TransportError>,
}

/// What the driver knows about its connection besides the socket itself.
pub(super) struct Link {
    settings: LinkSettings,
    tls: Arc<rustls::ClientConfig>,
    primary: String,
    backup: String,
    reconnect: Reconnect,
    keepalive: Option<KeepAlive>,
    /// The next attempt after a drop: when, where, and its number.
    next_attempt: Option<(Instant, Proxy, u32)>,
    /// An attempt is under way (`true`: a switch back to the primary).
    connecting: Option<bool>,
    ping_due: bool,
    /// Set when the core asks to drop the connection; acted on after the outputs are sent.
    pub(super) drop_requested: Option<String>,
    results: mpsc::UnboundedSender<Attempt>,
    rng: StdRng,
}

impl Link {
    /// The link of a phone connected to `on` at `now`, and the receiver of its attempts.
    pub(super) fn new(info: &SipInfo, settings: LinkSettings, tls: Arc<rustls::ClientConfig>, on: Proxy, now: Instant) -> (Link, mpsc::UnboundedReceiver<Attempt>) {
        let (results, rx) = mpsc::unbounded_channel();
        let has_backup = !info.outbound_proxy_backup.is_empty();
        let reconnect = Reconnect::new(settings.clone(), has_backup, info.switch_back_interval, on, now);
        let link = Link {
            keepalive: Some(KeepAlive::new(settings.keepalive, now)),
            settings,
            tls,
            primary: info.outbound_proxy.clone(),
            backup: info.outbound_proxy_backup.clone(),
            reconnect,
            next_attempt: None,
            connecting: None,
            ping_due: false,
            drop_requested: None,
            results,
            rng: StdRng::from_os_rng(),
        };
        (link, rx)
    }

    fn address(&self, proxy: Proxy) -> &str {
        match proxy {
            Proxy::Primary => &self.primary,
            Proxy::Backup => &self.backup,
        }
    }

    /// When the link's next timer is due. `idle`: no call in progress (the only time a switch
    /// back to the primary is tried, so that it never disturbs a call).
    pub(super) fn next_wake(&self, idle: bool) -> Option<Instant> {
        let keepalive = self.keepalive.as_ref().map(KeepAlive::next_wake);
        let attempt = self.next_attempt.filter(|_| self.connecting.is_none()).map(|(at, _, _)| at);
        let switch_back = self.reconnect.switch_back_at().filter(|_| idle && self.connecting.is_none() && self.keepalive.is_some());
        [keepalive, attempt, switch_back].into_iter().flatten().min()
    }

    /// The network changed: a planned reconnect is tried now (the new network may work).
    fn attempt_now(&mut self, now: Instant) {
        if let Some((at, _, _)) = self.next_attempt.as_mut() {
            *at = now;
        }
    }

    /// Registered: the reconnect back-off starts again from the beginning next time.
    pub(super) fn registered(&mut self) {
        self.reconnect.registered();
    }
}

/// The next frame, or never while there is no socket.
pub(super) async fn next_frame(socket: &mut Option<SipSocket>) -> Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>> {
    match socket {
        Some(s) => futures_util::StreamExt::next(s).await,
        None => std::future::pending().await,
    }
}

impl Driver {
    /// Something arrived on the socket (or it ended).
    pub(super) fn on_socket(&mut self, socket: &mut Option<SipSocket>, frame: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>) {
        let now = Instant::now();
        if let Some(k) = self.link.keepalive.as_mut() {
            k.heard(now);
        }
        match frame {
            Some(Ok(WsMessage::Text(text))) => self.on_frame(text.as_bytes()),
            Some(Ok(WsMessage::Binary(bytes))) => self.on_frame(&bytes),
            Some(Ok(_)) => {}
            Some(Err(e)) => self.lose_link(socket, e.to_string(), now),
            None => self.lose_link(socket, "the server closed the connection".into(), now),
        }
    }

    /// Runs the link's due timers: keep-alive, a reconnect attempt, a switch back.
    pub(super) fn on_link_timers(&mut self, socket: &mut Option<SipSocket>, now: Instant) {
        match self.link.keepalive.as_mut().and_then(|k| k.poll(now)) {
            Some(KeepAliveAction::Ping) => self.link.ping_due = true,
            Some(KeepAliveAction::Dead) => {
                let silent = self.link.settings.keepalive * 2;
                return self.lose_link(socket, format!("no answer to keep-alive pings for {} s", silent.as_secs_f32()), now);
            }
            None => {}
        }
        if self.link.connecting.is_some() {
            return;
        }
        if let Some((at, proxy, _)) = self.link.next_attempt {
            if now >= at {
                self.start_attempt(proxy, false);
            }
            return;
        }
        let idle = self.core.call_ids().is_empty();
        if idle && socket.is_some() && self.link.reconnect.switch_back_at().is_some_and(|at| now >= at) {
            self.start_attempt(Proxy::Primary, true);
        }
    }

    /// The network changed: try a planned reconnect at once.
    pub(super) fn reconnect_now(&mut self, now: Instant) {
        self.link.attempt_now(now);
    }

    /// Sends a keep-alive ping when one is due.
    pub(super) async fn send_ping(&mut self, socket: &mut Option<SipSocket>) -> Result<(), String> {
        if !std::mem::take(&mut self.link.ping_due) {
            return Ok(());
        }
        let Some(s) = socket.as_mut() else { return Ok(()) };
        futures_util::SinkExt::send(s, WsMessage::Ping(Default::default())).await.map_err(|e| e.to_string())
    }

    /// The connection is gone: tell the core and the user, and plan the first attempt.
    pub(super) fn lose_link(&mut self, socket: &mut Option<SipSocket>, why: String, now: Instant) {
        if let Some(old) = socket.take() {
            tokio::spawn(close_quietly(old));
        }
        self.link.keepalive = None;
        self.link.ping_due = false;
        self.phone.shared.connected.store(false, std::sync::atomic::Ordering::Relaxed);
        self.core.handle_disconnect(now);
        self.forward_outputs();
        self.emit(PhoneEvent::Disconnected(why.clone()));
        self.plan_attempt(why, now);
    }

    fn plan_attempt(&mut self, why: String, now: Instant) {
        let jitter = self.link.rng.random::<f64>();
        let (attempt, proxy, wait) = self.link.reconnect.next_attempt(jitter);
        self.link.next_attempt = Some((now + wait, proxy, attempt));
        let proxy = self.link.address(proxy).to_owned();
        self.emit(PhoneEvent::Reconnecting { attempt, proxy, wait, reason: why });
    }

    fn start_attempt(&mut self, proxy: Proxy, switch_back: bool) {
        self.link.connecting = Some(switch_back);
        let address = self.link.address(proxy).to_owned();
        let tls = self.link.tls.clone();
        let results = self.link.results.clone();
        let limit = self.link.settings.connect_timeout;
        tokio::spawn(async move {
            let result = transport::connect(&address, tls, limit).await;
            let _ = results.send(Attempt { proxy, switch_back, result });
        });
    }

    /// An attempt finished: use the new connection, or plan the next attempt.
    pub(super) fn on_attempt(&mut self, socket: &mut Option<SipSocket>, attempt: Attempt, now: Instant) {
        self.link.connecting = None;
        let Attempt { proxy, switch_back, result } = attempt;
        match result {
            // A call started while the switch back was under way: keep the backup for now.
            Ok(new) if switch_back && socket.is_some() && !self.core.call_ids().is_empty() => {
                tokio::spawn(close_quietly(new));
                self.link.reconnect.switch_back_failed(now);
            }
            Ok(new) => self.use_connection(socket, new, proxy, now),
            Err(_) if switch_back => self.link.reconnect.switch_back_failed(now),
            Err(e) => self.plan_attempt(e.to_string(), now),
        }
    }

    fn use_connection(&mut self, socket: &mut Option<SipSocket>, new: SipSocket, proxy: Proxy, now: Instant) {
        if let Some(old) = socket.replace(new) {
            // A switch back: the old connection's transactions end with it; there is no call.
            tokio::spawn(close_quietly(old));
            self.core.handle_disconnect(now);
        }
        self.link.next_attempt = None;
        self.link.keepalive = Some(KeepAlive::new(self.link.settings.keepalive, now));
        self.link.reconnect.connected(proxy, now);
        self.phone.shared.connected.store(true, std::sync::atomic::Ordering::Relaxed);
        self.core.handle_connected(now);
        self.forward_outputs();
        let address = self.link.address(proxy).to_owned();
        self.emit(PhoneEvent::Reconnected { proxy: address, backup: proxy == Proxy::Backup });
    }
}

/// Closes a connection we are done with, without waiting on it for long.
async fn close_quietly(mut socket: SipSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(2), futures_util::SinkExt::close(&mut socket)).await;
}

