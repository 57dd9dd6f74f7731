//! The SIP password lives in the OS keychain (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows), never in a plain file. Where no keychain service runs, the
//! password is kept in memory for this session only, and the user is told so.

use std::collections::HashMap;
use std::sync::Mutex;

/// The keychain service name our entries are filed under.
const SERVICE: &str = "org.rcsoftphone.desktop";

/// Where the password ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// In the OS keychain.
    Keychain,
    /// In memory only, with the reason the keychain could not be used.
    SessionOnly(String),
}

/// Reads and writes account secrets.
pub trait SecretStore: Send + Sync {
    /// Stores `secret` for `account`.
    fn set(&self, account: &str, secret: &str) -> Stored;
    /// The secret of `account`, or why there is none.
    fn get(&self, account: &str) -> Result<String, String>;
    /// Forgets the secret of `account` (nothing happens when there is none).
    fn delete(&self, account: &str);
}

/// The OS keychain with an in-memory fallback.
#[derive(Default)]
pub struct Keychain {
    session: Mutex<HashMap<String, String>>,
}

impl SecretStore for Keychain {
    fn set(&self, account: &str, secret: &str) -> Stored {
        self.session.lock().unwrap().insert(account.to_owned(), secret.to_owned());
        let result = keyring::Entry::new(SERVICE, account).and_then(|e| e.set_password(secret));
        match result {
            Ok(()) => Stored::Keychain,
            Err(e) => Stored::SessionOnly(format!("no keychain service is available ({e}); the password is kept for this session only")),
        }
    }

    fn get(&self, account: &str) -> Result<String, String> {
        if let Some(s) = self.session.lock().unwrap().get(account) {
            return Ok(s.clone());
        }
        keyring::Entry::new(SERVICE, account)
            .and_then(|e| e.get_password())
            .map_err(|e| format!("the password for {account} is not in the keychain ({e}); enter the account again"))
    }

    fn delete(&self, account: &str) {
        self.session.lock().unwrap().remove(account);
        if let Ok(entry) = keyring::Entry::new(SERVICE, account) {
            let _ = entry.delete_credential();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_found_again_in_this_session_whatever_the_keychain_says() {
        let k = Keychain::default();
        let stored = k.set("test-account-for-unit-tests", "s3cret");
        assert!(matches!(stored, Stored::Keychain | Stored::SessionOnly(_)));
        if let Stored::SessionOnly(why) = &stored {
            assert!(why.contains("this session only"), "{why}");
        }
        assert_eq!(k.get("test-account-for-unit-tests").unwrap(), "s3cret");
        let fresh = Keychain::default();
        if stored != Stored::Keychain {
            assert!(fresh.get("test-account-for-unit-tests").unwrap_err().contains("enter the account again"));
        }
    }
}
