//! Character classes of RFC 3261 section 25 and a small scanner used by every parser here.

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use std::borrow::Cow;

/// `token` characters (RFC 3261 section 25.1).
pub fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// `unreserved` characters: alphanumerics and marks.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// `word` characters, used by Call-ID.
pub fn is_word(b: u8) -> bool {
    is_token(b) || b"()<>:\\\"/[]?{}".contains(&b)
}

/// True when `s` is a non-empty `token`.
pub fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Removes the quotes and backslash escapes of a `quoted-string`; other text is returned as is.
pub fn unquote(s: &str) -> Cow<'_, str> {
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return Cow::Borrowed(s);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Wraps `s` in quotes, escaping `"` and `\`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Percent-encodes every byte of `s` for which `allowed` is false.
pub fn escape(s: &str, allowed: fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if allowed(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; invalid UTF-8 in the result is replaced (U+FFFD).
pub fn unescape(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Checks that every byte is allowed by `class` or is part of a valid `%XX` escape.
pub fn check_escaped(s: &str, class: fn(u8) -> bool) -> ParseResult<()> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex_at = |j: usize| bytes.get(j).copied().and_then(hex_val).is_some();
            if !(hex_at(i + 1) && hex_at(i + 2)) {
                return Err(ParseError::new(ParseErrorKind::BadEscape, i));
            }
            i += 3;
        } else if class(b) {
            i += 1;
        } else {
            let c = s[i..].chars().next().unwrap_or('?');
            return Err(ParseError::new(ParseErrorKind::UnexpectedChar(c), i));
        }
    }
    Ok(())
}

/// A cursor over a header value or start line, with positions in bytes.
#[derive(Debug, Clone)]
pub struct Scanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `s`.
    pub fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves back to an earlier offset.
    pub fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The text not yet consumed.
    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    /// The text between `start` and the current position.
    pub fn since(&self, start: usize) -> &'a str {
        &self.s[start..self.pos]
    }

    /// True when everything is consumed.
    pub fn is_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The next byte, if any.
    pub fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// An error of `kind` at the current position.
    pub fn err(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.pos)
    }

    /// An "unexpected character" (or "unexpected end") error at the current position.
    pub fn unexpected(&self) -> ParseError {
        match self.rest().chars().next() {
            Some(c) => self.err(ParseErrorKind::UnexpectedChar(c)),
            None => self.err(ParseErrorKind::UnexpectedEnd),
        }
    }

    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `b` or fails.
    pub fn expect(&mut self, b: u8) -> ParseResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// Skips spaces, tabs and line folds; true if anything was skipped.
    pub fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.pos > start
    }

    /// Consumes the longest run of bytes matching `pred`.
    pub fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len() && pred(bytes[self.pos]) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// Consumes a non-empty `token`.
    pub fn token(&mut self) -> ParseResult<&'a str> {
        let t = self.take_while(is_token);
        if t.is_empty() {
            Err(self.unexpected())
        } else {
            Ok(t)
        }
    }

    /// Consumes a `quoted-string` and returns it with its quotes.
    pub fn quoted(&mut self) -> ParseResult<&'a str> {
        let start = self.pos;
        self.expect(b'"')?;
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(&self.s[start..self.pos]);
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        self.pos = self.s.len();
        Err(ParseError::new(ParseErrorKind::UnterminatedQuote, start))
    }

    /// Skips whitespace, consumes `b`, skips whitespace; false (and nothing consumed) if `b` is not there.
    pub fn eat_sep(&mut self, b: u8) -> bool {
        let start = self.pos;
        self.skip_ws();
        if self.eat(b) {
            self.skip_ws();
            true
        } else {
            self.pos = start;
            false
        }
    }

    /// Fails unless only whitespace remains.
    pub fn finish(&mut self) -> ParseResult<()> {
        self.skip_ws();
        if self.is_end() {
            Ok(())
        } else {
            Err(self.err(ParseErrorKind::TrailingGarbage))
        }
    }
}

/// Splits a header value at commas that are outside quotes and angle brackets.
///
/// Returns each element trimmed, with its byte offset in `value`. An empty element is an error.
pub fn split_commas(value: &str) -> ParseResult<Vec<(usize, &str)>> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    let (mut in_quote, mut in_angle) = (false, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'<' if !in_quote => in_angle = true,
            b'>' if !in_quote => in_angle = false,
            b',' if !in_quote && !in_angle => {
                out.push(trimmed(value, start, i)?);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(trimmed(value, start, bytes.len())?);
    Ok(out)
}

fn trimmed(value: &str, start: usize, end: usize) -> ParseResult<(usize, &str)> {
    let part = &value[start..end];
    let lead = part.len() - part.trim_start().len();
    let t = part.trim();
    if t.is_empty() {
        return Err(ParseError::new(ParseErrorKind::EmptyValue, start));
    }
    Ok((start + lead, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_handles_escapes() {
        assert_eq!(unquote(r#""a \"b\" \\c""#), r#"a "b" \c"#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(quote(r#"a"b"#), r#""a\"b""#);
    }

    #[test]
    fn escape_round_trips() {
        let e = escape("a b#c", is_unreserved);
        assert_eq!(e, "a%20b%23c");
        assert_eq!(unescape(&e), "a b#c");
        assert_eq!(unescape("%Z1"), "%Z1");
        assert_eq!(unescape("%4"), "%4");
    }

    #[test]
    fn check_escaped_rejects_bad_percent() {
        assert!(check_escaped("ab%41", is_unreserved).is_ok());
        assert_eq!(check_escaped("ab%4", is_unreserved).unwrap_err().at, 2);
        assert_eq!(check_escaped("ab%", is_unreserved).unwrap_err().at, 2);
        assert!(check_escaped("a b", is_unreserved).is_err());
    }

    #[test]
    fn split_commas_respects_quotes_and_angles() {
        let parts = split_commas(r#""a,b" <sip:x;p=1,2>, <sip:y> "#).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], (21, "<sip:y>"));
        assert!(split_commas("a,,b").is_err());
    }

    #[test]
    fn scanner_quoted_unterminated() {
        let mut s = Scanner::new("\"abc");
        assert_eq!(s.quoted().unwrap_err().kind, ParseErrorKind::UnterminatedQuote);
    }
}
