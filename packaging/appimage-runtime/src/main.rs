//! The runtime's entry point (see the library's documentation): reads the command line, finds
//! the image in its own file (or in `TARGET_APPIMAGE`), extracts it and runs `AppRun`.

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use appimage_runtime::args::{self, Command, Extraction};
use appimage_runtime::image::AppImage;
use appimage_runtime::launch::{self, AppEnv};
use appimage_runtime::{cache, Error};

/// The exit code when the runtime itself fails; the app's own codes pass through.
const FAILED: u8 = 127;

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("appimage-runtime: {e}");
            ExitCode::from(FAILED)
        }
    }
}

fn run() -> Result<u8, Error> {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let command = args::parse(argv, args::is_on(std::env::var_os("APPIMAGE_EXTRACT_AND_RUN").as_deref()))?;
    match command {
        Command::Help => {
            print!("{}", args::HELP);
            return Ok(0);
        }
        Command::Version => {
            println!("appimage-runtime {} (extracts the image, never mounts it)", env!("CARGO_PKG_VERSION"));
            return Ok(0);
        }
        _ => {}
    }
    let image = AppImage::open(&appimage_path()?)?;
    match command {
        Command::Offset => {
            println!("{}", image.offset());
            Ok(0)
        }
        Command::Extract => {
            let dest = PathBuf::from("squashfs-root");
            if dest.symlink_metadata().is_ok() {
                return Err(Error::Exists(dest));
            }
            fs::create_dir(&dest).map_err(|source| Error::Io { what: "create", path: dest.clone(), source })?;
            let done = image.extract_to(&dest)?;
            eprintln!("appimage-runtime: extracted {} files, {} directories and {} links into squashfs-root", done.files, done.dirs, done.symlinks);
            Ok(0)
        }
        Command::Run { extraction: Extraction::Cached, args } => {
            let root = cache::root(std::env::var_os("XDG_CACHE_HOME").as_deref(), std::env::var_os("HOME").as_deref())?;
            let appdir = launch::cached(&image, &root)?;
            Err(launch::exec(&app_env(&image, appdir, argv0), &args))
        }
        Command::Run { extraction: Extraction::Temporary, args } => {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
            let appdir = std::env::temp_dir().join(format!("appimage-run-{}-{nanos:08x}", std::process::id()));
            launch::create_private_dir(&appdir)?;
            if args::is_on(std::env::var_os("NO_CLEANUP").as_deref()) {
                eprintln!("appimage-runtime: NO_CLEANUP: {} stays", appdir.display());
            } else {
                // From here on the directory goes when this process (soon the app) ends.
                launch::remove_when_ended(&appdir)?;
            }
            image.extract_to(&appdir)?;
            Err(launch::exec(&app_env(&image, appdir, argv0), &args))
        }
        Command::Help | Command::Version => unreachable!("answered above"),
    }
}

/// The AppImage whose image is used: `TARGET_APPIMAGE` when set, else this very file; with
/// symbolic links resolved, as `APPIMAGE` must be.
fn appimage_path() -> Result<PathBuf, Error> {
    let path = match std::env::var_os("TARGET_APPIMAGE").filter(|p| !p.is_empty()) {
        Some(target) => PathBuf::from(target),
        None => std::env::current_exe().map_err(|source| Error::Io { what: "find", path: "/proc/self/exe".into(), source })?,
    };
    fs::canonicalize(&path).map_err(|source| Error::Io { what: "find", path, source })
}

fn app_env(image: &AppImage, appdir: PathBuf, argv0: OsString) -> AppEnv {
    let owd = std::env::current_dir().unwrap_or_default();
    AppEnv { appimage: image.path().to_owned(), appdir, argv0, owd }
}
