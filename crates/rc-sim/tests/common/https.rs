//! A minimal HTTPS/1.1 client for rc-sim's REST API: one request per connection, trusting
//! only rc-sim's CA.

use rc_sim::Handle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics naming the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method target` with `headers` and `body` to rc-sim's REST listener.
pub async fn request(sim: &Handle, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let tcp = TcpStream::connect(sim.rest).await.expect("the REST listener accepts");
    let connector = tokio_rustls::TlsConnector::from(rc_sim::tls::client_config(&sim.ca_pem).unwrap());
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS with rc-sim's CA");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n", sim.rest, body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body).await.unwrap();
    tls.flush().await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), tls.read_to_end(&mut raw)).await.expect("an answer within 10 s").expect("a clean close");
    parse_response(&raw)
}

/// Parses a whole HTTP/1.1 response (`Content-Length` bodies).
pub fn parse_response(raw: &[u8]) -> HttpResponse {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("not an HTTP response ({other:?}): {}", String::from_utf8_lossy(raw)),
    };
    let headers: Vec<(String, String)> = resp.headers.iter().map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned())).collect();
    let length = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.parse::<usize>().unwrap()).unwrap_or(0);
    assert_eq!(raw.len() - head, length, "the body is Content-Length long");
    HttpResponse { status: resp.code.unwrap(), headers, body: raw[head..].to_vec() }
}

/// A form-encoded body.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

/// `POST` of a form.
pub async fn post_form(sim: &Handle, path: &str, extra: &[(&str, &str)], pairs: &[(&str, &str)]) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend_from_slice(extra);
    request(sim, "POST", path, &headers, &form(pairs)).await
}

/// HTTP Basic credentials of the confidential demo app.
pub fn demo_basic() -> String {
    use base64::Engine;
    let creds = format!("{}:{}", rc_sim::config::OAuthSettings::DEMO_CONFIDENTIAL_CLIENT, rc_sim::config::OAuthSettings::DEMO_SECRET);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(creds))
}

/// Signs extension `index` in with its JWT (the confidential demo app); the token answer.
pub async fn jwt_sign_in(sim: &Handle, index: usize) -> serde_json::Value {
    let jwt = sim.config().extensions[index].jwt.clone().expect("the extension has a JWT");
    let basic = demo_basic();
    let resp = post_form(sim, "/restapi/oauth/token", &[("Authorization", &basic)], &[("grant_type", rc_sim::oauth::JWT_GRANT), ("assertion", &jwt)]).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

/// An API call with a bearer token and a JSON body (none when empty).
pub async fn api(sim: &Handle, method: &str, path: &str, token: &str, json: &str) -> HttpResponse {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("Authorization", bearer.as_str()), ("Accept", "application/json")];
    if !json.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    request(sim, method, path, &headers, json.as_bytes()).await
}
