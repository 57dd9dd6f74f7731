//! Registration: REGISTER with digest, refresh before expiry, unregister.

use super::{Event, Outcome, Output, Pending, PhoneCore, Ticket};
use rand::rngs::StdRng;
use rc_dialect::SipInfo;
use sip::auth::{AuthError, DigestClient};
use sip::builder::{self, Registration};
use sip::{NameAddr, Response, SipUri};
use std::time::{Duration, Instant};

/// Refresh this long before the granted lifetime ends (as the seed SDK does).
const REFRESH_MARGIN: Duration = Duration::from_secs(3);
/// No final answer to a REGISTER within this time: the connection is considered dead.
pub(super) const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Why registering failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The server rejected our credentials.
    #[error("wrong password or authorization id ({0})")]
    WrongPassword(String),
    /// The server refused us (403 and the like), with its status line.
    #[error("registration refused: {0}")]
    Refused(String),
    /// The line already has as many registered phones and apps as RingCentral allows
    /// (`603 Too Many Contacts`, ringcentral-web-phone #374), with the status line.
    #[error("too many phones and apps are registered on this line (RingCentral allows 5 WebRTC devices at a time): close the softphone on another computer or in a browser tab, or wait a minute for a closed one's registration to expire, then restart this one ({0})")]
    TooManyDevices(String),
    /// Another app registered with this phone's `+sip.instance` id and took its place
    /// (`403 Forbidden, instance id is intercepted by another registration`,
    /// ringcentral-web-phone #71), with the status line.
    #[error("another app registered with this phone's instance ID and now receives its calls: close that app and restart this one, or give this installation its own instance ID in Settings (saving it registers again) ({0})")]
    InstanceTakenOver(String),
    /// No answer in time.
    #[error("registration timed out (no answer from the server)")]
    Timeout,
    /// The server's answer cannot be used.
    #[error("bad answer from the server: {0}")]
    BadResponse(String),
    /// The connection to the server is gone.
    #[error("not connected to the server")]
    NotConnected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegState {
    Idle,
    /// A REGISTER is in flight asking for `expires` seconds.
    Sending { expires: u32, deadline: Instant },
    Registered { refresh_at: Instant },
    /// Refused for a passing reason (5xx, 408, 480): try again at `at`.
    Retry { at: Instant },
}

/// The registration state machine's data.
pub(super) struct Registrar {
    aor: NameAddr,
    call_id: String,
    cseq: u32,
    digest: DigestClient,
    state: RegState,
    /// Tickets waiting for the current REGISTER.
    waiting: Vec<Ticket>,
    /// The lifetime to keep asking for when refreshing (0 after unregister).
    wanted: u32,
    /// Refusals in a row, for the retry back-off.
    refusals: u32,
    /// A REGISTER of ours was granted once: a later 400 is the server's trouble, not ours.
    granted_once: bool,
}

impl Registrar {
    pub fn new(info: &SipInfo, rng: &mut StdRng) -> Registrar {
        Registrar {
            aor: NameAddr::new(SipUri::new(Some(&info.username), &info.domain)),
            call_id: builder::new_call_id(rng),
            cseq: builder::new_cseq(rng),
            digest: DigestClient::new(&info.authorization_id, &info.password),
            state: RegState::Idle,
            waiting: Vec::new(),
            wanted: 0,
            refusals: 0,
            granted_once: false,
        }
    }

    pub fn next_wake(&self) -> Option<Instant> {
        match self.state {
            RegState::Idle => None,
            RegState::Sending { deadline, .. } => Some(deadline),
            RegState::Registered { refresh_at } => Some(refresh_at),
            RegState::Retry { at } => Some(at),
        }
    }

    pub fn connection_lost(&mut self) {
        self.state = RegState::Idle;
        self.digest.reset();
    }

    /// True when the user asked to be registered (and has not unregistered since).
    pub fn wants_registration(&self) -> bool {
        self.wanted > 0
    }

    /// The lifetime asked for.
    pub fn wanted(&self) -> u32 {
        self.wanted
    }

    /// True while registered (or refreshing a registration).
    pub fn is_registered(&self) -> bool {
        matches!(self.state, RegState::Registered { .. }) || matches!(self.state, RegState::Sending { expires, .. } if expires > 0 && self.wanted > 0)
    }
}

impl PhoneCore {
    /// Registers (`expires` = the configured lifetime) and keeps the registration fresh.
    pub fn register(&mut self, now: Instant) -> Ticket {
        let ticket = self.new_ticket();
        self.registrar.wanted = self.opts.register_expires;
        self.registrar.waiting.push(ticket);
        self.send_register(self.opts.register_expires, now);
        ticket
    }

    /// Removes the registration (`REGISTER` with `expires=0`): no more inbound calls.
    pub fn unregister(&mut self, now: Instant) -> Ticket {
        let ticket = self.new_ticket();
        self.registrar.wanted = 0;
        self.registrar.waiting.push(ticket);
        self.send_register(0, now);
        ticket
    }

    /// True while registered.
    pub fn is_registered(&self) -> bool {
        self.registrar.is_registered()
    }

    pub(super) fn send_register(&mut self, expires: u32, now: Instant) {
        let r = &mut self.registrar;
        r.cseq += 1;
        let registrar = SipUri::new(None, &self.info.domain);
        let reg = Registration {
            registrar,
            aor: &r.aor,
            call_id: &r.call_id,
            cseq: r.cseq,
            expires,
            instance_id: Some(&self.opts.instance_id),
        };
        let mut request = builder::register(&self.local, reg, &mut self.rng);
        let digest_uri = format!("sip:{}", self.info.domain);
        let cnonce = builder::random_token(&mut self.rng, 16);
        self.registrar.digest.authorize(&mut request, &digest_uri, &cnonce);
        self.registrar.state = RegState::Sending { expires, deadline: now + self.opts.register_timeout };
        if let Err(e) = self.send_request(request, Pending::Register, now) {
            let error = if e == crate::error::CallError::ConnectionLost { RegisterError::NotConnected } else { RegisterError::BadResponse(e.to_string()) };
            self.registration_failed(error, now);
        }
    }

    pub(super) fn on_register_response(&mut self, response: &Response, now: Instant) {
        let RegState::Sending { expires, .. } = self.registrar.state else { return };
        match response.status {
            100..=199 => {}
            200..=299 => self.on_registered(expires, response, now),
            401 | 407 => match self.registrar.digest.handle_challenge(response) {
                Ok(_) => self.send_register(expires, now),
                Err(AuthError::Rejected { .. }) => self.registration_failed(RegisterError::WrongPassword(status_line(response)), now),
                Err(e) => self.registration_failed(RegisterError::BadResponse(e.to_string()), now),
            },
            403 => self.registration_failed(forbidden(response), now),
            603 => self.registration_failed(RegisterError::TooManyDevices(status_line(response)), now),
            400 if self.registrar.granted_once => self.refused_for_now(response, now),
            408 | 480 | 500..=599 => self.refused_for_now(response, now),
            _ => self.registration_failed(RegisterError::Refused(status_line(response)), now),
        }
    }

    /// A refusal that should pass (5xx, 408, 480, or a 400 to a REGISTER that was granted
    /// before: RingCentral answered those during an outage, ringcentral-web-phone #215): tell
    /// the user and register again later.
    fn refused_for_now(&mut self, response: &Response, now: Instant) {
        self.registration_failed(RegisterError::Refused(status_line(response)), now);
        self.schedule_register_retry(response, now);
    }

    /// A passing refusal: register again after the back-off (or the server's `Retry-After`),
    /// so a struggling server sees one REGISTER per wait, never a storm.
    fn schedule_register_retry(&mut self, response: &Response, now: Instant) {
        if self.registrar.wanted == 0 {
            return;
        }
        let n = self.registrar.refusals;
        self.registrar.refusals += 1;
        let jitter = rand::Rng::random::<f64>(&mut self.rng);
        let backoff = crate::link::backoff(self.opts.register_retry_base, self.opts.register_retry_max, n, jitter);
        let wait = retry_after(response).unwrap_or(backoff);
        self.registrar.state = RegState::Retry { at: now + wait };
    }

    fn on_registered(&mut self, expires: u32, response: &Response, now: Instant) {
        self.registrar.digest.reset();
        self.registrar.refusals = 0;
        let waiting = std::mem::take(&mut self.registrar.waiting);
        if expires == 0 {
            self.registrar.state = RegState::Idle;
            self.emit(Event::Unregistered);
        } else {
            let Some(granted) = granted_expires(response) else {
                return self.registration_failed(RegisterError::BadResponse(format!("{} without Contact expires", status_line(response))), now);
            };
            let refresh = Duration::from_secs(u64::from(granted)).saturating_sub(REFRESH_MARGIN).max(Duration::from_secs(1));
            self.registrar.state = RegState::Registered { refresh_at: now + refresh };
            self.registrar.granted_once = true;
            self.emit(Event::Registered { expires: granted });
        }
        for t in waiting {
            self.done(t, Ok(Outcome::Ok));
        }
        if self.resume_after_register {
            self.resume_calls(now);
        }
    }

    pub(super) fn registration_failed(&mut self, error: RegisterError, _now: Instant) {
        self.registrar.state = RegState::Idle;
        self.registrar.digest.reset();
        let waiting = std::mem::take(&mut self.registrar.waiting);
        if error == RegisterError::Timeout {
            self.out.push_back(Output::CloseConnection("REGISTER was not answered in time".into()));
        }
        self.emit(Event::RegistrationFailed(error.clone()));
        for t in waiting {
            self.done(t, Err(crate::error::CallError::Register(error.clone())));
        }
    }

    pub(super) fn registrar_timeout(&mut self, now: Instant) {
        match self.registrar.state {
            RegState::Registered { refresh_at } if now >= refresh_at && self.registrar.wanted > 0 => {
                self.send_register(self.registrar.wanted, now);
            }
            RegState::Sending { deadline, .. } if now >= deadline => {
                self.pending.retain(|_, p| !matches!(p, Pending::Register));
                self.registration_failed(RegisterError::Timeout, now);
            }
            RegState::Retry { at } if now >= at => self.send_register(self.registrar.wanted, now),
            _ => {}
        }
    }
}

/// The lifetime in the 200's Contact that is ours (or the only one), else an Expires header.
fn granted_expires(response: &Response) -> Option<u32> {
    let contacts = response.headers.contacts().ok()?;
    contacts.iter().find_map(NameAddr::expires).or_else(|| response.headers.expires().ok().flatten())
}

/// The server's `Retry-After` (seconds), capped at an hour.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers.get(sip::HeaderName::RetryAfter)?;
    let secs: u64 = value.split(|c: char| c == ';' || c == '(' || c.is_whitespace()).next()?.parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// What a 403 to REGISTER means: another registration took our instance id (its reason
/// phrase says so), else wrong credentials.
fn forbidden(response: &Response) -> RegisterError {
    let reason = response.reason.to_ascii_lowercase();
    if reason.contains("instance id") && reason.contains("intercepted") {
        RegisterError::InstanceTakenOver(status_line(response))
    } else {
        RegisterError::WrongPassword(status_line(response))
    }
}

fn status_line(r: &Response) -> String {
    format!("{} {}", r.status, r.reason)
}
