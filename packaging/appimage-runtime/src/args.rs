//! The command line (sans-IO): the runtime's own `--appimage-…` options, or the app's
//! arguments.
//!
//! As with the reference runtime, only the first argument can be a runtime option; every
//! other argument, and a first one that is not `--appimage-…`, goes to the app unchanged.

use std::ffi::OsString;

/// What the runtime was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the app's `AppRun` with these arguments.
    Run {
        /// Where the image is extracted to first.
        extraction: Extraction,
        /// The arguments for `AppRun` (the app).
        args: Vec<OsString>,
    },
    /// `--appimage-extract`: write the image's files to `./squashfs-root`.
    Extract,
    /// `--appimage-offset`: print where the image starts in the file.
    Offset,
    /// `--appimage-help`.
    Help,
    /// `--appimage-version`.
    Version,
}

/// Where the image is extracted to before the app starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extraction {
    /// The default: a private per-user cache directory named after the image's content,
    /// kept and reused by the next start of the same image.
    Cached,
    /// `--appimage-extract-and-run` (or `APPIMAGE_EXTRACT_AND_RUN=1`): a new temporary
    /// directory, removed when the app exits.
    Temporary,
}

/// A command line the runtime refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A reference-runtime option that this runtime does not implement.
    #[error("{0} is not supported by this runtime (it never mounts the image with FUSE and has no update or signature information); see --appimage-help")]
    Unsupported(String),
    /// An `--appimage-…` option that no runtime knows.
    #[error("unknown runtime option {0}; see --appimage-help")]
    Unknown(String),
    /// An option that takes no argument was given one (e.g. a pattern after
    /// `--appimage-extract`).
    #[error("{0} takes no argument here (extracting by pattern is not supported)")]
    UnexpectedArgument(String),
}

/// The options of the reference runtime that this one leaves out.
const UNSUPPORTED: &[&str] = &[
    "--appimage-mount",
    "--appimage-portable-home",
    "--appimage-portable-config",
    "--appimage-updateinformation",
    "--appimage-updateinfo",
    "--appimage-signature",
];

/// The help text of `--appimage-help`.
pub const HELP: &str = "\
This AppImage's runtime extracts the image and runs it; it never mounts it with FUSE.

  (no runtime option)          extract into a private cache (reused while the image is the
                               same: $XDG_CACHE_HOME/appimage-runtime/) and run the app
  --appimage-extract-and-run   extract into a new temporary directory, run the app, remove it
                               (also APPIMAGE_EXTRACT_AND_RUN=1; NO_CLEANUP=1 keeps it)
  --appimage-extract           extract the image into ./squashfs-root
  --appimage-offset            print the byte offset of the squashfs image
  --appimage-version           print the runtime's version
  --appimage-help              print this help

Any other arguments go to the app. TARGET_APPIMAGE=<file> takes the image from that
AppImage instead of this one.
";

/// Reads the command line `args` (without `argv[0]`). `extract_and_run` is whether
/// `APPIMAGE_EXTRACT_AND_RUN` asks for a temporary extraction.
pub fn parse(args: impl IntoIterator<Item = OsString>, extract_and_run: bool) -> Result<Command, ArgsError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let default = if extract_and_run { Extraction::Temporary } else { Extraction::Cached };
    let Some(first) = args.first().and_then(|a| a.to_str()).filter(|a| a.starts_with("--appimage-")) else {
        return Ok(Command::Run { extraction: default, args });
    };
    let first = first.to_owned();
    let alone = |command: Command| {
        if args.len() > 1 {
            Err(ArgsError::UnexpectedArgument(first.clone()))
        } else {
            Ok(command)
        }
    };
    match first.as_str() {
        "--appimage-extract-and-run" => {
            args.remove(0);
            Ok(Command::Run { extraction: Extraction::Temporary, args })
        }
        "--appimage-extract" => alone(Command::Extract),
        "--appimage-offset" => alone(Command::Offset),
        "--appimage-help" => alone(Command::Help),
        "--appimage-version" => alone(Command::Version),
        other if UNSUPPORTED.contains(&other) => Err(ArgsError::Unsupported(first)),
        _ => Err(ArgsError::Unknown(first)),
    }
}

/// Whether an environment variable's value counts as "on" (`APPIMAGE_EXTRACT_AND_RUN`,
/// `NO_CLEANUP`): set and neither empty nor `0`.
pub fn is_on(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_apps_arguments_pass_through() {
        assert_eq!(parse(args(&["tel:600", "--verbose"]), false), Ok(Command::Run { extraction: Extraction::Cached, args: args(&["tel:600", "--verbose"]) }));
        assert_eq!(parse(args(&[]), false), Ok(Command::Run { extraction: Extraction::Cached, args: vec![] }));
        // Only the first argument can be the runtime's.
        assert_eq!(parse(args(&["x", "--appimage-extract"]), false), Ok(Command::Run { extraction: Extraction::Cached, args: args(&["x", "--appimage-extract"]) }));
    }

    #[test]
    fn extract_and_run_by_option_or_environment() {
        assert_eq!(parse(args(&["--appimage-extract-and-run", "tel:600"]), false), Ok(Command::Run { extraction: Extraction::Temporary, args: args(&["tel:600"]) }));
        assert_eq!(parse(args(&["tel:600"]), true), Ok(Command::Run { extraction: Extraction::Temporary, args: args(&["tel:600"]) }));
    }

    #[test]
    fn runtime_options() {
        assert_eq!(parse(args(&["--appimage-extract"]), false), Ok(Command::Extract));
        assert_eq!(parse(args(&["--appimage-offset"]), true), Ok(Command::Offset));
        assert_eq!(parse(args(&["--appimage-help"]), false), Ok(Command::Help));
        assert_eq!(parse(args(&["--appimage-version"]), false), Ok(Command::Version));
        assert_eq!(parse(args(&["--appimage-extract", "usr/*"]), false), Err(ArgsError::UnexpectedArgument("--appimage-extract".into())));
        assert_eq!(parse(args(&["--appimage-mount"]), false), Err(ArgsError::Unsupported("--appimage-mount".into())));
        assert_eq!(parse(args(&["--appimage-frobnicate"]), false), Err(ArgsError::Unknown("--appimage-frobnicate".into())));
    }

    #[test]
    fn arguments_that_are_not_utf8_pass_through() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![0xff, b'x']);
        assert_eq!(parse(vec![odd.clone()], false), Ok(Command::Run { extraction: Extraction::Cached, args: vec![odd] }));
    }

    #[test]
    fn environment_switches() {
        assert!(is_on(Some("1".as_ref())));
        assert!(is_on(Some("yes".as_ref())));
        assert!(!is_on(Some("0".as_ref())));
        assert!(!is_on(Some("".as_ref())));
        assert!(!is_on(None));
    }
}
