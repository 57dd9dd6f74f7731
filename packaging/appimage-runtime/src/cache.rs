//! The extraction cache's names and rules (sans-IO): where it is, what an entry is called,
//! which entries are old enough to go.
//!
//! Each image is extracted once into `<cache>/<key>`, where `<key>` comes from the SHA-256 of
//! the squashfs image, so a new version of the AppImage gets a new entry and the same file
//! (wherever it is, under whatever name) finds its own. An entry is made under a temporary
//! name (`.partial-…`) and renamed into place when complete, so an entry that exists is whole.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The cache's directory under the user's cache directory.
pub const DIR_NAME: &str = "appimage-runtime";
/// Entries not used for this long are removed when another image is extracted.
pub const MAX_UNUSED: Duration = Duration::from_secs(30 * 24 * 3600);
/// Leftovers of an extraction that did not finish (a killed start) older than this go too.
pub const MAX_PARTIAL: Duration = Duration::from_secs(24 * 3600);
/// The prefix of an entry while it is being extracted.
pub const PARTIAL_PREFIX: &str = ".partial-";

/// Why there is no cache directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// Neither `XDG_CACHE_HOME` nor `HOME` is an absolute path.
    #[error("no cache directory: neither XDG_CACHE_HOME nor HOME is set to an absolute path (use --appimage-extract-and-run)")]
    NoCacheHome,
}

/// The cache directory, after the XDG Base Directory rules: `$XDG_CACHE_HOME` when it is an
/// absolute path, else `$HOME/.cache`; then [`DIR_NAME`] below it.
pub fn root(xdg_cache_home: Option<&OsStr>, home: Option<&OsStr>) -> Result<PathBuf, CacheError> {
    fn absolute(v: Option<&OsStr>) -> Option<&Path> {
        v.map(Path::new).filter(|p| p.is_absolute())
    }
    let base = match (absolute(xdg_cache_home), absolute(home)) {
        (Some(cache), _) => cache.to_path_buf(),
        (None, Some(home)) => home.join(".cache"),
        (None, None) => return Err(CacheError::NoCacheHome),
    };
    Ok(base.join(DIR_NAME))
}

/// An entry's name: the first 128 bits of the image's SHA-256, in hex.
pub fn entry_name(sha256: &[u8; 32]) -> String {
    sha256[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The temporary name an entry is extracted under by the process `pid`.
pub fn partial_name(entry: &str, pid: u32) -> String {
    format!("{PARTIAL_PREFIX}{entry}-{pid}")
}

/// Of the cache's `entries` (each a name and how long ago it was last used), those to remove
/// now that `current` is in use: other entries unused for [`MAX_UNUSED`], leftovers of
/// unfinished extractions older than [`MAX_PARTIAL`]. Names that are neither are left alone.
pub fn stale<'a>(entries: impl IntoIterator<Item = (&'a str, Duration)>, current: &str) -> Vec<&'a str> {
    entries
        .into_iter()
        .filter(|(name, unused)| {
            if let Some(rest) = name.strip_prefix(PARTIAL_PREFIX) {
                !rest.is_empty() && *unused > MAX_PARTIAL
            } else {
                *name != current && is_entry_name(name) && *unused > MAX_UNUSED
            }
        })
        .map(|(name, _)| name)
        .collect()
}

/// Whether `name` looks like an entry made by [`entry_name`].
fn is_entry_name(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_follows_xdg() {
        assert_eq!(root(Some("/c".as_ref()), Some("/h".as_ref())), Ok(PathBuf::from("/c/appimage-runtime")));
        assert_eq!(root(None, Some("/h".as_ref())), Ok(PathBuf::from("/h/.cache/appimage-runtime")));
        // A relative XDG_CACHE_HOME is invalid and ignored, as the spec says.
        assert_eq!(root(Some("rel".as_ref()), Some("/h".as_ref())), Ok(PathBuf::from("/h/.cache/appimage-runtime")));
        assert_eq!(root(Some("".as_ref()), Some("".as_ref())), Err(CacheError::NoCacheHome));
        assert_eq!(root(None, None), Err(CacheError::NoCacheHome));
    }

    #[test]
    fn entries_are_named_by_content() {
        let mut digest = [0u8; 32];
        digest[0] = 0xab;
        digest[15] = 0x01;
        digest[16] = 0xff;
        let name = entry_name(&digest);
        assert_eq!(name, "ab000000000000000000000000000001");
        assert!(is_entry_name(&name));
        assert_eq!(partial_name(&name, 42), ".partial-ab000000000000000000000000000001-42");
    }

    #[test]
    fn old_entries_and_leftovers_go_the_current_one_and_strangers_stay() {
        let day = Duration::from_secs(24 * 3600);
        let current = "0123456789abcdef0123456789abcdef";
        let old = "ffffffffffffffffffffffffffffffff";
        let recent = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
        let entries = [
            (current, 400 * day),
            (old, 31 * day),
            (recent, 3 * day),
            (".partial-eeee-7", 2 * day),
            (".partial-eeee-8", Duration::from_secs(60)),
            ("notes.txt", 400 * day),
        ];
        assert_eq!(stale(entries, current), vec![old, ".partial-eeee-7"]);
    }
}
