//! `;name=value` parameter lists, as found after URIs and header values.

use crate::error::{ParseErrorKind, ParseResult};
use crate::text::{is_token, unquote, Scanner};
use std::borrow::Cow;
use std::fmt;

/// One parameter: a name and an optional value, both as written (a quoted value keeps its quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Parameter name.
    pub name: String,
    /// Parameter value as written, if any.
    pub value: Option<String>,
}

/// An ordered list of parameters; names compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(Vec<Param>);

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.0.iter()
    }

    /// True when a parameter called `name` is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The raw value of `name`; `None` when absent or valueless.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).and_then(|p| p.value.as_deref())
    }

    /// The value of `name` with quotes and escapes removed.
    pub fn get_unquoted(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(unquote)
    }

    /// Sets `name` to `value`, replacing an earlier value or appending.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_owned);
        match self.0.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name)) {
            Some(p) => p.value = value,
            None => self.0.push(Param { name: name.to_owned(), value }),
        }
    }

    /// Removes `name`; true if it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
        before != self.0.len()
    }

    fn find(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn push(&mut self, p: Param) {
        self.0.push(p);
    }

    /// Parses header parameters (`*( SEMI name [EQUAL value] )`) from the scanner.
    ///
    /// Whitespace is allowed around `;` and `=`. Values are tokens, hosts (including `[v6]`)
    /// or quoted strings. Stops before anything that cannot start another parameter.
    pub(crate) fn parse_header(sc: &mut Scanner<'_>) -> ParseResult<Params> {
        let mut params = Params::new();
        while sc.eat_sep(b';') {
            let name = sc.take_while(is_token);
            if name.is_empty() {
                return Err(sc.err(ParseErrorKind::BadParam));
            }
            let value = if sc.eat_sep(b'=') { Some(param_value(sc)?) } else { None };
            params.push(Param { name: name.to_owned(), value });
        }
        Ok(params)
    }
}

fn param_value(sc: &mut Scanner<'_>) -> ParseResult<String> {
    let v = match sc.peek() {
        Some(b'"') => sc.quoted()?,
        Some(b'[') => {
            let start = sc.pos();
            sc.take_while(|b| b != b']');
            sc.expect(b']')?;
            sc.since(start)
        }
        _ => sc.take_while(|b| is_token(b) || b == b':'),
    };
    if v.is_empty() {
        return Err(sc.err(ParseErrorKind::BadParam));
    }
    Ok(v.to_owned())
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            write!(f, ";{}", p.name)?;
            if let Some(v) = &p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

impl<'a> FromIterator<(&'a str, Option<&'a str>)> for Params {
    fn from_iter<I: IntoIterator<Item = (&'a str, Option<&'a str>)>>(iter: I) -> Self {
        let mut p = Params::new();
        for (n, v) in iter {
            p.set(n, v);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaced_and_quoted_params() {
        let mut sc = Scanner::new(" ;\r\n  tag = 98asjd8 ; +sip.instance=\"<urn:uuid:1>\";lr;received=[::1]");
        let p = Params::parse_header(&mut sc).unwrap();
        assert_eq!(p.get("TAG"), Some("98asjd8"));
        assert_eq!(p.get_unquoted("+sip.instance").unwrap(), "<urn:uuid:1>");
        assert!(p.has("lr") && p.get("lr").is_none());
        assert_eq!(p.get("received"), Some("[::1]"));
        assert!(sc.is_end());
    }

    #[test]
    fn empty_param_is_an_error() {
        let mut sc = Scanner::new(";;tag=1");
        assert_eq!(Params::parse_header(&mut sc).unwrap_err().kind, ParseErrorKind::BadParam);
    }

    #[test]
    fn display_writes_params() {
        let mut p = Params::new();
        p.set("tag", Some("x"));
        p.set("lr", None);
        assert_eq!(p.to_string(), ";tag=x;lr");
    }
}
