//! PKCE (RFC 7636): a code verifier from the system CSPRNG and its S256 challenge.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SecureRandom as _;

use crate::Secret;

/// The only challenge method we send.
pub const METHOD: &str = "S256";

/// Random octets behind a generated verifier: 48 octets, 64 characters of base64url.
const VERIFIER_OCTETS: usize = 48;

/// A code verifier and its S256 challenge, for one authorization request.
#[derive(Clone, Debug)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

/// A verifier that RFC 7636 §4.1 does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// Not 43 to 128 characters long.
    #[error("a PKCE code verifier must be 43 to 128 characters long, this one has {0}")]
    Length(usize),
    /// A character outside `[A-Za-z0-9-._~]`.
    #[error("a PKCE code verifier may only contain letters, digits, '-', '.', '_' and '~'")]
    Character,
}

impl Pkce {
    /// A fresh verifier: 48 octets from the operating system's CSPRNG, base64url without
    /// padding (64 characters), and its S256 challenge.
    pub fn generate() -> Pkce {
        let verifier = URL_SAFE_NO_PAD.encode(random_octets::<VERIFIER_OCTETS>());
        let challenge = challenge_s256(&verifier);
        Pkce { verifier: Secret::new(verifier), challenge }
    }

    /// A pair from a given verifier (checked against RFC 7636 §4.1).
    pub fn from_verifier(verifier: &str) -> Result<Pkce, PkceError> {
        if !(43..=128).contains(&verifier.len()) {
            return Err(PkceError::Length(verifier.chars().count()));
        }
        if !verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            return Err(PkceError::Character);
        }
        Ok(Pkce { verifier: Secret::new(verifier), challenge: challenge_s256(verifier) })
    }

    /// The verifier, sent with the code to the token endpoint.
    pub fn verifier(&self) -> &str {
        self.verifier.expose()
    }

    /// The S256 challenge, sent in the authorize URL.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))` without padding.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// A random `state` for an authorization request: 24 octets from the CSPRNG, base64url
/// (32 characters).
pub fn random_state() -> String {
    URL_SAFE_NO_PAD.encode(random_octets::<24>())
}

/// `N` octets from the operating system's CSPRNG.
///
/// # Panics
/// When the operating system has no working random source (`getrandom` fails), which no
/// supported platform does; carrying on without randomness would be worse.
fn random_octets<const N: usize>() -> [u8; N] {
    let mut octets = [0u8; N];
    ring::rand::SystemRandom::new().fill(&mut octets).expect("the operating system's random number generator failed");
    octets
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const RFC_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141,
        121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(URL_SAFE_NO_PAD.encode(RFC_OCTETS), RFC_VERIFIER);
        assert_eq!(challenge_s256(RFC_VERIFIER), RFC_CHALLENGE);
        let pkce = Pkce::from_verifier(RFC_VERIFIER).unwrap();
        assert_eq!(pkce.verifier(), RFC_VERIFIER);
        assert_eq!(pkce.challenge(), RFC_CHALLENGE);
    }

    #[test]
    fn generated_verifiers_are_valid_and_differ() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_ne!(a.verifier(), b.verifier());
        for p in [&a, &b] {
            assert_eq!(p.verifier().len(), 64);
            assert!(Pkce::from_verifier(p.verifier()).is_ok());
            assert_eq!(p.challenge(), challenge_s256(p.verifier()));
            assert_eq!(p.challenge().len(), 43);
            assert!(!p.challenge().contains(['=', '+', '/']));
        }
        assert!(!format!("{a:?}").contains(a.verifier()));
    }

    #[test]
    fn verifier_rules() {
        assert_eq!(Pkce::from_verifier(&"a".repeat(42)).unwrap_err(), PkceError::Length(42));
        assert!(Pkce::from_verifier(&"a".repeat(43)).is_ok());
        assert!(Pkce::from_verifier(&"a".repeat(128)).is_ok());
        assert_eq!(Pkce::from_verifier(&"a".repeat(129)).unwrap_err(), PkceError::Length(129));
        assert_eq!(Pkce::from_verifier(&format!("{}+", "a".repeat(43))).unwrap_err(), PkceError::Character);
        assert!(Pkce::from_verifier(&format!("{}-._~", "a".repeat(43))).is_ok());
    }

    #[test]
    fn states_are_random() {
        let a = random_state();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_state());
    }
}
