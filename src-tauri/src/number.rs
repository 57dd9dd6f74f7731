//! Phone numbers as people paste them, made dialable.

/// `text` as a dialable number: digits with an optional leading `+`, `*` and `#` kept (park
/// retrieval `*801`, feature codes), spaces, dots, dashes and brackets dropped; a `tel:` or
/// `sip:` prefix and a `@domain` suffix removed; `conf_…` numbers and short extensions as
/// they are. `None` when nothing dialable is left or a letter remains.
pub fn normalise(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix("tel:").or_else(|| t.strip_prefix("sip:")).unwrap_or(t);
    let t = t.split('@').next().unwrap_or_default().trim();
    if let Some(rest) = t.strip_prefix("conf_") {
        return (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())).then(|| t.to_owned());
    }
    let mut out = String::with_capacity(t.len());
    for (i, c) in t.chars().enumerate() {
        match c {
            '0'..='9' | '*' | '#' => out.push(c),
            '+' if i == 0 => out.push(c),
            ' ' | '.' | '-' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let has_digit = out.chars().any(|c| c.is_ascii_digit());
    has_digit.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn common_formats_become_dialable() {
        assert_eq!(normalise("+1 (650) 555-0102").as_deref(), Some("+16505550102"));
        assert_eq!(normalise(" 650.555.0102 ").as_deref(), Some("6505550102"));
        assert_eq!(normalise("tel:+1-650-555-0102").as_deref(), Some("+16505550102"));
        assert_eq!(normalise("sip:102@sip.ringcentral.com").as_deref(), Some("102"));
        assert_eq!(normalise("*801").as_deref(), Some("*801"));
        assert_eq!(normalise("conf_4242").as_deref(), Some("conf_4242"));
        assert_eq!(normalise("600").as_deref(), Some("600"));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["", "   ", "call me", "12a4", "++1", "1+2", "conf_", "()-"] {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
    }
}
