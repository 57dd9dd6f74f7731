//! The secure WebSocket to the SIP proxy (subprotocol `sip`), with certificate checks always on.

use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// The largest WebSocket message read from the server. SIP messages over
/// [`sip::transaction::MAX_MESSAGE`] (256 KiB; real ones are a few kilobytes) are still read
/// whole up to this size, so that a request can be answered 513 and a response dropped while
/// the connection and its calls stay up; anything larger than this is hostile, and the
/// connection is dropped (and made again) instead of buffering it.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// An open SIP WebSocket.
pub type SipSocket = WebSocketStream<TlsStream<TcpStream>>;

/// Why the connection could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The proxy address is not `host:port`.
    #[error("bad proxy address \"{0}\"")]
    BadAddress(String),
    /// TCP connect failed.
    #[error("cannot reach {addr}: {reason}")]
    Connect {
        /// The proxy.
        addr: String,
        /// What the system said.
        reason: String,
    },
    /// The TLS handshake failed (for example an untrusted certificate).
    #[error("TLS with {addr} failed: {reason}")]
    Tls {
        /// The proxy.
        addr: String,
        /// What rustls said.
        reason: String,
    },
    /// The WebSocket handshake failed or the server did not accept subprotocol `sip`.
    #[error("WebSocket with {addr} failed: {reason}")]
    WebSocket {
        /// The proxy.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The extra CA certificate could not be read.
    #[error("extra CA certificate: {0}")]
    Ca(String),
    /// A step of the connection did not finish in time (a server or a captive portal that
    /// accepts TCP and then says nothing).
    #[error("{stage} with {addr} did not finish within {} s", .limit.as_secs_f32())]
    Timeout {
        /// The proxy.
        addr: String,
        /// `TCP connect`, `TLS handshake` or `WebSocket handshake`.
        stage: &'static str,
        /// The time it had.
        limit: std::time::Duration,
    },
}

/// Runs `step` of connecting to `addr` for at most `limit`.
async fn bounded<T>(addr: &str, stage: &'static str, limit: std::time::Duration, step: impl std::future::Future<Output = Result<T, TransportError>>) -> Result<T, TransportError> {
    tokio::time::timeout(limit, step).await.unwrap_or_else(|_| Err(TransportError::Timeout { addr: addr.to_owned(), stage, limit }))
}

/// The TLS client settings: the system's trusted roots plus `extra_ca_pem` (for a private
/// server such as rc-sim). Verification is never turned off.
///
/// The configuration is made once per process for each extra CA and then shared: reading the
/// system's roots takes milliseconds, and a shared configuration keeps TLS sessions, so a
/// reconnect resumes its session instead of a full handshake (as a browser does).
pub fn tls_config(extra_ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    static MADE: std::sync::Mutex<Vec<(Option<String>, Arc<rustls::ClientConfig>)>> = std::sync::Mutex::new(Vec::new());
    let key = extra_ca_pem.map(str::to_owned);
    if let Some((_, config)) = MADE.lock().unwrap().iter().find(|(k, _)| *k == key) {
        return Ok(config.clone());
    }
    let config = make_tls_config(extra_ca_pem)?;
    let mut made = MADE.lock().unwrap();
    if made.len() == 16 {
        made.remove(0);
    }
    made.push((key, config.clone()));
    Ok(config)
}

fn make_tls_config(extra_ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(pem) = extra_ca_pem {
        use rustls::pki_types::pem::PemObject;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| TransportError::Ca(e.to_string()))?;
            roots.add(cert).map_err(|e| TransportError::Ca(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(TransportError::Ca("no certificate in the PEM text".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Ca(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens `wss://{proxy}` with subprotocol `sip`; each step (TCP, TLS, WebSocket) may take at
/// most `limit`.
pub async fn connect(proxy: &str, tls: Arc<rustls::ClientConfig>, limit: std::time::Duration) -> Result<SipSocket, TransportError> {
    let (host, _) = proxy.rsplit_once(':').ok_or_else(|| TransportError::BadAddress(proxy.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let name = ServerName::try_from(host).map_err(|_| TransportError::BadAddress(proxy.to_owned()))?;
    let tcp = bounded(proxy, "TCP connect", limit, async {
        TcpStream::connect(proxy).await.map_err(|e| TransportError::Connect { addr: proxy.to_owned(), reason: e.to_string() })
    })
    .await?;
    let _ = tcp.set_nodelay(true);
    let tls = bounded(proxy, "TLS handshake", limit, async {
        tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(|e| TransportError::Tls { addr: proxy.to_owned(), reason: e.to_string() })
    })
    .await?;
    let ws_err = |reason: String| TransportError::WebSocket { addr: proxy.to_owned(), reason };
    let mut request = format!("wss://{proxy}").into_client_request().map_err(|e| ws_err(e.to_string()))?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", "sip".parse().expect("static header value"));
    let limits = WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
    let handshake = async { tokio_tungstenite::client_async_with_config(request, tls, Some(limits)).await.map_err(|e| ws_err(e.to_string())) };
    let (ws, response) = bounded(proxy, "WebSocket handshake", limit, handshake).await?;
    let accepted = response.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("sip"));
    if !accepted {
        return Err(ws_err("the server did not accept subprotocol \"sip\"".into()));
    }
    Ok(ws)
}
