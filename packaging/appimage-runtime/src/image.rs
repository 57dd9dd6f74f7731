//! The AppImage file: its squashfs image's offset and content hash, and extracting it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use backhand::{FilesystemReader, InnerNode};
use sha2::{Digest, Sha256};

use crate::{elf, io_error, Error};

/// An opened AppImage of type 2.
#[derive(Debug)]
pub struct AppImage {
    path: PathBuf,
    file: File,
    offset: u64,
}

/// What [`AppImage::extract_to`] wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    /// Regular files.
    pub files: usize,
    /// Directories, the top one not counted.
    pub dirs: usize,
    /// Symbolic links.
    pub symlinks: usize,
    /// Device nodes, pipes and sockets, which an AppDir has no use for: not made.
    pub skipped: usize,
}

impl AppImage {
    /// Opens the AppImage at `path`: it must be an ELF file with the type 2 magic, and
    /// something must follow its ELF part.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let mut file = File::open(path).map_err(io_error("open", path))?;
        let mut header = Vec::with_capacity(elf::HEADER_LEN);
        (&mut file).take(elf::HEADER_LEN as u64).read_to_end(&mut header).map_err(io_error("read", path))?;
        let offset = elf::payload_offset(&header).map_err(|reason| Error::NotAnAppImage { path: path.to_owned(), reason: reason.to_string() })?;
        if !elf::has_magic(&header) {
            return Err(Error::NotAnAppImage { path: path.to_owned(), reason: "no type 2 AppImage magic (AI\\x02) at offset 8".into() });
        }
        let len = file.metadata().map_err(io_error("read", path))?.len();
        if len <= offset {
            return Err(Error::NotAnAppImage { path: path.to_owned(), reason: format!("nothing follows the ELF part (it ends at byte {offset} of {len})") });
        }
        Ok(Self { path: path.to_owned(), file, offset })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the squashfs image starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The SHA-256 of the squashfs image (from [`Self::offset`] to the end of the file).
    pub fn digest(&self) -> Result<[u8; 32], Error> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.offset)).map_err(io_error("read", &self.path))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buffer).map_err(io_error("read", &self.path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        Ok(hasher.finalize().into())
    }

    /// Writes the image's files into `dest`, an empty directory that exists. Modes are kept
    /// (without set-user/group-ID bits), owners and times are not; every directory stays
    /// writable by its owner so that the tree can be removed. Fails if the image has no
    /// `AppRun` at its top.
    pub fn extract_to(&self, dest: &Path) -> Result<Extracted, Error> {
        let file = self.file.try_clone().map_err(io_error("read", &self.path))?;
        let squashfs = FilesystemReader::from_reader_with_offset(BufReader::new(file), self.offset)
            .map_err(|e| Error::Squashfs { path: self.path.clone(), reason: e.to_string() })?;
        let mut done = Extracted::default();
        let mut dirs = Vec::new();
        let mut has_app_run = false;
        // The nodes come sorted by path: a directory before what is in it.
        for node in squashfs.files() {
            let Some(relative) = relative_path(&node.fullpath)? else {
                continue;
            };
            has_app_run |= relative == Path::new("AppRun");
            let target = dest.join(&relative);
            let mode = u32::from(node.header.permissions) & 0o777;
            match &node.inner {
                InnerNode::Dir(_) => {
                    fs::create_dir(&target).map_err(io_error("create", &target))?;
                    dirs.push((target, mode | 0o700));
                    done.dirs += 1;
                }
                InnerNode::File(entry) => {
                    let out = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target).map_err(io_error("create", &target))?;
                    let mut out = BufWriter::with_capacity(1 << 16, out);
                    let mut data = squashfs.file(entry).reader_checked().map_err(|e| Error::Squashfs { path: self.path.clone(), reason: format!("{}: {e}", node.fullpath.display()) })?;
                    io::copy(&mut data, &mut out).map_err(io_error("write", &target))?;
                    out.flush().map_err(io_error("write", &target))?;
                    fs::set_permissions(&target, fs::Permissions::from_mode(mode)).map_err(io_error("set the mode of", &target))?;
                    done.files += 1;
                }
                InnerNode::Symlink(link) => {
                    std::os::unix::fs::symlink(&link.link, &target).map_err(io_error("create", &target))?;
                    done.symlinks += 1;
                }
                _ => done.skipped += 1,
            }
        }
        // Last, so that a read-only directory did not stop its own files being written.
        for (dir, mode) in dirs.iter().rev() {
            fs::set_permissions(dir, fs::Permissions::from_mode(*mode)).map_err(io_error("set the mode of", dir))?;
        }
        if !has_app_run {
            return Err(Error::NoAppRun { path: self.path.clone() });
        }
        Ok(done)
    }
}

/// A node's path in the image, relative to the image's top: `None` for the top itself.
/// Refuses a path that could leave the extraction directory (`..`) or is not plain.
pub fn relative_path(full: &Path) -> Result<Option<PathBuf>, Error> {
    let mut relative = PathBuf::new();
    for component in full.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => relative.push(name),
            _ => return Err(Error::UnsafePath(full.to_owned())),
        }
    }
    Ok((!relative.as_os_str().is_empty()).then_some(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_the_image_are_made_relative_and_escapes_refused() {
        assert_eq!(relative_path(Path::new("/")).unwrap(), None);
        assert_eq!(relative_path(Path::new("/usr/bin/app")).unwrap(), Some(PathBuf::from("usr/bin/app")));
        assert_eq!(relative_path(Path::new("AppRun")).unwrap(), Some(PathBuf::from("AppRun")));
        assert!(matches!(relative_path(Path::new("/usr/../../etc/passwd")), Err(Error::UnsafePath(_))));
        assert!(matches!(relative_path(Path::new("../x")), Err(Error::UnsafePath(_))));
    }
}
