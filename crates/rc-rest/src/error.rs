//! Typed errors, each with a message fit to show the user.

use std::time::Duration;

use serde::Deserialize;

/// What went wrong with a REST call. The `Display` text is meant for the user; none of the
/// variants ever carries a token, secret or password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// 401 `TokenExpired` that a refresh could not cure (the client refreshes and retries
    /// once by itself).
    #[error("Your RingCentral session has expired. Trying again may help; otherwise sign in again.")]
    TokenExpired,
    /// 401 `TokenInvalid` (revoked or unknown token), or the refresh token was refused or has
    /// expired: the session is over and the user must sign in again. The client forgets its
    /// tokens when it sees this.
    #[error("You have been signed out of RingCentral. Please sign in again.")]
    TokenInvalid,
    /// An API call without tokens (never signed in, or signed out).
    #[error("You are not signed in to RingCentral.")]
    NotSignedIn,
    /// 429: too many requests; `retry_after` is the server's `Retry-After`, when it sent one
    /// in seconds.
    #[error("RingCentral is receiving too many requests from this account. {}", retry_hint(.retry_after))]
    RateLimited {
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Any other error status, with the server's message (or the status' reason).
    #[error("The RingCentral server answered {0}: {1}")]
    Server(u16, String),
    /// OAuth `invalid_grant` on sign-in: a bad or used authorization code, a wrong PKCE
    /// verifier, a bad JWT credential. Holds the server's `error_description`.
    #[error("RingCentral refused the sign-in: {0}")]
    InvalidGrant(String),
    /// No answer: DNS, TCP, TLS (including an untrusted certificate) or a timeout.
    #[error("Cannot reach the RingCentral server: {0}")]
    Network(String),
    /// An answer we cannot use (not JSON, missing fields, a sipInfo that does not validate).
    #[error("The RingCentral server sent an answer this app cannot use: {0}")]
    BadResponse(String),
    /// The settings are wrong: server URL, extra CA certificate.
    #[error("The RingCentral settings are invalid: {0}")]
    Config(String),
}

fn retry_hint(after: &Option<Duration>) -> String {
    match after {
        Some(d) if d.as_secs() <= 1 => "Please try again in a second.".into(),
        Some(d) => format!("Please try again in {} seconds.", d.as_secs()),
        None => "Please try again shortly.".into(),
    }
}

impl RestError {
    /// True when the user has to sign in again (the UI shows the sign-in page).
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, RestError::TokenInvalid | RestError::NotSignedIn)
    }

    /// Maps a non-2xx answer. `retry_after` is the `Retry-After` header, `body` the answer's
    /// body: RingCentral's `{"errorCode","message"}` or OAuth's `{"error","error_description"}`.
    pub fn from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> RestError {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        if status == 429 {
            let retry_after = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
            return RestError::RateLimited { retry_after };
        }
        if let Some(error) = parsed.error.as_deref() {
            let description = parsed.error_description.clone().or(parsed.message.clone()).unwrap_or_else(|| error.to_owned());
            if error == "invalid_grant" {
                return RestError::InvalidGrant(description);
            }
            if status < 500 {
                return RestError::Server(status, if description == error { description } else { format!("{description} ({error})") });
            }
        }
        if status == 401 {
            return match parsed.error_code.as_deref() {
                Some("TokenExpired") => RestError::TokenExpired,
                _ => RestError::TokenInvalid,
            };
        }
        let message = parsed
            .message
            .or(parsed.error_description)
            .or_else(|| parsed.errors.into_iter().find_map(|e| e.message))
            .unwrap_or_else(|| reason(status).to_owned());
        RestError::Server(status, message)
    }
}

/// The fields of an error body we read, in either dialect.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error_code: Option<String>,
    message: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
    #[serde(rename = "error")]
    error: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorItem {
    message: Option<String>,
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Unexpected status",
    }
}

/// What went wrong while waiting for, or reading, the browser's redirect back to us.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// No redirect arrived in time.
    #[error("Sign-in timed out: the browser did not come back. Please try again.")]
    Timeout,
    /// The `state` does not match the one we sent: not the answer to our request.
    #[error("Sign-in failed: the browser's answer does not belong to this sign-in (state mismatch). Please try again.")]
    StateMismatch,
    /// `error=access_denied`: the user refused, or the credentials were wrong.
    #[error("Sign-in was cancelled or the credentials were refused.")]
    AccessDenied,
    /// Another OAuth `error=` in the redirect.
    #[error("Sign-in failed: {description} ({error})")]
    Failed {
        /// The OAuth error code.
        error: String,
        /// The `error_description`, or the code again.
        description: String,
    },
    /// Neither `code` nor `error` in the redirect.
    #[error("Sign-in failed: the browser came back without an authorization code.")]
    MissingCode,
    /// The loopback listener failed.
    #[error("Sign-in failed: cannot listen for the browser ({0})")]
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors() {
        let e = |status, after, body: &str| RestError::from_response(status, after, body.as_bytes());
        assert_eq!(e(401, None, r#"{"errorCode":"TokenExpired","message":"Access token expired"}"#), RestError::TokenExpired);
        assert_eq!(e(401, None, r#"{"errorCode":"TokenInvalid","message":"Token not found"}"#), RestError::TokenInvalid);
        assert_eq!(e(401, None, ""), RestError::TokenInvalid);
        assert_eq!(
            e(429, Some("7"), r#"{"errorCode":"CMN-301","message":"Request rate exceeded"}"#),
            RestError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        assert_eq!(e(429, None, ""), RestError::RateLimited { retry_after: None });
        assert_eq!(e(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"), ""), RestError::RateLimited { retry_after: None });
        assert_eq!(
            e(503, None, r#"{"errorCode":"CMN-211","message":"Service temporarily unavailable"}"#),
            RestError::Server(503, "Service temporarily unavailable".into())
        );
        assert_eq!(
            e(404, None, r#"{"errorCode":"CMN-102","message":"Resource for parameter [sessionId] is not found"}"#),
            RestError::Server(404, "Resource for parameter [sessionId] is not found".into())
        );
        assert_eq!(e(502, None, "<html>bad gateway</html>"), RestError::Server(502, "Bad gateway".into()));
        assert_eq!(e(400, None, r#"{"errors":[{"message":"Parameter [x] is invalid"}]}"#), RestError::Server(400, "Parameter [x] is invalid".into()));
    }

    #[test]
    fn oauth_errors() {
        let e = |status, body: &str| RestError::from_response(status, None, body.as_bytes());
        assert_eq!(
            e(400, r#"{"error":"invalid_grant","error_description":"Invalid authorization code"}"#),
            RestError::InvalidGrant("Invalid authorization code".into())
        );
        assert_eq!(e(400, r#"{"error":"invalid_grant"}"#), RestError::InvalidGrant("invalid_grant".into()));
        assert_eq!(
            e(401, r#"{"error":"invalid_client","error_description":"Invalid client"}"#),
            RestError::Server(401, "Invalid client (invalid_client)".into())
        );
    }

    #[test]
    fn messages_are_for_people() {
        assert_eq!(
            RestError::RateLimited { retry_after: Some(Duration::from_secs(30)) }.to_string(),
            "RingCentral is receiving too many requests from this account. Please try again in 30 seconds."
        );
        assert_eq!(RestError::Server(503, "Down".into()).to_string(), "The RingCentral server answered 503: Down");
        assert!(RestError::TokenInvalid.to_string().contains("sign in again"));
        assert!(RestError::TokenInvalid.needs_sign_in());
        assert!(!RestError::Network("x".into()).needs_sign_in());
        assert_eq!(RedirectError::AccessDenied.to_string(), "Sign-in was cancelled or the credentials were refused.");
    }
}
