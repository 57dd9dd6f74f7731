//! A minimal HTTPS/1.1 client: hyper over tokio-rustls (ring), one connection per request
//! (REST calls are rare: sign-in, provisioning, an hourly refresh, a conference now and then).
//! Certificates are always verified against the system's roots plus an optional extra CA.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use crate::RestError;

/// Largest answer body we read.
const MAX_BODY: usize = 1 << 20;

/// A rustls client configuration with the ring provider, trusting the system's roots and, if
/// given, the certificates in `extra_ca_pem` (rc-sim's CA).
pub fn tls_config(extra_ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, RestError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(pem) = extra_ca_pem {
        use rustls::pki_types::pem::PemObject as _;
        let ca_error = |e: String| RestError::Config(format!("the extra CA certificate: {e}"));
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_error("no certificate in the PEM text".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RestError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB).
    pub body: Bytes,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// An HTTPS client for one configuration.
#[derive(Clone)]
pub struct Https {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Https").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl Https {
    /// A client with this TLS configuration; each request (connect, TLS, answer) must finish
    /// within `timeout`.
    pub fn new(tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Https {
        Https { tls, timeout }
    }

    /// Sends one request to an absolute `https://` URL. `headers` come in addition to `Host`,
    /// `Content-Length` and `User-Agent`. Redirects are not followed.
    pub async fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Result<Response, RestError> {
        let body = body.into();
        match tokio::time::timeout(self.timeout, self.send_now(method, url, headers, body)).await {
            Ok(result) => result,
            Err(_) => Err(RestError::Network(format!("no answer within {} seconds", self.timeout.as_secs()))),
        }
    }

    async fn send_now(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Bytes) -> Result<Response, RestError> {
        let parsed = url::Url::parse(url).map_err(|e| RestError::Config(format!("bad URL {url}: {e}")))?;
        if parsed.scheme() != "https" {
            return Err(RestError::Config(format!("{url} is not an https URL")));
        }
        let host = parsed.host_str().ok_or_else(|| RestError::Config(format!("{url} has no host")))?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let name = ServerName::try_from(bare_host.to_owned()).map_err(|_| RestError::Config(format!("bad host name {host}")))?;

        let tcp = TcpStream::connect((bare_host, port)).await.map_err(|e| RestError::Network(format!("connecting to {authority}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| RestError::Network(format!("secure connection to {authority}: {e}")))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| RestError::Network(format!("{authority}: {e}")))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });

        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let method = hyper::Method::from_bytes(method.as_bytes()).map_err(|e| RestError::Config(e.to_string()))?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &authority)
            .header(hyper::header::USER_AGENT, concat!("rc-softphone/", env!("CARGO_PKG_VERSION")))
            .header(hyper::header::CONTENT_LENGTH, body.len());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body)).map_err(|e| RestError::Config(format!("building the request: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| RestError::Network(format!("{authority}: {e}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().iter().filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| RestError::Network(format!("reading the answer from {authority}: {e}")))?
            .to_bytes();
        Ok(Response { status, headers, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_ca_must_hold_a_certificate() {
        assert!(tls_config(None).is_ok());
        assert!(matches!(tls_config(Some("not a pem")), Err(RestError::Config(_))));
    }
}
