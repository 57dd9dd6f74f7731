//! The Windows build of the command-line phone, run under Wine against rc-sim running natively
//! on 127.0.0.1: it registers over WSS, dials the echo bot with a tone, records what comes back,
//! and the recording holds the tone. `scripts/windows --test` builds the .exe and runs this
//! test with `SOFTPHONE_CLI_WINDOWS_EXE` pointing at it (and its Wine prefix in `WINEPREFIX`).

mod common;

use std::path::Path;
use std::process::Command;

/// A Linux path as Wine's programs see it: drive Z: is the root of the Linux file system.
fn wine_path(path: &Path) -> String {
    format!("Z:{}", path.to_str().expect("a UTF-8 path").replace('/', "\\"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Windows build and Wine: run by scripts/windows --test"]
async fn the_windows_build_under_wine_hears_the_echo_bots_tone() {
    let exe = std::env::var("SOFTPHONE_CLI_WINDOWS_EXE").expect("SOFTPHONE_CLI_WINDOWS_EXE names softphone-cli.exe");
    let wine = std::env::var("WINE").unwrap_or_else(|_| "wine64".into());
    let sim = common::Sim::start("softphone-cli-wine").await;
    let mut program = Command::new(wine);
    program.arg(exe);
    common::dial_echo_bot_and_hear_the_tone(&sim, program, wine_path).await;
}

#[test]
fn linux_paths_become_paths_on_wines_drive_z() {
    assert_eq!(wine_path(Path::new("/tmp/cli-1/heard.wav")), r"Z:\tmp\cli-1\heard.wav");
}
