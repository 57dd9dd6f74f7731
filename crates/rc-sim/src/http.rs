//! The little HTTP/1.1 server side the admin API and the REST API share: one request per
//! connection (`Connection: close`), size caps, and a clear 4xx for anything it cannot take.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;

/// Most headers in a request.
pub const MAX_HEADERS: usize = 64;

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query (after `?`), or "".
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response { status, headers: vec![("Content-Type".into(), "application/json".into())], body: value.to_string().into_bytes() }
    }

    /// An HTML page.
    pub fn html(status: u16, page: String) -> Response {
        Response { status, headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())], body: page.into_bytes() }
    }

    /// This response with one more header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read: the status to answer and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// 400, 413, 431 or 501.
    pub status: u16,
    /// For the client.
    pub message: String,
}

impl BadRequest {
    fn new(status: u16, message: impl Into<String>) -> BadRequest {
        BadRequest { status, message: message.into() }
    }
}

/// Reads one request of at most `max_body` body bytes. `Ok(Err(_))` when the bytes are not a
/// request to take (answer it); `Err` on an IO error or a connection that closed first.
pub async fn read_request<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, max_body: usize) -> std::io::Result<Result<Request, BadRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut continued = false;
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            let why = if buf.is_empty() { "connection closed without a request" } else { "connection closed before the request ended" };
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, why));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let head_len = match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Ok(Err(BadRequest::new(431, format!("request head over {MAX_HEAD} bytes")))),
            Ok(httparse::Status::Partial) => continue,
            Err(httparse::Error::TooManyHeaders) => return Ok(Err(BadRequest::new(431, format!("more than {MAX_HEADERS} headers")))),
            Err(e) => return Ok(Err(BadRequest::new(400, format!("malformed HTTP request: {e}")))),
        };
        if head_len > MAX_HEAD {
            return Ok(Err(BadRequest::new(431, format!("request head over {MAX_HEAD} bytes"))));
        }
        let mut parsed = Request { method: req.method.unwrap_or_default().to_owned(), target: req.path.unwrap_or_default().to_owned(), ..Request::default() };
        for h in req.headers.iter() {
            let Ok(value) = std::str::from_utf8(h.value) else {
                return Ok(Err(BadRequest::new(400, format!("header {} is not UTF-8", h.name))));
            };
            parsed.headers.push((h.name.to_owned(), value.trim().to_owned()));
        }
        let length = match body_length(&parsed, max_body) {
            Ok(n) => n,
            Err(bad) => return Ok(Err(bad)),
        };
        if buf.len() < head_len + length {
            if !continued && parsed.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
                continued = true;
                stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            }
            continue;
        }
        parsed.body = buf[head_len..head_len + length].to_vec();
        return Ok(Ok(parsed));
    }
}

/// The body length a request announces: its one `Content-Length` (0 without).
fn body_length(req: &Request, max_body: usize) -> Result<usize, BadRequest> {
    if req.header("transfer-encoding").is_some() {
        return Err(BadRequest::new(501, "Transfer-Encoding is not supported: send the body with Content-Length"));
    }
    let mut lengths = req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.as_str());
    let Some(first) = lengths.next() else { return Ok(0) };
    if lengths.any(|other| other != first) {
        return Err(BadRequest::new(400, "conflicting Content-Length headers"));
    }
    let n: usize = first.parse().map_err(|_| BadRequest::new(400, format!("Content-Length {first:?} is not a number")))?;
    if n > max_body {
        return Err(BadRequest::new(413, format!("body of {n} bytes is over the {max_body} allowed")));
    }
    Ok(n)
}

/// Writes `resp` (with `Content-Length` and `Connection: close`) and closes the stream.
pub async fn write_response<S: AsyncWrite + Unpin>(stream: &mut S, resp: &Response) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", resp.body.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&resp.body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// The reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8], max_body: usize) -> Result<Request, BadRequest> {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        client.write_all(bytes).await.unwrap();
        drop(client.shutdown().await);
        match read_request(&mut server, max_body).await {
            Ok(r) => r,
            Err(e) => Err(BadRequest::new(0, e.to_string())),
        }
    }

    #[tokio::test]
    async fn requests_are_read_and_bad_ones_named() {
        let ok = parse(b"POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcdef", 10).await.unwrap();
        assert_eq!((ok.method.as_str(), ok.path(), ok.query(), ok.body.as_slice()), ("POST", "/a/b", "x=1&y=2", &b"abc"[..]));
        assert_eq!(ok.header("HOST"), Some("h"));
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 10).await.unwrap_err().status, 413);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 10).await.unwrap_err().status, 400);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 10).await.unwrap_err().status, 400);
        assert_eq!(parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 10).await.unwrap_err().status, 501);
        assert_eq!(parse(b"G\x01T / HTTP/1.1\r\n\r\n", 10).await.unwrap_err().status, 400);
        let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(parse(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes(), 10).await.unwrap_err().status, 431);
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD + 10));
        assert_eq!(parse(long.as_bytes(), 10).await.unwrap_err().status, 431);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 10).await.unwrap_err().status, 0, "a cut-off body is an IO error");
    }
}
