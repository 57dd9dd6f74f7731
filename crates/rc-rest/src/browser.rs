//! Opening the sign-in page in the user's own browser. The `open` crate does the platform's
//! part: `ShellExecuteW` on Windows, `open` on macOS, `xdg-open` (then `gio` and the older
//! desktop launchers) on Linux and the BSDs. No shell reads the address on any of them, so an
//! authorize URL reaches the browser whole, `&` and all.

/// Why the browser was not opened.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The text is not a URL.
    #[error("not an address to open ({reason}): {url}")]
    NotAnAddress {
        /// What was asked for.
        url: String,
        /// Why it does not parse.
        reason: url::ParseError,
    },
    /// Only https pages, or http on this computer, are opened.
    #[error("only https addresses are opened in the browser, not {0}")]
    NotHttps(String),
    /// The platform could not start a browser.
    #[error("cannot open the browser ({source}); open this address yourself: {url}")]
    NoBrowser {
        /// What was asked for, for the user to open by hand.
        url: String,
        /// What the platform said.
        source: std::io::Error,
    },
}

/// The address, if it may be opened: https anywhere, http only on the loopback interface
/// (a local sign-in server).
pub fn openable(url: &str) -> Result<url::Url, BrowserError> {
    let parsed = url::Url::parse(url).map_err(|reason| BrowserError::NotAnAddress { url: url.to_owned(), reason })?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(BrowserError::NotHttps(url.to_owned())),
    }
}

/// Opens `url` (see [`openable`]) in the system's default browser, without waiting for it.
pub fn open_in_browser(url: &str) -> Result<(), BrowserError> {
    let parsed = openable(url)?;
    open::that_detached(parsed.as_str()).map_err(|source| BrowserError::NoBrowser { url: parsed.into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_addresses_are_opened() {
        for bad in ["file:///etc/passwd", "javascript:alert(1)", "http://example.com/", "calc.exe", "ftp://127.0.0.1/"] {
            assert!(open_in_browser(bad).is_err(), "{bad}");
        }
        assert!(matches!(openable("not a url"), Err(BrowserError::NotAnAddress { .. })));
        assert!(openable("https://platform.ringcentral.com/restapi/oauth/authorize?a=1&b=2").is_ok());
        assert!(openable("http://127.0.0.1:5000/oauth/authorize").is_ok());
    }
}
