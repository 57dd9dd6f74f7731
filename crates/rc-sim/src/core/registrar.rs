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

/// Bindings and nonces.
#[derive(Debug)]
pub struct Registrar {
    nonce_lifetime: Duration,
    nonces: HashMap<String, Instant>,
    bindings: Vec<Binding>,
}

impl Registrar {
    /// A registrar whose nonces live `nonce_lifetime`.
    pub fn new(nonce_lifetime: Duration) -> Self {
        Self { nonce_lifetime, nonces: HashMap::new(), bindings: Vec::new() }
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

    /// Adds or refreshes a binding; the latest registration of an instance wins.
    pub fn upsert(&mut self, binding: Binding) {
        self.bindings.retain(|b| !(b.ext == binding.ext && b.instance == binding.instance));
        self.bindings.push(binding);
    }

    /// Removes an instance's binding (unregister).
    pub fn remove(&mut self, ext: usize, instance: &str) {
        self.bindings.retain(|b| !(b.ext == ext && b.instance == instance));
    }

    /// Forgets everything registered over a closed connection.
    pub fn forget_conn(&mut self, conn: ConnId) {
        self.bindings.retain(|b| b.conn != conn);
    }

    /// Drops expired bindings and nonces long past use.
    pub fn expire(&mut self, now: Instant) {
        self.bindings.retain(|b| b.expires_at > now);
        let keep = self.nonce_lifetime * 4;
        self.nonces.retain(|_, issued| now.duration_since(*issued) <= keep);
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
}
