//! Certificates: a fresh CA and a server certificate for 127.0.0.1 made at start, or files.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Why certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PEM file could not be read or holds no usable item.
    #[error("cannot load {path}: {reason}")]
    Load {
        /// File path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the certificate or key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server's certificate chain and key, and the CA a client must trust.
#[derive(Debug)]
pub struct TlsMaterial {
    /// PEM of the CA certificate to trust (the certificate itself when loaded from files).
    pub ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The chain and key as PEM text, when this material was generated here.
    pem: Option<(String, String)>,
}

impl Clone for TlsMaterial {
    fn clone(&self) -> Self {
        TlsMaterial { ca_pem: self.ca_pem.clone(), chain: self.chain.clone(), key: self.key.clone_key(), pem: self.pem.clone() }
    }
}

impl TlsMaterial {
    /// A new CA and a server certificate for `names` (host names or IP addresses), signed by it.
    pub fn generate(names: &[&str]) -> Result<TlsMaterial, TlsError> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "rc-sim test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut leaf = CertificateParams::new(names)?;
        leaf.distinguished_name.push(DnType::CommonName, "rc-sim");
        leaf.use_authority_key_identifier_extension = true;
        let leaf_key = KeyPair::generate()?;
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
        Ok(TlsMaterial {
            ca_pem: ca_cert.pem(),
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            pem: Some((leaf_cert.pem() + &ca_cert.pem(), leaf_key.serialize_pem())),
        })
    }

    /// Loads a PEM certificate chain and a PEM private key.
    pub fn load(cert: &Path, key: &Path) -> Result<TlsMaterial, TlsError> {
        let load_err = |p: &Path, reason: String| TlsError::Load { path: p.display().to_string(), reason };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| load_err(cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| load_err(cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(load_err(cert, "no certificate in the file".into()));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| load_err(key, e.to_string()))?;
        let ca_pem = std::fs::read_to_string(cert).map_err(|e| load_err(cert, e.to_string()))?;
        Ok(TlsMaterial { ca_pem, chain, key: key_der, pem: None })
    }

    /// The certificate chain and the private key as PEM, for another server to use (e.g. an
    /// interop test's Kamailio); `None` for material loaded from files.
    pub fn server_pem(&self) -> Option<(&str, &str)> {
        self.pem.as_ref().map(|(c, k)| (c.as_str(), k.as_str()))
    }

    /// A rustls server configuration (ring provider, TLS 1.2 and 1.3).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        Ok(Arc::new(cfg))
    }
}

/// A client configuration trusting only `ca_pem` (for tests and tools talking to rc-sim).
pub fn client_config(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| TlsError::Load { path: "CA PEM".into(), reason: e.to_string() })?;
        roots.add(cert)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_makes_configs() {
        let m = TlsMaterial::generate(&["127.0.0.1", "localhost"]).unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        m.server_config().unwrap();
        client_config(&m.ca_pem).unwrap();
    }

    #[test]
    fn bad_files_name_the_path() {
        let dir = std::env::temp_dir().join(format!("rc-sim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let err = TlsMaterial::load(&cert, &dir.join("key.pem")).unwrap_err().to_string();
        assert!(err.contains("cert.pem"), "{err}");
        let missing = TlsMaterial::load(&dir.join("none.pem"), &dir.join("key.pem")).unwrap_err().to_string();
        assert!(missing.contains("none.pem"), "{missing}");
    }
}
