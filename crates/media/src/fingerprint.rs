//! DTLS certificate fingerprints (RFC 8122) with any common hash, checked by us.
//!
//! webrtc-rs 0.21 accepts only `sha-256` fingerprints from the far end and fails the DTLS
//! handshake on anything else, but RingCentral's media servers sign their offers with
//! `a=fingerprint:sha-1`. So [`crate::AudioPeer`] turns the stack's own check off and checks
//! the far end's certificate here once DTLS is up, before any audio is played or sent.

/// One `a=fingerprint` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash function name, lower case (`sha-1`, `sha-256`, …).
    pub algorithm: String,
    /// The digest bytes.
    pub digest: Vec<u8>,
}

/// Why a fingerprint check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    /// The description has no `a=fingerprint` line: DTLS-SRTP cannot be authenticated.
    #[error("the SDP has no a=fingerprint line")]
    Missing,
    /// A line names a hash we cannot compute.
    #[error("unsupported fingerprint hash \"{0}\"")]
    Unsupported(String),
    /// A line cannot be read.
    #[error("malformed fingerprint \"{0}\"")]
    Malformed(String),
    /// The far end presented no certificate.
    #[error("the far end presented no certificate")]
    NoCertificate,
    /// The certificate does not match any fingerprint of the description.
    #[error("the far end's DTLS certificate does not match the SDP fingerprint")]
    Mismatch,
}

/// The hash functions we can check.
const SUPPORTED: [&str; 4] = ["sha-1", "sha-256", "sha-384", "sha-512"];

/// Every `a=fingerprint` line of `sdp` (session and media level).
pub fn parse(sdp: &str) -> Result<Vec<Fingerprint>, FingerprintError> {
    let mut out = Vec::new();
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(rest) = line.strip_prefix("a=fingerprint:") else { continue };
        let (algorithm, value) = rest.trim().split_once(' ').ok_or_else(|| FingerprintError::Malformed(rest.to_owned()))?;
        let algorithm = algorithm.to_ascii_lowercase();
        if !SUPPORTED.contains(&algorithm.as_str()) {
            return Err(FingerprintError::Unsupported(algorithm));
        }
        let digest = value
            .trim()
            .split(':')
            .map(|h| u8::from_str_radix(h, 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| FingerprintError::Malformed(value.to_owned()))?;
        out.push(Fingerprint { algorithm, digest });
    }
    if out.is_empty() {
        return Err(FingerprintError::Missing);
    }
    Ok(out)
}

/// The digest of `der` with `algorithm`.
pub fn digest(algorithm: &str, der: &[u8]) -> Option<Vec<u8>> {
    use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256, SHA384, SHA512};
    let alg = match algorithm {
        "sha-1" => &SHA1_FOR_LEGACY_USE_ONLY,
        "sha-256" => &SHA256,
        "sha-384" => &SHA384,
        "sha-512" => &SHA512,
        _ => return None,
    };
    Some(digest(alg, der).as_ref().to_vec())
}

/// Checks the far end's leaf certificate `der` against the description's fingerprints.
pub fn verify(der: Option<&[u8]>, fingerprints: &[Fingerprint]) -> Result<(), FingerprintError> {
    let der = der.ok_or(FingerprintError::NoCertificate)?;
    if fingerprints.is_empty() {
        return Err(FingerprintError::Missing);
    }
    let matches = fingerprints.iter().any(|f| digest(&f.algorithm, der).is_some_and(|d| d == f.digest));
    if matches {
        Ok(())
    } else {
        Err(FingerprintError::Mismatch)
    }
}

/// `a=fingerprint:{algorithm} AB:CD:…` for `der`, as written in SDP.
pub fn line(algorithm: &str, der: &[u8]) -> Option<String> {
    let d = digest(algorithm, der)?;
    let hex: Vec<String> = d.iter().map(|b| format!("{b:02X}")).collect();
    Some(format!("a=fingerprint:{algorithm} {}", hex.join(":")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = b"not really DER, but any bytes hash the same way";

    #[test]
    fn sha1_and_sha256_lines_verify_and_others_do_not() {
        for alg in ["sha-1", "sha-256", "sha-512"] {
            let sdp = format!("v=0\r\nm=audio 9 RTP/SAVPF 0\r\n{}\r\n", line(alg, CERT).unwrap());
            let fps = parse(&sdp).unwrap();
            assert_eq!(fps[0].algorithm, alg);
            assert_eq!(verify(Some(CERT), &fps), Ok(()));
            assert_eq!(verify(Some(b"another certificate"), &fps), Err(FingerprintError::Mismatch));
        }
        assert_eq!(verify(None, &parse(&line("sha-1", CERT).unwrap()).unwrap()), Err(FingerprintError::NoCertificate));
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(parse("v=0\r\nm=audio 9 RTP/SAVPF 0\r\n"), Err(FingerprintError::Missing));
        assert_eq!(parse("a=fingerprint:md5 AA:BB\r\n"), Err(FingerprintError::Unsupported("md5".into())));
        assert!(matches!(parse("a=fingerprint:sha-1 ZZ:00\r\n"), Err(FingerprintError::Malformed(_))));
        assert!(matches!(parse("a=fingerprint:sha-1\r\n"), Err(FingerprintError::Malformed(_))));
        // Upper-case algorithm names are accepted as RFC 8122 allows.
        assert_eq!(parse("a=fingerprint:SHA-256 0A:0B\r\n").unwrap()[0].algorithm, "sha-256");
    }
}
