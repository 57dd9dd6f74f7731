//! Starting `AppRun`, private directories, and the cache on disk.

use std::ffi::{OsStr, OsString};
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::image::AppImage;
use crate::{cache, io_error, Error};

/// What `AppRun` is told about where it runs from, as the AppImage specification lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEnv {
    /// `APPIMAGE`: the AppImage file, absolute, symbolic links resolved.
    pub appimage: PathBuf,
    /// `APPDIR`: the directory the image was extracted to.
    pub appdir: PathBuf,
    /// `ARGV0`: the name the AppImage was started by (`argv[0]`).
    pub argv0: OsString,
    /// `OWD`: the working directory it was started in.
    pub owd: PathBuf,
}

impl AppEnv {
    /// The variables to set, by name.
    pub fn vars(&self) -> [(&'static str, &OsStr); 4] {
        [("APPIMAGE", self.appimage.as_os_str()), ("APPDIR", self.appdir.as_os_str()), ("ARGV0", &self.argv0), ("OWD", self.owd.as_os_str())]
    }

    /// The command that starts `$APPDIR/AppRun` with `args`.
    fn command(&self, args: &[OsString]) -> Command {
        let mut command = Command::new(self.appdir.join("AppRun"));
        command.args(args).envs(self.vars());
        command
    }
}

/// Replaces this process with `AppRun`; returns only if that failed.
pub fn exec(env: &AppEnv, args: &[OsString]) -> Error {
    let app_run = env.appdir.join("AppRun");
    io_error("start", &app_run)(env.command(args).exec())
}

/// Forks a helper that removes `dir` once this process has ended, however it ends (even by
/// SIGKILL): this process is about to become the app (see [`exec`]), which keeps its process
/// id, signals and exit status as if it had been started directly. The helper is told of the
/// end by the kernel (the parent-death signal, SIGUSR1), leaves the terminal's session and
/// blocks every other signal, so that a Ctrl-C meant for the app does not remove its files
/// under it. Must be called while this process has one thread only.
pub fn remove_when_ended(dir: &Path) -> Result<(), Error> {
    let dir = std::path::absolute(dir).map_err(io_error("find", dir))?;
    // SAFETY: getpid has no preconditions; fork in a single-threaded process.
    let parent = unsafe { libc::getpid() };
    match unsafe { libc::fork() } {
        -1 => Err(io_error("fork a cleaner for", &dir)(io::Error::last_os_error())),
        0 => {
            // SAFETY: plain system calls on this (the helper's own) process.
            unsafe {
                libc::setsid();
                let mut all = std::mem::zeroed::<libc::sigset_t>();
                libc::sigfillset(&mut all);
                libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGUSR1);
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    for fd in 0..3 {
                        libc::dup2(null, fd);
                    }
                }
                libc::chdir(c"/".as_ptr());
                // Unless the parent is gone already (before prctl above), wait for it to go.
                if libc::getppid() == parent {
                    let mut death = std::mem::zeroed::<libc::sigset_t>();
                    libc::sigemptyset(&mut death);
                    libc::sigaddset(&mut death, libc::SIGUSR1);
                    let mut signal = 0;
                    while libc::sigwait(&death, &mut signal) != 0 || signal != libc::SIGUSR1 {}
                }
            }
            let _ = fs::remove_dir_all(&dir);
            // SAFETY: ends the helper without running the parent's exit handlers.
            unsafe { libc::_exit(0) }
        }
        _ => Ok(()),
    }
}

/// Makes `dir` a new directory that only this user can enter; fails if it exists.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new().mode(0o700).create(dir).map_err(io_error("create", dir))
}

/// Makes sure `dir` (and its parents) exist, that it is a directory of this user's and that
/// nobody else can use it (0700, set if it was wider).
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_error("create", dir))?;
    let meta = fs::symlink_metadata(dir).map_err(io_error("look at", dir))?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != euid {
        return Err(Error::NotPrivate(dir.to_owned()));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_error("set the mode of", dir))?;
    }
    Ok(())
}

/// The image's directory in the cache under `root`: extracted there first if it is not yet
/// (under a temporary name, renamed into place when whole: two starts at once both end up
/// with a complete one), its last-use time updated otherwise. When it was extracted, entries
/// of other images unused for a month are removed.
pub fn cached(image: &AppImage, root: &Path) -> Result<PathBuf, Error> {
    ensure_private_dir(root)?;
    let name = cache::entry_name(&image.digest()?);
    let entry = root.join(&name);
    if entry.join("AppRun").symlink_metadata().is_ok() {
        // The last use, for pruning; a failure here costs nothing but an early removal.
        let _ = fs::File::open(&entry).and_then(|dir| dir.set_modified(SystemTime::now()));
        return Ok(entry);
    }
    let partial = root.join(cache::partial_name(&name, std::process::id()));
    if partial.symlink_metadata().is_ok() {
        // Left by a process that had our pid before.
        fs::remove_dir_all(&partial).map_err(io_error("remove", &partial))?;
    }
    create_private_dir(&partial)?;
    if let Err(e) = image.extract_to(&partial) {
        let _ = fs::remove_dir_all(&partial);
        return Err(e);
    }
    if let Err(e) = fs::rename(&partial, &entry) {
        let _ = fs::remove_dir_all(&partial);
        // Another start of the same image got there first: its entry is as good.
        if entry.join("AppRun").symlink_metadata().is_err() {
            return Err(io_error("rename to", &entry)(e));
        }
    }
    prune(root, &name);
    Ok(entry)
}

/// Removes what [`cache::stale`] picks in `root`; errors are ignored (the cache works
/// without it).
fn prune(root: &Path, current: &str) {
    let Ok(listing) = fs::read_dir(root) else { return };
    let now = SystemTime::now();
    let entries: Vec<(String, std::time::Duration)> = listing
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let unused = now.duration_since(e.metadata().ok()?.modified().ok()?).unwrap_or_default();
            Some((name, unused))
        })
        .collect();
    for name in cache::stale(entries.iter().map(|(n, d)| (n.as_str(), *d)), current) {
        let _ = fs::remove_dir_all(root.join(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apprun_gets_the_variables_of_the_specification() {
        let env = AppEnv { appimage: "/a/App.AppImage".into(), appdir: "/tmp/x".into(), argv0: "./App.AppImage".into(), owd: "/home/u".into() };
        let vars: Vec<(&str, &OsStr)> = env.vars().to_vec();
        assert_eq!(vars, vec![("APPIMAGE", OsStr::new("/a/App.AppImage")), ("APPDIR", OsStr::new("/tmp/x")), ("ARGV0", OsStr::new("./App.AppImage")), ("OWD", OsStr::new("/home/u"))]);
    }

    #[test]
    fn a_private_dir_is_made_private() {
        let base = std::env::temp_dir().join(format!("appimage-runtime-test-{}", std::process::id()));
        let dir = base.join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert!(matches!(create_private_dir(&dir), Err(Error::Io { .. })));
        fs::remove_dir_all(&base).unwrap();
    }
}
