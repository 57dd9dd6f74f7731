//! The sign-in page reaches the system's browser whole, `&` and all. A stand-in browser records
//! the address it was given. On Linux and the BSDs this test puts it first in PATH as
//! `xdg-open`. Under Wine (`scripts/windows --test`), Windows' URL handler hands the address to
//! the host's `xdg-open`, which that script replaces with the stand-in, naming its record file
//! in `BROWSER_RECORD`.

#[path = "../../webphone/tests/common/poll.rs"]
mod poll;

use poll::Poll;
use std::path::PathBuf;
use std::time::Duration;

const AUTHORIZE: &str = "https://platform.ringcentral.com/restapi/oauth/authorize?response_type=code&client_id=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2F&state=x%26y&code_challenge=z";

/// Where the stand-in browser writes the address it was given.
#[cfg(unix)]
fn stand_in_browser() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("rc-rest-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("opened");
    let script = format!("#!/bin/sh\n[ $# -ge 1 ] || exit 1\nprintf '%s' \"$1\" > '{0}.part' && mv '{0}.part' '{0}'\n", record.display());
    let opener = dir.join("xdg-open");
    std::fs::write(&opener, script).unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir];
    dirs.extend(std::env::split_paths(&path));
    // The only test in this process: nothing else reads the environment meanwhile.
    std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());
    record
}

/// Where the stand-in browser of `scripts/windows --test` writes the address it was given.
#[cfg(windows)]
fn stand_in_browser() -> PathBuf {
    PathBuf::from(std::env::var_os("BROWSER_RECORD").expect("BROWSER_RECORD names the stand-in browser's record (scripts/windows --test)"))
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "the open crate calls /usr/bin/open by its full path: no stand-in can take its place")]
#[cfg_attr(windows, ignore = "needs the stand-in browser of scripts/windows --test")]
fn the_authorize_url_reaches_the_browser_whole() {
    let record = stand_in_browser();
    let _ = std::fs::remove_file(&record);
    rc_rest::open_in_browser(AUTHORIZE).unwrap();
    // The stand-in runs as a program of its own and only leaves its record: look for it (see
    // `poll.rs`).
    let mut poll = Poll::new("the stand-in browser's record").within(Duration::from_secs(30));
    let opened = loop {
        match std::fs::read_to_string(&record) {
            Ok(text) => break text,
            Err(_) => poll.again_blocking(),
        }
    };
    assert_eq!(opened, AUTHORIZE);
}
