#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! The RingCentral REST subset the softphone uses (issue 9; the contract is
//! `docs/rest-api.md`): OAuth 2.0 sign-in, by authorization code with PKCE through the system
//! browser and a loopback redirect or by JWT for service accounts; token refresh and
//! revocation; sip-provision; caller IDs; conferences.
//!
//! The sans-IO parts ([`pkce`], [`oauth`], [`model`], [`RestError::from_response`]) are plain
//! functions; [`RcClient`] does the HTTPS (hyper over tokio-rustls with ring, certificates
//! always verified), [`open_in_browser`] shows the sign-in page and [`LoopbackRedirect`]
//! receives the browser.
//!
//! Sign-in through the browser:
//! ```no_run
//! # async fn sign_in() -> Result<(), Box<dyn std::error::Error>> {
//! use rc_rest::{ClientOptions, LoopbackRedirect, Pkce, RcClient, Server};
//! use std::time::Duration;
//!
//! let client = RcClient::new(ClientOptions::new(Server::Sandbox.base_url(), "my-client-id"))?;
//! let redirect = LoopbackRedirect::bind()?;
//! let pkce = Pkce::generate();
//! let url = client.authorize_url(redirect.redirect_uri(), redirect.state(), &pkce);
//! rc_rest::open_in_browser(&url)?;
//! let code = redirect.wait(Duration::from_secs(300)).await?;
//! client.exchange_code(&code, pkce.verifier(), redirect.redirect_uri()).await?;
//! let sip_info = client.sip_provision().await?;
//! # let _ = (url, sip_info); Ok(()) }
//! ```
//!
//! Secrets (tokens, client secret, PKCE verifier, the sipInfo password) never appear in
//! `Debug` output or in errors.

pub mod browser;
pub mod client;
mod error;
pub mod http;
pub mod loopback;
pub mod model;
pub mod oauth;
pub mod pkce;
mod secret;
mod server;

pub use browser::{open_in_browser, BrowserError};
pub use client::{ClientOptions, RcClient};
pub use error::{RedirectError, RestError};
pub use loopback::LoopbackRedirect;
pub use model::{Conference, Party, PhoneNumber};
pub use oauth::Tokens;
pub use pkce::{Pkce, PkceError};
pub use rc_dialect::SipInfo;
pub use secret::Secret;
pub use server::{normalize_base, Server, PRODUCTION, SANDBOX};
