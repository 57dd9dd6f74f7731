//! 16-bit PCM mono WAV files, for recordings and test signals.

use std::io;
use std::path::Path;

/// Writes `samples` (mono, 16-bit) at `rate` Hz.
pub fn write(path: &Path, rate: u32, samples: &[i16]) -> io::Result<()> {
    std::fs::write(path, encode(rate, samples))
}

/// Writes `samples` to a new file only the user can read (0600 on Unix): an existing file or
/// link at `path` is an error, never followed or replaced. For recordings of people.
pub fn write_private(path: &Path, rate: u32, samples: &[i16]) -> io::Result<()> {
    use io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(&encode(rate, samples))?;
    file.sync_all()
}

/// The bytes of a WAV file holding `samples`.
fn encode(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Reads a 16-bit PCM mono WAV: `(rate, samples)`.
pub fn read(path: &Path) -> io::Result<(u32, Vec<i16>)> {
    let bytes = std::fs::read(path)?;
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", path.display()));
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a WAV file"));
    }
    let (mut at, mut rate, mut format_ok) = (12, 0, false);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = bytes.get(at + 8..at + 8 + len).ok_or_else(|| bad("truncated chunk"))?;
        match id {
            b"fmt " if body.len() >= 16 => {
                let format = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let bits = u16::from_le_bytes([body[14], body[15]]);
                rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                format_ok = format == 1 && channels == 1 && bits == 16;
            }
            b"data" => {
                if !format_ok {
                    return Err(bad("only 16-bit PCM mono is supported"));
                }
                return Ok((rate, body.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()));
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let path = std::env::temp_dir().join(format!("media-wav-{}.wav", std::process::id()));
        let samples: Vec<i16> = (0..480).map(|i| (i * 50) as i16).collect();
        write(&path, 48_000, &samples).unwrap();
        assert_eq!(read(&path).unwrap(), (48_000, samples));
        std::fs::write(&path, b"RIFFxxxxWAVE").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("no data chunk"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_private_recording_is_new_and_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("media-wav-private-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rec.wav");
        write_private(&path, 48_000, &[1, 2, 3]).unwrap();
        assert_eq!(read(&path).unwrap(), (48_000, vec![1, 2, 3]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            // A link planted where a recording will go is not followed.
            let target = dir.join("victim");
            std::fs::write(&target, b"keep").unwrap();
            let link = dir.join("planted.wav");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(write_private(&link, 48_000, &[9]).is_err());
            assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        }
        assert_eq!(write_private(&path, 48_000, &[4]).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
