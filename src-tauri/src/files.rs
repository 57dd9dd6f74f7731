//! The files the app writes about its user (settings, call history): readable by the user
//! only (0600 files in 0700 directories on Unix), written atomically (a unique temporary file,
//! synced, then renamed over the old one), and a damaged one is kept aside, never overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Creates `dir` and its parents for the user's own files; on Unix only the user may enter
/// it (0700, an existing directory is tightened).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never
/// half of one: a temporary file of a name of its own (two saves at once do not mix),
/// readable by the user only, synced to disk, renamed over `path`, the directory synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    private_dir(dir)?;
    let tmp = dir.join(format!(".{}.{}-{}.tmp", file_name(path), std::process::id(), unique()));
    let written = write_new(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Moves a damaged `path` aside as `{name}.damaged-{seconds since 1970}` and returns where it
/// went, so that nothing the user had is lost when the app starts afresh.
pub fn keep_aside(path: &Path) -> std::io::Result<PathBuf> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let aside = path.with_file_name(format!("{}.damaged-{secs}", file_name(path)));
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// Writes a new file (never an existing one, never through a link) only the user can read.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into())
}

/// A number no other save of this process uses.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    (u64::from(nanos) << 20) ^ NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("softphone-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn files_are_private_whole_and_replace_the_old_one() {
        let dir = scratch("private").join("nested");
        let path = dir.join("settings.json");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(&dir), mode(&path)), (0o700, 0o600));
            // A directory others could read is tightened at the next save.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            write_private(&path, b"three").unwrap();
            assert_eq!(mode(&dir), 0o700);
        }
    }

    #[test]
    fn saves_from_many_threads_never_mix() {
        let path = scratch("threads").join("history.json");
        let writers: Vec<_> = (0..8)
            .map(|n| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        write_private(&path, format!("writer {n} {}", "x".repeat(4096)).as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("writer ") && text.len() == "writer 0 ".len() + 4096, "one whole save: {}", &text[..20]);
    }

    #[test]
    fn a_damaged_file_is_moved_aside_whole() {
        let dir = scratch("aside");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.json");
        std::fs::write(&path, "{ broken").unwrap();
        let aside = keep_aside(&path).unwrap();
        assert!(!path.exists() && aside.file_name().unwrap().to_string_lossy().starts_with("settings.json.damaged-"));
        assert_eq!(std::fs::read_to_string(aside).unwrap(), "{ broken");
    }
}
