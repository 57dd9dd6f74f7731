//! Small typed headers: CSeq, numbers, Call-ID, Content-Type, Date, token lists, Replaces.

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::method::Method;
use crate::params::Params;
use crate::text::{is_token, is_word, split_commas, Scanner};
use std::fmt;

/// The CSeq header: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number (below 2^31).
    pub seq: u32,
    /// Method of the request it belongs to.
    pub method: Method,
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(text: &str) -> ParseResult<CSeq> {
        let mut sc = Scanner::new(text);
        sc.skip_ws();
        let at = sc.pos();
        let digits = sc.take_while(|b| b.is_ascii_digit());
        let seq = parse_number(digits, at, u64::from(i32::MAX as u32))? as u32;
        if !sc.skip_ws() || sc.is_end() {
            return Err(sc.err(ParseErrorKind::MethodMissing));
        }
        let mat = sc.pos();
        let m = sc.take_while(|b| !b.is_ascii_whitespace());
        let method = Method::parse(m).map_err(|e| e.shifted(mat))?;
        sc.finish()?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// Parses a decimal number (leading zeros allowed) not above `max`.
pub(crate) fn parse_number(digits: &str, at: usize, max: u64) -> ParseResult<u64> {
    let err = || ParseError::new(ParseErrorKind::BadNumber, at);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 19 {
        return Err(err());
    }
    let n: u64 = if significant.is_empty() { 0 } else { significant.parse().map_err(|_| err())? };
    if n > max {
        return Err(err());
    }
    Ok(n)
}

/// Parses a whole header value that is a single number not above `max`.
pub(crate) fn parse_number_value(text: &str, max: u64) -> ParseResult<u64> {
    let lead = text.len() - text.trim_start().len();
    parse_number(text.trim(), lead, max)
}

/// Checks a Call-ID: `word [ "@" word ]`.
pub(crate) fn check_call_id(text: &str) -> ParseResult<()> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ParseError::new(ParseErrorKind::EmptyValue, 0));
    }
    let mut parts = t.splitn(2, '@');
    for part in parts.by_ref() {
        if part.is_empty() {
            return Err(ParseError::new(ParseErrorKind::BadValue("word[@word]"), 0));
        }
        if let Some(i) = part.bytes().position(|b| !is_word(b)) {
            let c = part[i..].chars().next().unwrap_or('?');
            let at = part.as_ptr() as usize - t.as_ptr() as usize + i;
            return Err(ParseError::new(ParseErrorKind::UnexpectedChar(c), at));
        }
    }
    Ok(())
}

/// A media type with parameters, e.g. `application/json;charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Top-level type, e.g. `application`.
    pub kind: String,
    /// Subtype, e.g. `sdp`.
    pub subtype: String,
    /// Parameters such as `charset`.
    pub params: Params,
}

impl ContentType {
    /// Parses `type/subtype *(;param)`.
    pub fn parse(text: &str) -> ParseResult<ContentType> {
        let mut sc = Scanner::new(text);
        sc.skip_ws();
        let kind = sc.token()?.to_owned();
        if !sc.eat_sep(b'/') {
            return Err(sc.unexpected());
        }
        let subtype = sc.token()?.to_owned();
        let params = Params::parse_header(&mut sc)?;
        sc.finish()?;
        Ok(ContentType { kind, subtype, params })
    }

    /// True when the type is `mime` (`type/subtype`, case-insensitive).
    pub fn is(&self, mime: &str) -> bool {
        mime.split_once('/').is_some_and(|(k, s)| {
            k.eq_ignore_ascii_case(&self.kind) && s.eq_ignore_ascii_case(&self.subtype)
        })
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.kind, self.subtype, self.params)
    }
}

/// Parses a comma list of tokens (Supported, Require, Allow, …); an empty value is an empty list.
pub fn parse_token_list(text: &str) -> ParseResult<Vec<String>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_commas(text)?
        .into_iter()
        .map(|(at, t)| match t.bytes().position(|b| !is_token(b)) {
            None => Ok(t.to_owned()),
            Some(i) => {
                let c = t[i..].chars().next().unwrap_or('?');
                Err(ParseError::new(ParseErrorKind::UnexpectedChar(c), at + i))
            }
        })
        .collect()
}

/// Checks an RFC 1123 date in GMT: `Sat, 13 Nov 2010 23:29:00 GMT`.
pub(crate) fn check_date(text: &str) -> ParseResult<()> {
    let bad = || ParseError::new(ParseErrorKind::BadDate, 0);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (day, rest) = text.trim().split_once(", ").ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [d, mon, year, time, zone] = parts.as_slice() else {
        return Err(bad());
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time_ok = time.split(':').count() == 3 && time.split(':').all(|p| digits(p, 2));
    let ok = DAYS.contains(&day)
        && digits(d, 2)
        && MONTHS.contains(mon)
        && digits(year, 4)
        && time_ok
        && *zone == "GMT";
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The Replaces header (RFC 3891), also found escaped inside a Refer-To URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// Call-ID of the dialog to replace.
    pub call_id: String,
    /// `to-tag` of that dialog.
    pub to_tag: String,
    /// `from-tag` of that dialog.
    pub from_tag: String,
    /// True when only an early dialog may be replaced.
    pub early_only: bool,
}

impl Replaces {
    /// Parses `callid;to-tag=…;from-tag=…[;early-only]`.
    pub fn parse(text: &str) -> ParseResult<Replaces> {
        let mut sc = Scanner::new(text);
        sc.skip_ws();
        let call_id = sc.take_while(|b| b != b';' && !b.is_ascii_whitespace()).to_owned();
        check_call_id(&call_id)?;
        let params = Params::parse_header(&mut sc)?;
        sc.finish()?;
        let tag = |n: &'static str| {
            params
                .get(n)
                .map(str::to_owned)
                .ok_or(ParseError::new(ParseErrorKind::BadValue("to-tag and from-tag"), 0))
        };
        Ok(Replaces {
            to_tag: tag("to-tag")?,
            from_tag: tag("from-tag")?,
            early_only: params.has("early-only"),
            call_id,
        })
    }
}

impl fmt::Display for Replaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{};to-tag={};from-tag={}", self.call_id, self.to_tag, self.from_tag)?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_parses_and_rejects() {
        assert_eq!(CSeq::parse("0009\r\n  INVITE").unwrap(), CSeq { seq: 9, method: Method::Invite });
        let e = CSeq::parse("36893488147419103232 INVITE").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::BadNumber);
        assert_eq!(CSeq::parse("12").unwrap_err().kind, ParseErrorKind::MethodMissing);
        assert_eq!(CSeq::parse("2147483648 ACK").unwrap_err().kind, ParseErrorKind::BadNumber);
    }

    #[test]
    fn numbers_and_call_ids() {
        assert_eq!(parse_number_value(" 0068 ", 255).unwrap(), 68);
        assert!(parse_number_value("300", 255).is_err());
        assert!(parse_number_value("-5", 255).is_err());
        assert!(check_call_id("abc@192.0.2.1").is_ok());
        assert!(check_call_id("a b").is_err());
        assert!(check_call_id("@x").is_err());
    }

    #[test]
    fn content_type_and_lists() {
        let c = ContentType::parse("application/json;charset=utf-8").unwrap();
        assert!(c.is("Application/JSON"));
        assert_eq!(c.params.get("charset"), Some("utf-8"));
        assert_eq!(parse_token_list("path, gruu ,outbound").unwrap(), ["path", "gruu", "outbound"]);
        assert!(parse_token_list("").unwrap().is_empty());
        assert!(parse_token_list("a b").is_err());
    }

    #[test]
    fn dates() {
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
    }

    #[test]
    fn replaces_round_trip() {
        let r = Replaces::parse("98asjd8@x;to-tag=a;from-tag=b").unwrap();
        assert_eq!(r.to_tag, "a");
        assert_eq!(Replaces::parse(&r.to_string()).unwrap(), r);
        assert!(Replaces::parse("abc;to-tag=a").is_err());
    }
}
