#![warn(missing_docs)]
//! The runtime of RC Softphone's AppImage: a small ELF program with the app's squashfs image
//! appended to it (the AppImage type 2 format), that extracts the image and runs its `AppRun`.
//!
//! Unlike the reference runtime it never mounts the image with FUSE (which many systems no
//! longer have set up): it always extracts. By default into a private per-user cache named
//! after the image's content (`$XDG_CACHE_HOME/appimage-runtime/<key>`, 0700), reused by the
//! next start of the same image; with `--appimage-extract-and-run` into a new temporary
//! directory, which a small helper process removes when the app has ended. Either way the
//! runtime then replaces itself with `AppRun` (same process, signals and exit status).
//! `--appimage-extract` writes the files to `./squashfs-root`. `AppRun` gets `APPIMAGE`,
//! `APPDIR`, `ARGV0` and `OWD` as the AppImage specification says, and the arguments.
//!
//! The parts that decide ([`elf`]: where the image starts; [`args`]: the command line;
//! [`cache`]: names and pruning) do no I/O and are unit-tested; [`image`] and [`launch`] do
//! the reading, writing and starting. See docs/appimage.md for how scripts/package puts an
//! AppImage together.

use std::path::{Path, PathBuf};

pub mod args;
pub mod cache;
pub mod elf;
pub mod image;
pub mod launch;

/// Everything that stops the runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line was refused.
    #[error(transparent)]
    Args(#[from] args::ArgsError),
    /// No cache directory.
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    /// The file is not an AppImage of type 2 (or its image is missing).
    #[error("{path} is not an AppImage of type 2: {reason}")]
    NotAnAppImage {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The squashfs image could not be read.
    #[error("the image in {path} cannot be read: {reason}")]
    Squashfs {
        /// The AppImage.
        path: PathBuf,
        /// What the squashfs reader said.
        reason: String,
    },
    /// An entry of the image would land outside the extraction directory.
    #[error("the image has an entry with an unsafe path: {0}")]
    UnsafePath(PathBuf),
    /// The image has no `AppRun` at its top.
    #[error("the image in {path} has no AppRun at its top")]
    NoAppRun {
        /// The AppImage.
        path: PathBuf,
    },
    /// A directory that must be this user's alone is not.
    #[error("{0} is not a directory of this user's; not using it")]
    NotPrivate(PathBuf),
    /// Where files would be extracted to exists already.
    #[error("{0} exists already; remove it or extract elsewhere")]
    Exists(PathBuf),
    /// A file operation failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done ("open", "create", …).
        what: &'static str,
        /// On what.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

/// An [`Error::Io`] maker for `map_err`: what was being done, on which path.
pub(crate) fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { what, path: path.to_owned(), source }
}
