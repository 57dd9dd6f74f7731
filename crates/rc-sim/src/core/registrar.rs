//! Registrations and digest nonces. Pure state: time is an input.

use super::ConnId;
use rand::RngCore;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One registered device: an extension's instance reachable over a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Index of the extension in the configuration.
    pub ext: usize,
    /// The `+sip.instance` value (or the contact URI when there is none).
    pub instance: String,
    /// The authorizationId the device registered with (its `Cln`).
    pub auth_id: String,
    /// The connection that registered it.
    pub conn: ConnId,
    /// The Contact URI as registered.
    pub contact: String,
    /// When the registration runs out.
    pub expires_at: Instant,
}

/// What the admin API shows of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingInfo {
    /// Extension number.
    pub number: String,
    /// Instance identifier.
    pub instance: String,
    /// Connection id.
    pub conn: ConnId,
    /// Contact URI.
    pub contact: String,
    /// Seconds left.
    pub expires_in: u64,
}

/// The state of a nonce presented by a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// Issued by us and still valid.
    Valid,
    /// Issued by us but expired: challenge again with `stale=true`.
    Stale,
    /// Never issued (or long forgotten).
    Unknown,
}

/// Why a REGISTER with the right credentials is refused, as RingCentral refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The extension has as many instances bound as it may, and this one is not among them
    /// (ringcentral-call-js #60, ringcentral-web-phone #374).
    TooManyContacts,
    /// Another connection registered this instance since this connection bound it; the
    /// newer registration keeps it (ringcentral-web-phone #71).
    InstanceIntercepted,
}

impl Refusal {
    /// The status code RingCentral answers with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::TooManyContacts => 603,
            Refusal::InstanceIntercepted => 403,
        }
    }

    /// RingCentral's reason phrase, word for word.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::TooManyContacts => "Too Many Contacts",
            Refusal::InstanceIntercepted => "Forbidden, instance id is intercepted by another registration",
        }
    }
}

/// A connection whose binding of an instance another connection's registration took.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Displaced {
    ext: usize,
    instance: String,
    conn: ConnId,
}

/// Bindings and nonces.
#[derive(Debug)]
pub struct Registrar {
    nonce_lifetime: Duration,
    nonces: HashMap<String, Instant>,
    bindings: Vec<Binding>,
    /// Connections that lost an instance to a newer registration, while that one lives.
    displaced: Vec<Displaced>,
}

impl Registrar {
    /// A registrar whose nonces live `nonce_lifetime`.
    pub fn new(nonce_lifetime: Duration) -> Self {
        Self { nonce_lifetime, nonces: HashMap::new(), bindings: Vec::new(), displaced: Vec::new() }
    }

    /// Whether `conn` may register (or, with `limit` `None`, unregister) `instance` of
    /// extension `ext` at `now`: not when another connection took the instance from it since,
    /// nor when the instance would be one more than `limit` bound to the extension.
    pub fn admit(&self, ext: usize, instance: &str, conn: ConnId, limit: Option<usize>, now: Instant) -> Result<(), Refusal> {
        let live = self.bindings_for(ext, now);
        let holder = live.iter().find(|b| b.instance == instance);
        let lost_it = self.displaced.iter().any(|d| d.ext == ext && d.instance == instance && d.conn == conn);
        if lost_it && holder.is_some_and(|b| b.conn != conn) {
            return Err(Refusal::InstanceIntercepted);
        }
        match limit {
            Some(limit) if holder.is_none() && live.len() >= limit => Err(Refusal::TooManyContacts),
            _ => Ok(()),
        }
    }

    /// A fresh nonce, remembered from `now`.
    pub fn new_nonce(&mut self, rng: &mut impl RngCore, now: Instant) -> String {
        let nonce = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        self.nonces.insert(nonce.clone(), now);
        nonce
    }

    /// Whether `nonce` is ours and fresh at `now`.
    pub fn check_nonce(&self, nonce: &str, now: Instant) -> NonceState {
        match self.nonces.get(nonce) {
            None => NonceState::Unknown,
            Some(issued) if now.duration_since(*issued) > self.nonce_lifetime => NonceState::Stale,
            Some(_) => NonceState::Valid,
        }
    }

    /// Adds or refreshes a binding; the latest registration of an instance wins, and the
    /// connection that held it before is remembered as displaced.
    pub fn upsert(&mut self, binding: Binding) {
        let same = |b: &Binding| b.ext == binding.ext && b.instance == binding.instance;
        if let Some(old) = self.bindings.iter().find(|b| same(b) && b.conn != binding.conn) {
            self.displaced.push(Displaced { ext: old.ext, instance: old.instance.clone(), conn: old.conn });
        }
        self.displaced.retain(|d| !(d.ext == binding.ext && d.instance == binding.instance && d.conn == binding.conn));
        self.bindings.retain(|b| !same(b));
        self.bindings.push(binding);
    }

    /// Removes an instance's binding (unregister).
    pub fn remove(&mut self, ext: usize, instance: &str) {
        self.bindings.retain(|b| !(b.ext == ext && b.instance == instance));
        self.forget_stale_displaced();
    }

    /// Forgets everything registered over a closed connection.
    pub fn forget_conn(&mut self, conn: ConnId) {
        self.bindings.retain(|b| b.conn != conn);
        self.displaced.retain(|d| d.conn != conn);
        self.forget_stale_displaced();
    }

    /// Drops expired bindings and nonces long past use.
    pub fn expire(&mut self, now: Instant) {
        self.bindings.retain(|b| b.expires_at > now);
        self.forget_stale_displaced();
        let keep = self.nonce_lifetime * 4;
        self.nonces.retain(|_, issued| now.duration_since(*issued) <= keep);
    }

    /// A displaced connection is remembered only while the binding that took its place lives.
    fn forget_stale_displaced(&mut self) {
        let bindings = &self.bindings;
        self.displaced.retain(|d| bindings.iter().any(|b| b.ext == d.ext && b.instance == d.instance && b.conn != d.conn));
    }

    /// Live bindings of an extension, newest last.
    pub fn bindings_for(&self, ext: usize, now: Instant) -> Vec<Binding> {
        self.bindings.iter().filter(|b| b.ext == ext && b.expires_at > now).cloned().collect()
    }

    /// The live binding made over `conn`, if any.
    pub fn binding_of_conn(&self, conn: ConnId, now: Instant) -> Option<&Binding> {
        self.bindings.iter().rev().find(|b| b.conn == conn && b.expires_at > now)
    }

    /// All live bindings, for the admin API.
    pub fn all(&self, now: Instant) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.expires_at > now)
    }

    /// When the next binding expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.bindings.iter().map(|b| b.expires_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn binding(ext: usize, instance: &str, conn: ConnId, until: Instant) -> Binding {
        Binding { ext, instance: instance.into(), auth_id: format!("auth-{ext}"), conn, contact: format!("sip:{conn}@x.invalid"), expires_at: until }
    }

    #[test]
    fn nonces_go_stale() {
        let mut r = Registrar::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let n = r.new_nonce(&mut StdRng::seed_from_u64(1), t0);
        assert_eq!(r.check_nonce(&n, t0 + Duration::from_secs(9)), NonceState::Valid);
        assert_eq!(r.check_nonce(&n, t0 + Duration::from_secs(11)), NonceState::Stale);
        assert_eq!(r.check_nonce("other", t0), NonceState::Unknown);
        r.expire(t0 + Duration::from_secs(100));
        assert_eq!(r.check_nonce(&n, t0), NonceState::Unknown);
    }

    #[test]
    fn latest_instance_wins_and_instances_coexist() {
        let mut r = Registrar::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        r.upsert(binding(0, "a", 1, later));
        r.upsert(binding(0, "b", 2, later));
        r.upsert(binding(0, "a", 3, later));
        let conns: Vec<ConnId> = r.bindings_for(0, t0).iter().map(|b| b.conn).collect();
        assert_eq!(conns, [2, 3]);
        r.forget_conn(2);
        assert_eq!(r.bindings_for(0, t0).len(), 1);
        assert!(r.bindings_for(0, later).is_empty(), "expired at its deadline");
        r.remove(0, "a");
        assert!(r.binding_of_conn(3, t0).is_none());
    }

    #[test]
    fn a_sixth_instance_is_too_many_but_known_instances_refresh() {
        let mut r = Registrar::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        for (conn, instance) in (1..=5).zip(["a", "b", "c", "d", "e"]) {
            assert_eq!(r.admit(0, instance, conn, Some(5), t0), Ok(()));
            r.upsert(binding(0, instance, conn, later));
        }
        assert_eq!(r.admit(0, "f", 6, Some(5), t0), Err(Refusal::TooManyContacts));
        assert_eq!((Refusal::TooManyContacts.status(), Refusal::TooManyContacts.reason()), (603, "Too Many Contacts"));
        assert_eq!(r.admit(0, "c", 3, Some(5), t0), Ok(()), "a refresh");
        assert_eq!(r.admit(0, "c", 7, Some(5), t0), Ok(()), "the same instance from a new connection");
        assert_eq!(r.admit(1, "f", 6, Some(5), t0), Ok(()), "per extension");
        assert_eq!(r.admit(0, "f", 6, None, t0), Ok(()), "unregistering is not limited");
        assert_eq!(r.admit(0, "f", 6, Some(5), later), Ok(()), "expired bindings do not count");
        r.forget_conn(1);
        assert_eq!(r.admit(0, "f", 6, Some(5), t0), Ok(()), "a closed connection frees its place");
    }

    #[test]
    fn the_connection_that_lost_an_instance_is_refused_while_the_newer_registration_lives() {
        let mut r = Registrar::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        r.upsert(binding(0, "a", 1, later));
        r.upsert(binding(0, "a", 2, later));
        assert_eq!(r.admit(0, "a", 1, Some(5), t0), Err(Refusal::InstanceIntercepted));
        assert_eq!(r.admit(0, "a", 1, None, t0), Err(Refusal::InstanceIntercepted), "nor may it unregister the newer binding");
        assert_eq!(Refusal::InstanceIntercepted.reason(), "Forbidden, instance id is intercepted by another registration");
        assert_eq!(r.admit(0, "a", 2, Some(5), t0), Ok(()), "the newer one refreshes");
        assert_eq!(r.admit(0, "a", 3, Some(5), t0), Ok(()), "a third connection may take it in turn");
        r.upsert(binding(0, "a", 2, later));
        r.forget_conn(2);
        assert_eq!(r.admit(0, "a", 1, Some(5), t0), Ok(()), "once the newer binding is gone, the old connection may register again");
        r.upsert(binding(0, "a", 1, later));
        r.upsert(binding(0, "a", 4, t0 + Duration::from_secs(5)));
        r.expire(t0 + Duration::from_secs(6));
        assert_eq!(r.admit(0, "a", 1, Some(5), t0 + Duration::from_secs(6)), Ok(()), "nor once it has expired");
    }
}
