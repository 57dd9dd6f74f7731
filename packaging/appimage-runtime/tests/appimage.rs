//! The runtime end to end: a tiny AppDir (an `AppRun` script that prints its arguments and
//! environment), made into a squashfs image with Debian's `mksquashfs` the way
//! scripts/package does it, appended to the runtime built by this crate, then run in each of
//! its modes.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use appimage_runtime::elf;

const APP_RUN: &str = r#"#!/bin/sh
if [ "$1" = wait ]; then
  trap 'echo "got TERM" > "$2"; exit 0' TERM
  echo ready > "$2.ready"
  while :; do sleep 0.05; done
fi
echo "count=$#"
for a in "$@"; do echo "arg=$a"; done
echo "APPIMAGE=$APPIMAGE"
echo "APPDIR=$APPDIR"
echo "ARGV0=$ARGV0"
echo "OWD=$OWD"
echo "data=$(cat "$APPDIR/usr/share/my app/hello.txt")"
echo "link=$(readlink "$APPDIR/.DirIcon")"
"$APPDIR/usr/bin/tool"
exit 7
"#;

/// A scratch directory, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("appimage-runtime-e2e-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Builds `<dir>/My App.AppImage` (a space in its name, as the spec asks to work with) and
/// returns its path and the runtime's length.
fn build_appimage(dir: &Path) -> (PathBuf, u64) {
    let probe = Command::new("mksquashfs").arg("-version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "mksquashfs is needed to build the test image: install Debian's squashfs-tools (apt-get install squashfs-tools)"
    );
    let appdir = dir.join("AppDir");
    write(&appdir.join("AppRun"), APP_RUN, 0o755);
    write(&appdir.join("usr/share/my app/hello.txt"), "hello from the image", 0o644);
    write(&appdir.join("usr/bin/tool"), "#!/bin/sh\necho tool ran\n", 0o755);
    write(&appdir.join("app.png"), "not really a PNG", 0o644);
    std::os::unix::fs::symlink("app.png", appdir.join(".DirIcon")).unwrap();
    let squashfs = dir.join("image.squashfs");
    let made = Command::new("mksquashfs")
        .arg(&appdir)
        .arg(&squashfs)
        .args(["-noappend", "-all-root", "-no-xattrs", "-comp", "gzip", "-mkfs-time", "0", "-all-time", "0", "-quiet", "-no-progress"])
        .output()
        .unwrap();
    assert!(made.status.success(), "mksquashfs failed: {}", String::from_utf8_lossy(&made.stderr));

    let mut bytes = fs::read(env!("CARGO_BIN_EXE_appimage-runtime")).unwrap();
    let runtime_len = bytes.len() as u64;
    assert_eq!(elf::payload_offset(&bytes[..elf::HEADER_LEN]), Ok(runtime_len), "the runtime's section header table must end its file");
    bytes[elf::MAGIC_OFFSET..elf::MAGIC_OFFSET + 3].copy_from_slice(&elf::MAGIC);
    bytes.extend(fs::read(&squashfs).unwrap());
    let appimage = dir.join("My App.AppImage");
    write_bytes(&appimage, &bytes);
    (appimage, runtime_len)
}

fn write_bytes(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The AppImage run with a clean environment: `home` as HOME, `tmp` as TMPDIR.
fn command(appimage: &Path, home: &Path, tmp: &Path) -> Command {
    let mut command = Command::new(appimage);
    command.env_clear().env("PATH", "/usr/bin:/bin").env("HOME", home).env("TMPDIR", tmp).current_dir(home);
    command
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_else(|| panic!("no {key}= in:\n{out}"))
}

/// Waits (a few seconds at most) until `path` is empty: the runtime's helper removes an
/// extract-and-run directory right after the app has ended.
fn wait_until_empty(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dirs(path).is_empty() {
        assert!(Instant::now() < deadline, "the temporary extraction is left: {:?}", dirs(path));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn dirs(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_appimage_runs_extracts_and_reports_its_offset() {
    let scratch = Scratch::new("modes");
    let (appimage, runtime_len) = build_appimage(&scratch.0);
    let home = scratch.0.join("home");
    let tmp = scratch.0.join("tmp");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&tmp).unwrap();

    // --appimage-offset: where the image starts, which is where the runtime ended.
    let out = command(&appimage, &home, &tmp).arg("--appimage-offset").output().unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out).trim(), runtime_len.to_string());

    // --appimage-extract-and-run: arguments and the spec's variables reach AppRun, its exit
    // code comes back, and the temporary directory is gone afterwards.
    let out = command(&appimage, &home, &tmp).args(["--appimage-extract-and-run", "tel:+1 650", "--flag", ""]).output().unwrap();
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(7), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(value(&printed, "count"), "3");
    let args: Vec<&str> = printed.lines().filter_map(|l| l.strip_prefix("arg=")).collect();
    assert_eq!(args, ["tel:+1 650", "--flag", ""]);
    assert_eq!(value(&printed, "APPIMAGE"), fs::canonicalize(&appimage).unwrap().to_str().unwrap());
    assert_eq!(value(&printed, "ARGV0"), appimage.to_str().unwrap());
    assert_eq!(value(&printed, "OWD"), home.to_str().unwrap());
    assert!(value(&printed, "APPDIR").starts_with(tmp.to_str().unwrap()), "{printed}");
    assert_eq!(value(&printed, "data"), "hello from the image");
    assert_eq!(value(&printed, "link"), "app.png");
    assert!(printed.contains("tool ran\n"));
    wait_until_empty(&tmp);

    // The same through APPIMAGE_EXTRACT_AND_RUN=1.
    let out = command(&appimage, &home, &tmp).env("APPIMAGE_EXTRACT_AND_RUN", "1").arg("x").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(value(&text(&out), "APPDIR").starts_with(tmp.to_str().unwrap()));
    assert!(!home.join(".cache").exists(), "extract-and-run must not touch the cache");
    wait_until_empty(&tmp);
    // NO_CLEANUP keeps it.
    let out = command(&appimage, &home, &tmp).env("NO_CLEANUP", "1").arg("--appimage-extract-and-run").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(Path::new(value(&text(&out), "APPDIR")).join("AppRun").exists());
    fs::remove_dir_all(value(&text(&out), "APPDIR")).unwrap();

    // The default: a private cache entry named by content, reused by the next start.
    let out = command(&appimage, &home, &tmp).arg("first").output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = text(&out);
    let appdir = PathBuf::from(value(&printed, "APPDIR"));
    let cache = home.join(".cache/appimage-runtime");
    assert_eq!(appdir.parent(), Some(cache.as_path()));
    assert_eq!(appdir.file_name().unwrap().len(), 32);
    assert_eq!(value(&printed, "arg"), "first");
    assert_eq!(fs::metadata(&cache).unwrap().mode() & 0o777, 0o700);
    assert_eq!(fs::metadata(&appdir).unwrap().mode() & 0o777, 0o700);
    let marker = appdir.join("usr/share/marker");
    fs::write(&marker, "left by the test").unwrap();
    let out = command(&appimage, &home, &tmp).arg("second").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(value(&text(&out), "APPDIR"), appdir.to_str().unwrap(), "the second start must reuse the entry");
    assert!(marker.exists(), "the entry must not be extracted again");
    assert_eq!(dirs(&cache).len(), 1, "no partial extraction may be left: {:?}", dirs(&cache));
    // XDG_CACHE_HOME moves it.
    let xdg = scratch.0.join("xdg");
    let out = command(&appimage, &home, &tmp).env("XDG_CACHE_HOME", &xdg).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(value(&text(&out), "APPDIR").starts_with(xdg.join("appimage-runtime").to_str().unwrap()));

    // --appimage-extract: ./squashfs-root with AppRun, modes and links kept; not over an
    // existing one.
    let out = command(&appimage, &home, &tmp).arg("--appimage-extract").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = home.join("squashfs-root");
    assert_eq!(fs::metadata(root.join("AppRun")).unwrap().mode() & 0o777, 0o755);
    assert_eq!(fs::metadata(root.join("usr/share/my app/hello.txt")).unwrap().mode() & 0o777, 0o644);
    assert_eq!(fs::read_to_string(root.join("usr/share/my app/hello.txt")).unwrap(), "hello from the image");
    assert_eq!(fs::read_link(root.join(".DirIcon")).unwrap(), Path::new("app.png"));
    let out = command(&appimage, &home, &tmp).arg("--appimage-extract").output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));

    // Runtime options it does not have are refused, not passed to the app.
    let out = command(&appimage, &home, &tmp).arg("--appimage-mount").output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported"));
}

#[test]
fn a_file_without_the_magic_or_the_image_is_refused() {
    let scratch = Scratch::new("refused");
    let (appimage, runtime_len) = build_appimage(&scratch.0);
    let bytes = fs::read(&appimage).unwrap();

    let no_magic = scratch.0.join("no-magic");
    let mut copy = bytes.clone();
    copy[elf::MAGIC_OFFSET..elf::MAGIC_OFFSET + 3].copy_from_slice(b"\0\0\0");
    write_bytes(&no_magic, &copy);
    let out = Command::new(&no_magic).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no type 2 AppImage magic"), "{}", String::from_utf8_lossy(&out.stderr));

    let no_image = scratch.0.join("no-image");
    write_bytes(&no_image, &bytes[..runtime_len as usize]);
    let out = Command::new(&no_image).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing follows the ELF part"));

    let damaged = scratch.0.join("damaged");
    let mut copy = bytes.clone();
    // The superblock and a little more: the tables it points to are gone.
    copy.truncate(runtime_len as usize + 120);
    write_bytes(&damaged, &copy);
    let out = Command::new(&damaged).arg("--appimage-extract-and-run").env("TMPDIR", &scratch.0).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be read"), "{}", String::from_utf8_lossy(&out.stderr));

    // TARGET_APPIMAGE: another file's image, run by a runtime that has none of its own.
    let out = Command::new(&no_image).arg("--appimage-offset").env("TARGET_APPIMAGE", &appimage).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), runtime_len.to_string());
}

/// Starts the image's `AppRun` in its waiting mode with --appimage-extract-and-run, sends it
/// `signal` once it is up, and returns how it ended.
fn signalled(appimage: &Path, scratch: &Path, tmp: &Path, signal: libc::c_int) -> (std::process::ExitStatus, PathBuf) {
    let report = scratch.join(format!("report-{signal}"));
    let mut child = command(appimage, scratch, tmp).arg("--appimage-extract-and-run").arg("wait").arg(&report).stdout(Stdio::null()).spawn().unwrap();
    let ready = report.with_extension("ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "AppRun did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to the process we started (the runtime, now AppRun).
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    (child.wait().unwrap(), report)
}

#[test]
fn the_app_is_the_runtimes_process_and_its_extraction_goes_however_it_ends() {
    use std::os::unix::process::ExitStatusExt;
    let scratch = Scratch::new("signal");
    let (appimage, _) = build_appimage(&scratch.0);
    let tmp = scratch.0.join("tmp");
    fs::create_dir_all(&tmp).unwrap();

    // SIGTERM reaches AppRun itself, whose trap exits 0.
    let (status, report) = signalled(&appimage, &scratch.0, &tmp, libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "AppRun's trap exits 0: {status:?}");
    assert_eq!(fs::read_to_string(&report).unwrap().trim(), "got TERM");
    wait_until_empty(&tmp);

    // Even SIGKILL, which nothing can catch, does not leave the extraction behind.
    let (status, _) = signalled(&appimage, &scratch.0, &tmp, libc::SIGKILL);
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    wait_until_empty(&tmp);
}
