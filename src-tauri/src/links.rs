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

/// The desktop entry file this app writes to handle links when no package declared them (the
/// name the deep-link plugin used, so an entry it wrote before is replaced).
pub const HANDLER_ENTRY: &str = "softphone-handler.desktop";

/// The MIME types of the links the phone takes.
pub const LINK_MIME_TYPES: [&str; 2] = ["x-scheme-handler/tel", "x-scheme-handler/callto"];

/// `program` as the first word of a desktop entry's `Exec` key: quoted only when the Desktop
/// Entry Specification requires it (a reserved character in the path), `%` doubled, and a
/// backslash written twice for the key's own string escaping. A bare path is what xdg-open's
/// generic mode can run; it cannot run a quoted one. `None` for a path with a line break or
/// one that is not UTF-8, which no entry can name.
pub fn desktop_exec_program(program: &std::path::Path) -> Option<String> {
    let path = program.to_str().filter(|p| !p.contains(['\n', '\r']))?;
    let path = path.replace('%', "%%");
    let reserved = |c: char| " \t\"'\\><~|&;$*?#()`".contains(c);
    let word = if path.contains(reserved) {
        let mut quoted = String::from("\"");
        for c in path.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        quoted
    } else {
        path
    };
    Some(word.replace('\\', "\\\\"))
}

/// The desktop entry that hands `tel:` and `callto:` links to `exec_program` (see
/// [`desktop_exec_program`]); hidden from menus.
pub fn handler_entry(exec_program: &str) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=RC Softphone\nExec={exec_program} %u\nTerminal=false\nNoDisplay=true\nMimeType={};\n",
        LINK_MIME_TYPES.join(";")
    )
}

/// Makes `program` this user's handler of `tel:` and `callto:` links: writes [`HANDLER_ENTRY`]
/// into `applications` (the user's `~/.local/share/applications`), refreshes the MIME cache
/// where `update-desktop-database` exists, and makes it the default with `xdg-mime`.
#[cfg(target_os = "linux")]
pub fn register_handler(program: &std::path::Path, applications: &std::path::Path) -> Result<(), String> {
    use std::process::Command;
    let exec = desktop_exec_program(program).ok_or_else(|| format!("{} cannot be named in a desktop entry", program.display()))?;
    std::fs::create_dir_all(applications).map_err(|e| format!("cannot create {}: {e}", applications.display()))?;
    let entry = applications.join(HANDLER_ENTRY);
    std::fs::write(&entry, handler_entry(&exec)).map_err(|e| format!("cannot write {}: {e}", entry.display()))?;
    match Command::new("update-desktop-database").arg(applications).status() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("update-desktop-database: {e}")),
        Ok(status) if !status.success() => return Err(format!("update-desktop-database: {status}")),
        Ok(_) => {}
    }
    let status = Command::new("xdg-mime").arg("default").arg(HANDLER_ENTRY).args(LINK_MIME_TYPES).status().map_err(|e| format!("xdg-mime: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("xdg-mime default: {status}"))
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

    #[test]
    fn a_desktop_entry_names_the_program_bare_when_it_can_and_quoted_when_it_must() {
        use std::path::Path;
        assert_eq!(desktop_exec_program(Path::new("/home/me/Apps/rc-softphone_0.1.0_amd64.AppImage")).as_deref(), Some("/home/me/Apps/rc-softphone_0.1.0_amd64.AppImage"));
        assert_eq!(desktop_exec_program(Path::new("/home/me/My Apps/phone")).as_deref(), Some(r#""/home/me/My Apps/phone""#));
        assert_eq!(desktop_exec_program(Path::new("/opt/a$b/100%")).as_deref(), Some(r#""/opt/a\\$b/100%%""#), "$ escaped inside quotes, and the backslash doubled for the key");
        assert_eq!(desktop_exec_program(Path::new("/tmp/line\nbreak")), None);
        let entry = handler_entry("/home/me/phone");
        assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
        assert!(entry.contains("\nExec=/home/me/phone %u\n"), "{entry}");
        assert!(entry.contains("\nMimeType=x-scheme-handler/tel;x-scheme-handler/callto;\n"), "{entry}");
    }
}
