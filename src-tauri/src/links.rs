//! `tel:` and `callto:` links: the system hands them to the app as a command-line argument
//! (Linux, Windows) or an open-URL event (macOS, through the deep-link plugin); either way
//! the number lands in the dial field of the one running window.

use crate::number;

/// The number a `tel:` or `callto:` link asks to call, made dialable; `None` for anything
/// else (other arguments, other schemes, a link without a number).
///
/// Handles `tel:+1-650-555-0101`, `tel:101;phone-context=example.com`, `callto:+16505550101`,
/// `callto://+16505550101`, and percent-escapes such as `tel:%2B1%20650…`.
pub fn number_in(link: &str) -> Option<String> {
    let link = link.trim();
    let scheme_end = link.find(':')?;
    let (scheme, rest) = (&link[..scheme_end], &link[scheme_end + 1..]);
    if !(scheme.eq_ignore_ascii_case("tel") || scheme.eq_ignore_ascii_case("callto")) {
        return None;
    }
    let rest = rest.trim_start_matches('/');
    // Parameters (`;phone-context=…`), a query or a fragment are not part of the number.
    let end = rest.find([';', '?', '#']).unwrap_or(rest.len());
    let decoded = percent_decode(&rest[..end])?;
    number::normalise(&decoded)
}

/// The first dialable link among command-line arguments.
pub fn number_in_args<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> Option<String> {
    args.into_iter().find_map(|a| number_in(a.as_ref()))
}

/// `text` with `%XX` escapes decoded; `None` when an escape is broken or not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// True when `exe` is where a system package puts programs (`/usr/…`, `/opt/…`): the
/// package's desktop entry then declares the tel: and callto: schemes.
pub fn installed_by_a_package(exe: &std::path::Path) -> bool {
    cfg!(target_os = "linux") && (exe.starts_with("/usr/") || exe.starts_with("/opt/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tel_and_callto_links_give_their_number() {
        assert_eq!(number_in("tel:+1-650-555-0101").as_deref(), Some("+16505550101"));
        assert_eq!(number_in("TEL:600").as_deref(), Some("600"));
        assert_eq!(number_in("tel:101;phone-context=example.com").as_deref(), Some("101"));
        assert_eq!(number_in("callto:+16505550101").as_deref(), Some("+16505550101"));
        assert_eq!(number_in("callto://+1%20650%20555%200102").as_deref(), Some("+16505550102"));
        assert_eq!(number_in("tel:%2B16505550103?call").as_deref(), Some("+16505550103"));
        assert_eq!(number_in("tel:*801").as_deref(), Some("*801"));
    }

    #[test]
    fn other_arguments_are_not_links() {
        for other in ["", "--verbose", "/usr/bin/softphone", "http://example.com/600", "tel:", "tel:abc", "tel:%zz1", "callto://", "mailto:600"] {
            assert_eq!(number_in(other), None, "{other:?}");
        }
        assert_eq!(number_in_args(["/usr/bin/softphone", "--x", "callto:601"]).as_deref(), Some("601"));
        assert_eq!(number_in_args(Vec::<String>::new()), None);
    }

    #[test]
    fn an_app_in_a_system_location_is_a_packages() {
        use std::path::Path;
        assert_eq!(installed_by_a_package(Path::new("/usr/bin/softphone")), cfg!(target_os = "linux"));
        assert!(!installed_by_a_package(Path::new("/home/me/src/softphone/target/release/softphone")));
        assert!(!installed_by_a_package(Path::new("/tmp/.mount_rc-softphone/usr/bin/softphone")), "an AppImage mounts elsewhere");
    }
}
