//! SIP requests and responses: parsing from bytes and serialising to bytes.

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::header::{HeaderName, Headers};
use crate::method::Method;
use crate::uri::Uri;
use std::fmt;

/// The only protocol version spoken.
pub const SIP_VERSION: &str = "SIP/2.0";

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// Headers in order.
    pub headers: Headers,
    /// The body (empty when there is none).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100 to 699.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// The body (empty when there is none).
    pub body: Vec<u8>,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: Uri) -> Self {
        Self { method, uri, headers: Headers::new(), body: Vec::new() }
    }

    /// Serialises to wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let line = format!("{} {} {SIP_VERSION}", self.method, self.uri);
        serialise(&line, &self.headers, &self.body)
    }
}

impl Response {
    /// A response with no headers and no body; the reason phrase is the standard one.
    pub fn new(status: u16) -> Self {
        Self { status, reason: reason_phrase(status).to_owned(), headers: Headers::new(), body: Vec::new() }
    }

    /// True for 1xx.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Serialises to wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let line = format!("{SIP_VERSION} {} {}", self.status, self.reason);
        serialise(&line, &self.headers, &self.body)
    }
}

/// Sets the body and its Content-Type and Content-Length headers.
pub trait WithBody {
    /// Headers and body, mutable.
    fn parts_mut(&mut self) -> (&mut Headers, &mut Vec<u8>);

    /// Replaces the body; an empty body removes Content-Type.
    fn set_body(&mut self, content_type: &str, body: impl Into<Vec<u8>>) {
        let (headers, b) = self.parts_mut();
        *b = body.into();
        if b.is_empty() {
            headers.remove(HeaderName::ContentType);
        } else {
            headers.set(HeaderName::ContentType, content_type);
        }
        headers.set(HeaderName::ContentLength, b.len().to_string());
    }
}

impl WithBody for Request {
    fn parts_mut(&mut self) -> (&mut Headers, &mut Vec<u8>) {
        (&mut self.headers, &mut self.body)
    }
}

impl WithBody for Response {
    fn parts_mut(&mut self) -> (&mut Headers, &mut Vec<u8>) {
        (&mut self.headers, &mut self.body)
    }
}

fn serialise(start_line: &str, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let size = start_line.len() + headers.iter().map(|h| h.name.len() + h.value.len() + 4).sum::<usize>();
    let mut out = Vec::with_capacity(size + body.len() + 4);
    out.extend_from_slice(start_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for h in headers.iter() {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl Message {
    /// Parses one message from a datagram or WebSocket frame.
    ///
    /// Leading blank lines are skipped. With Content-Length, the body is that many bytes and
    /// anything after it is ignored (RFC 3261 section 18.3); without it, the body is the rest of
    /// the input. Every known header is checked, as are the mandatory headers and the CSeq
    /// method, so a message that parses is safe to act on.
    pub fn parse(input: &[u8]) -> ParseResult<Message> {
        let skip = input.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let (head_end, body_start) = find_head_end(input, skip)?;
        let head = std::str::from_utf8(&input[skip..head_end]).map_err(|e| {
            ParseError::new(ParseErrorKind::InvalidUtf8, skip + e.valid_up_to())
        })?;
        let line_end = head.find('\n').unwrap_or(head.len());
        let start_line = head[..line_end].trim_end_matches('\r');
        let header_text = if line_end < head.len() { &head[line_end + 1..] } else { "" };
        let headers = Headers::parse_section(header_text, skip + line_end + 1)?;
        let body = body_of(&headers, &input[body_start.min(input.len())..])?;
        let msg = if start_line.starts_with("SIP/") {
            let (status, reason) = parse_status_line(start_line, skip)?;
            Message::Response(Response { status, reason, headers, body })
        } else {
            let (method, uri) = parse_request_line(start_line, skip)?;
            Message::Request(Request { method, uri, headers, body })
        };
        msg.validate()?;
        Ok(msg)
    }

    fn validate(&self) -> ParseResult<()> {
        self.headers().validate()?;
        if let Message::Request(r) = self {
            let cseq = r.headers.cseq()?;
            if cseq.method != r.method {
                let at = r.headers.get_header(HeaderName::CSeq).map_or(0, |h| h.offset);
                return Err(ParseError::new(ParseErrorKind::CSeqMethodMismatch, at).in_header("CSeq", 0));
            }
        }
        Ok(())
    }

    /// The headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The body of either kind.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// Serialises to wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// Finds the blank line that ends the headers: returns (end of header text, start of body).
fn find_head_end(input: &[u8], from: usize) -> ParseResult<(usize, usize)> {
    let data = &input[from..];
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\n' {
            if data.get(i + 1) == Some(&b'\n') {
                return Ok((from + i, from + i + 2));
            }
            if data.get(i + 1) == Some(&b'\r') && data.get(i + 2) == Some(&b'\n') {
                return Ok((from + i, from + i + 3));
            }
        }
        i += 1;
    }
    if data.is_empty() {
        return Err(ParseError::new(ParseErrorKind::UnexpectedEnd, from));
    }
    Err(ParseError::new(ParseErrorKind::HeadersUnterminated, input.len()))
}

fn body_of(headers: &Headers, rest: &[u8]) -> ParseResult<Vec<u8>> {
    let Some(len) = headers.content_length()? else {
        return Ok(rest.to_vec());
    };
    if rest.len() < len {
        let at = headers.get_header(HeaderName::ContentLength).map_or(0, |h| h.offset);
        let kind = ParseErrorKind::BodyTooShort { expected: len, actual: rest.len() };
        return Err(ParseError::new(kind, at).in_header("Content-Length", 0));
    }
    Ok(rest[..len].to_vec())
}

fn parse_request_line(line: &str, base: usize) -> ParseResult<(Method, Uri)> {
    let bad = |at: usize| ParseError::new(ParseErrorKind::BadStartLine, base + at);
    let mut parts = line.split(' ');
    let (Some(m), Some(u), Some(v), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad(0));
    };
    let method = Method::parse(m).map_err(|e| e.shifted(base))?;
    let uri_at = base + m.len() + 1;
    if u.is_empty() {
        return Err(bad(m.len() + 1));
    }
    let uri = Uri::parse(u).map_err(|e| e.shifted(uri_at))?;
    if uri.as_sip().is_some_and(|s| !s.headers.is_empty()) {
        let q = uri_at + u.find('?').unwrap_or(0);
        return Err(ParseError::new(ParseErrorKind::BadUri("headers are not allowed in a Request-URI"), q));
    }
    check_version(v, base + m.len() + u.len() + 2)?;
    Ok((method, uri))
}

fn parse_status_line(line: &str, base: usize) -> ParseResult<(u16, String)> {
    let (version, rest) = line.split_once(' ').ok_or(ParseError::new(ParseErrorKind::BadStartLine, base))?;
    check_version(version, base)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code_at = base + version.len() + 1;
    let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
    let status: u16 = if valid { code.parse().unwrap_or(0) } else { 0 };
    if !(100..=699).contains(&status) {
        return Err(ParseError::new(ParseErrorKind::BadStatusCode, code_at));
    }
    Ok((status, reason.to_owned()))
}

fn check_version(v: &str, at: usize) -> ParseResult<()> {
    if v.eq_ignore_ascii_case(SIP_VERSION) {
        Ok(())
    } else {
        Err(ParseError::new(ParseErrorKind::UnsupportedVersion(v.to_owned()), at))
    }
}

impl std::ops::Deref for Message {
    type Target = Headers;
    fn deref(&self) -> &Headers {
        self.headers()
    }
}

impl fmt::Display for Message {
    /// Shows the message as text (non-UTF-8 body bytes replaced).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}

/// The standard reason phrase for a status code ("" when unknown).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &[u8] = b"REGISTER sip:sip.ringcentral.com SIP/2.0\r\n\
Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK-1\r\n\
From: <sip:16502223333@sip.ringcentral.com>;tag=t1\r\n\
To: <sip:16502223333@sip.ringcentral.com>\r\n\
Call-ID: c1\r\n\
CSeq: 8 REGISTER\r\n\
Contact: <sip:x@y.invalid;transport=wss>;+sip.instance=\"<urn:uuid:1>\";expires=60\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn parses_and_round_trips_a_request() {
        let m = Message::parse(REGISTER).unwrap();
        let Message::Request(r) = &m else { panic!("not a request") };
        assert_eq!(r.method, Method::Register);
        assert_eq!(m.cseq().unwrap().seq, 8);
        assert_eq!(m.contacts().unwrap()[0].expires(), Some(60));
        assert_eq!(m.to_bytes(), REGISTER);
    }

    #[test]
    fn parses_a_response_without_reason() {
        let text = b"SIP/2.0 100 \r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
        let Message::Response(r) = Message::parse(text).unwrap() else { panic!() };
        assert_eq!((r.status, r.reason.as_str()), (100, ""));
    }

    #[test]
    fn body_follows_content_length() {
        let mut text = REGISTER.to_vec();
        let at = text.len() - 4 - 1;
        text[at] = b'3';
        text.extend_from_slice(b"abcEXTRA");
        let m = Message::parse(&text).unwrap();
        assert_eq!(m.body(), b"abc");
        let short = [&text[..text.len() - 6]].concat();
        let e = Message::parse(&short[..short.len() - 1]).unwrap_err();
        assert!(matches!(e.kind, ParseErrorKind::BodyTooShort { expected: 3, actual: 1 }), "{e}");
    }

    #[test]
    fn start_line_errors() {
        let swap = |from: &str, to: &str| String::from_utf8(REGISTER.to_vec()).unwrap().replacen(from, to, 1);
        let cases = [
            (swap("REGISTER sip", "REGISTER  sip"), ParseErrorKind::BadStartLine),
            (swap("SIP/2.0\r\n", "SIP/7.0\r\n"), ParseErrorKind::UnsupportedVersion("SIP/7.0".into())),
            (swap("8 REGISTER", "8 INVITE"), ParseErrorKind::CSeqMethodMismatch),
            (swap("Call-ID: c1\r\n", ""), ParseErrorKind::MissingHeader("Call-ID")),
        ];
        for (text, kind) in cases {
            assert_eq!(Message::parse(text.as_bytes()).unwrap_err().kind, kind, "{text}");
        }
        assert!(Message::parse(b"SIP/2.0 4294967301 Huge\r\n\r\n").is_err());
        assert_eq!(Message::parse(b"").unwrap_err().kind, ParseErrorKind::UnexpectedEnd);
        assert_eq!(Message::parse(b"INVITE sip:a SIP/2.0\r\nVia: x").unwrap_err().kind, ParseErrorKind::HeadersUnterminated);
    }

    #[test]
    fn invalid_utf8_is_reported_with_offset() {
        let mut text = REGISTER.to_vec();
        text[50] = 0xff;
        let e = Message::parse(&text).unwrap_err();
        assert_eq!((e.kind, e.at), (ParseErrorKind::InvalidUtf8, 50));
    }

    #[test]
    fn set_body_updates_length_and_type() {
        let Message::Request(mut r) = Message::parse(REGISTER).unwrap() else { panic!() };
        r.set_body("application/sdp", "v=0\r\n");
        assert_eq!(r.headers.content_length().unwrap(), Some(5));
        assert!(r.headers.content_type().unwrap().unwrap().is("application/sdp"));
        let again = Message::parse(&r.to_bytes()).unwrap();
        assert_eq!(again, Message::Request(r));
    }
}
