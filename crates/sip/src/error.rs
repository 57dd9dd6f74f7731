//! Typed errors: what was wrong, in which header, and at which byte.

use std::fmt;

/// Why a message, header or URI could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input ended before the element was complete.
    UnexpectedEnd,
    /// The message has no blank line ending its headers.
    HeadersUnterminated,
    /// A byte sequence is not valid UTF-8.
    InvalidUtf8,
    /// A character is not allowed here.
    UnexpectedChar(char),
    /// The start line is not `METHOD SP URI SP SIP/2.0` nor `SIP/2.0 SP CODE SP reason`.
    BadStartLine,
    /// The SIP version is not `SIP/2.0`.
    UnsupportedVersion(String),
    /// The status code is not three digits between 100 and 699.
    BadStatusCode,
    /// A method is missing.
    MethodMissing,
    /// A method contains characters outside `token`.
    BadMethod,
    /// A header line has no colon.
    MissingColon,
    /// A header name is empty or contains characters outside `token`.
    BadHeaderName,
    /// A number is missing, not a number, or out of range.
    BadNumber,
    /// A quoted string has no closing quote.
    UnterminatedQuote,
    /// A `<` has no matching `>`.
    UnterminatedAngle,
    /// A URI is malformed; the text says how.
    BadUri(&'static str),
    /// A host name or address is malformed.
    BadHost,
    /// A parameter is empty or malformed.
    BadParam,
    /// A `%` is not followed by two hex digits.
    BadEscape,
    /// A header value is empty where one is required.
    EmptyValue,
    /// Extra characters follow a complete value.
    TrailingGarbage,
    /// A header the message must carry is absent.
    MissingHeader(&'static str),
    /// A header that may appear once appears more than once.
    RepeatedHeader(&'static str),
    /// The CSeq method differs from the request method.
    CSeqMethodMismatch,
    /// Content-Length says more bytes than the message carries.
    BodyTooShort {
        /// Length announced by Content-Length.
        expected: usize,
        /// Bytes actually present after the headers.
        actual: usize,
    },
    /// The Via protocol is not `SIP/2.0/transport`.
    BadViaProtocol,
    /// A date is not an RFC 1123 date in GMT.
    BadDate,
    /// The value does not have the shape this header needs.
    BadValue(&'static str),
    /// The message is larger than the receiver takes (RFC 3261 21.5.11: 513).
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The largest size taken.
        limit: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match self {
            UnexpectedEnd => f.write_str("unexpected end of input"),
            HeadersUnterminated => f.write_str("headers not ended by an empty line"),
            InvalidUtf8 => f.write_str("invalid UTF-8"),
            UnexpectedChar(c) => write!(f, "unexpected character {c:?}"),
            BadStartLine => f.write_str("malformed start line"),
            UnsupportedVersion(v) => write!(f, "unsupported version {v:?}"),
            BadStatusCode => f.write_str("status code must be three digits 100-699"),
            MethodMissing => f.write_str("method missing"),
            BadMethod => f.write_str("method is not a token"),
            MissingColon => f.write_str("header line without colon"),
            BadHeaderName => f.write_str("header name is not a token"),
            BadNumber => f.write_str("number missing or out of range"),
            UnterminatedQuote => f.write_str("quoted string not closed"),
            UnterminatedAngle => f.write_str("'<' not closed by '>'"),
            BadUri(why) => write!(f, "malformed URI: {why}"),
            BadHost => f.write_str("malformed host"),
            BadParam => f.write_str("empty or malformed parameter"),
            BadEscape => f.write_str("'%' not followed by two hex digits"),
            EmptyValue => f.write_str("empty value"),
            TrailingGarbage => f.write_str("unexpected characters after the value"),
            MissingHeader(h) => write!(f, "mandatory header {h} missing"),
            RepeatedHeader(h) => write!(f, "header {h} may appear only once"),
            CSeqMethodMismatch => f.write_str("CSeq method differs from the request method"),
            BodyTooShort { expected, actual } => write!(
                f,
                "Content-Length is {expected} but only {actual} body bytes are present"
            ),
            BadViaProtocol => f.write_str("protocol must be SIP/2.0/<transport>"),
            BadDate => f.write_str("not an RFC 1123 date in GMT"),
            BadValue(what) => write!(f, "expected {what}"),
            TooLarge { size, limit } => write!(f, "message of {size} bytes is larger than {limit}"),
        }
    }
}

/// A parse failure: its kind, the header it happened in (if any) and the byte offset.
///
/// Offsets count from the start of the message when the error comes from
/// [`Message::parse`](crate::Message::parse) or a message accessor, and from the start of
/// the parsed text otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Byte offset where it was found.
    pub at: usize,
    /// The header being parsed, in its canonical spelling.
    pub header: Option<String>,
}

impl ParseError {
    /// An error of `kind` at byte `at`, outside any header.
    pub fn new(kind: ParseErrorKind, at: usize) -> Self {
        Self { kind, at, header: None }
    }

    /// The same error, attributed to `header` and moved by `offset` bytes.
    pub fn in_header(mut self, header: &str, offset: usize) -> Self {
        self.at += offset;
        if self.header.is_none() {
            self.header = Some(header.to_owned());
        }
        self
    }

    /// The same error, moved by `offset` bytes.
    pub fn shifted(mut self, offset: usize) -> Self {
        self.at += offset;
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(h) = &self.header {
            write!(f, "header {h}: ")?;
        }
        write!(f, "{} at byte {}", self.kind, self.at)
    }
}

/// Shorthand for results of parsing.
pub type ParseResult<T> = Result<T, ParseError>;
