//! Which RingCentral platform to talk to.

use crate::RestError;

/// RingCentral's production platform.
pub const PRODUCTION: &str = "https://platform.ringcentral.com";
/// RingCentral's developer sandbox.
pub const SANDBOX: &str = "https://platform.devtest.ringcentral.com";

/// The server a user picked: production, sandbox, or a custom base URL (rc-sim:
/// `https://127.0.0.1:{rest_port}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// [`PRODUCTION`].
    Production,
    /// [`SANDBOX`].
    Sandbox,
    /// Any other `https://host[:port]` base URL.
    Custom(String),
}

impl Server {
    /// `production`, `sandbox` (any case) or a URL.
    pub fn from_setting(setting: &str) -> Server {
        match setting.trim() {
            s if s.eq_ignore_ascii_case("production") => Server::Production,
            s if s.eq_ignore_ascii_case("sandbox") => Server::Sandbox,
            s => match normalize_base(s) {
                Ok(base) if base == PRODUCTION => Server::Production,
                Ok(base) if base == SANDBOX => Server::Sandbox,
                _ => Server::Custom(s.to_owned()),
            },
        }
    }

    /// The base URL as written (custom URLs are checked by [`normalize_base`]).
    pub fn base_url(&self) -> &str {
        match self {
            Server::Production => PRODUCTION,
            Server::Sandbox => SANDBOX,
            Server::Custom(url) => url,
        }
    }
}

/// Checks a base URL and returns it as `https://host[:port]`: HTTPS only (certificates are
/// always verified), a host, and nothing after the authority but an optional `/`.
pub fn normalize_base(base: &str) -> Result<String, RestError> {
    let bad = |why: &str| RestError::Config(format!("the server URL \"{base}\" {why}"));
    let url = url::Url::parse(base.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(bad("must start with https://"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("has no host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must be just https://host[:port]"));
    }
    Ok(match url.port() {
        Some(port) => format!("https://{host}:{port}"),
        None => format!("https://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        assert_eq!(Server::from_setting("Production"), Server::Production);
        assert_eq!(Server::from_setting("sandbox"), Server::Sandbox);
        assert_eq!(Server::from_setting("https://platform.devtest.ringcentral.com/"), Server::Sandbox);
        assert_eq!(Server::from_setting("https://127.0.0.1:8443"), Server::Custom("https://127.0.0.1:8443".into()));
        assert_eq!(Server::Production.base_url(), PRODUCTION);
    }

    #[test]
    fn base_urls() {
        assert_eq!(normalize_base("https://127.0.0.1:8443/").unwrap(), "https://127.0.0.1:8443");
        assert_eq!(normalize_base(" https://Platform.RingCentral.com ").unwrap(), PRODUCTION);
        assert_eq!(normalize_base("https://platform.ringcentral.com:443").unwrap(), PRODUCTION);
        assert_eq!(normalize_base("https://[::1]:9000").unwrap(), "https://[::1]:9000");
        for bad in ["http://127.0.0.1:8443", "127.0.0.1:8443", "https://", "https://h/restapi", "https://u:p@h", "https://h/?x=1"] {
            assert!(matches!(normalize_base(bad), Err(RestError::Config(_))), "{bad}");
        }
    }
}
