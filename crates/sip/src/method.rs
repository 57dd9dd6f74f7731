//! Request methods.

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::text::is_token_str;
use std::fmt;

/// A SIP request method. Methods are case-sensitive (RFC 3261 section 7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE: start a session or change it (re-INVITE).
    Invite,
    /// ACK: confirm a final response to INVITE.
    Ack,
    /// BYE: end a session.
    Bye,
    /// CANCEL: cancel a pending INVITE.
    Cancel,
    /// REGISTER: bind a contact to an address of record.
    Register,
    /// OPTIONS: ask for capabilities.
    Options,
    /// INFO: mid-session application data (RFC 6086).
    Info,
    /// MESSAGE: an instant message (RFC 3428).
    Message,
    /// REFER: ask the peer to contact a third party (RFC 3515).
    Refer,
    /// NOTIFY: event notification (RFC 6665).
    Notify,
    /// SUBSCRIBE: subscribe to events (RFC 6665).
    Subscribe,
    /// UPDATE: change session parameters before answer (RFC 3311).
    Update,
    /// PRACK: acknowledge a reliable provisional response (RFC 3262).
    Prack,
    /// PUBLISH: publish event state (RFC 3903).
    Publish,
    /// Any other method, kept as written.
    Extension(String),
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }

    /// Parses a method token.
    pub fn parse(s: &str) -> ParseResult<Method> {
        if s.is_empty() {
            return Err(ParseError::new(ParseErrorKind::MethodMissing, 0));
        }
        if !is_token_str(s) {
            return Err(ParseError::new(ParseErrorKind::BadMethod, 0));
        }
        Ok(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "MESSAGE" => Method::Message,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            other => Method::Extension(other.to_owned()),
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = ParseError;
    fn from_str(s: &str) -> ParseResult<Method> {
        Method::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_extension_methods() {
        assert_eq!(Method::parse("INVITE").unwrap(), Method::Invite);
        assert_eq!(Method::parse("invite").unwrap(), Method::Extension("invite".into()));
        let odd = "!interesting-Method0123456789_*+`.%~";
        assert_eq!(Method::parse(odd).unwrap().as_str(), odd);
        assert_eq!(Method::parse("").unwrap_err().kind, ParseErrorKind::MethodMissing);
        assert_eq!(Method::parse("IN VITE").unwrap_err().kind, ParseErrorKind::BadMethod);
    }
}
