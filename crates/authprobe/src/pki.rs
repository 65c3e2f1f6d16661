//! Client certificates made for the probes: a copy of the user's subject signed by
//! nobody (self-signed) or by a throwaway CA, and, with the user's test CA, certificates
//! that differ from a valid one in exactly one way (expired, wrong EKU, unmapped subject,
//! a second key for the same subject).
//!
//! Every minted certificate and key is written to one private directory per scan (mode
//! 0700, keys 0600), because curl and the TLS stack take files. A certificate signed by
//! the user's CA is a credential for that CA's servers, so the directory is a temporary
//! one removed with the scan, unless the user names one with `--keep-artifacts` to rerun
//! the `curl` lines afterwards.

use crate::http::ClientIdentity;
use anyhow::{Context, Result, anyhow};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What a minted certificate differs in from the user's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The user's subject, a new key, valid dates and EKU: the user's "other device".
    SameSubject,
    /// Validity ended yesterday.
    Expired,
    /// Extended key usage serverAuth only (a server certificate from the same CA).
    ServerAuthOnly,
    /// A subject CN that names no user.
    Unmapped,
}

impl Variant {
    fn file_stem(self) -> &'static str {
        match self {
            Self::SameSubject => "same-subject",
            Self::Expired => "expired",
            Self::ServerAuthOnly => "server-auth-eku",
            Self::Unmapped => "unmapped-subject",
        }
    }
}

/// The subject and issuer names of the user's certificate, as rcgen names.
#[derive(Clone, Debug)]
pub struct UserCert {
    pub subject: DistinguishedName,
    pub issuer: DistinguishedName,
    /// The subject as text (RFC 4514 order as x509-parser prints it), for messages.
    pub subject_text: String,
    pub common_name: Option<String>,
}

impl UserCert {
    pub fn parse(der: &[u8]) -> Result<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| anyhow!("the client certificate does not parse: {e}"))?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        Ok(Self {
            subject: rcgen_name(cert.subject()),
            issuer: rcgen_name(cert.issuer()),
            subject_text: cert.subject().to_string(),
            common_name,
        })
    }
}

/// A name rebuilt attribute by attribute; values that are not strings are skipped (they
/// do not occur in client certificate subjects worth copying).
fn rcgen_name(name: &x509_parser::x509::X509Name<'_>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let Ok(value) = attr.as_str() else { continue };
            let oid: Option<Vec<u64>> = attr.attr_type().iter().map(|i| i.collect());
            let Some(oid) = oid else { continue };
            let ty = match oid.as_slice() {
                [2, 5, 4, 3] => DnType::CommonName,
                [2, 5, 4, 6] => DnType::CountryName,
                [2, 5, 4, 7] => DnType::LocalityName,
                [2, 5, 4, 8] => DnType::StateOrProvinceName,
                [2, 5, 4, 10] => DnType::OrganizationName,
                [2, 5, 4, 11] => DnType::OrganizationalUnitName,
                _ => DnType::CustomDnType(oid),
            };
            dn.push(ty, value);
        }
    }
    dn
}

/// Makes and stores the probe certificates of one scan.
pub struct Minter {
    dir: PathBuf,
    ca: Option<Issuer<'static, KeyPair>>,
    /// Removes the directory when the minter, owned by the scan, is dropped.
    _temp: Option<tempfile::TempDir>,
    /// Whether files may already be there from an earlier run (a kept directory).
    reused: bool,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter")
            .field("dir", &self.dir)
            .field("ca", &self.ca.is_some())
            .finish()
    }
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f; // positive, as RFC 5280 requires
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

fn leaf_params(subject: DistinguishedName, eku: Vec<ExtendedKeyUsagePurpose>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject;
    p.extended_key_usages = eku;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(random_serial());
    let now = SystemTime::now();
    p.not_before = (now - Duration::from_secs(3600)).into();
    p.not_after = (now + Duration::from_secs(7 * 86400)).into();
    p
}

impl Minter {
    /// A minter writing under a new private directory in the system temp dir; `ca` is
    /// `--client-ca-cert`/`--client-ca-key`, when given.
    pub fn new(ca: Option<(&Path, &Path)>) -> Result<Self> {
        let ca = match ca {
            Some((cert, key)) => Some(load_ca(cert, key)?),
            None => None,
        };
        let temp = tempfile::Builder::new()
            .prefix("authprobe-certs-")
            .tempdir()
            .context("creating a directory for minted certificates")?;
        Ok(Self {
            dir: temp.path().to_path_buf(),
            ca,
            _temp: Some(temp),
            reused: false,
        })
    }

    /// A minter writing into `dir` (created if missing), for `authprobe mint-revoked`.
    pub fn in_dir(ca: (&Path, &Path), dir: &Path) -> Result<Self> {
        Self::kept(Some(ca), dir)
    }

    /// A minter writing into `dir` (created if missing, private), which outlives the scan:
    /// `--keep-artifacts`. Files of an earlier run there are replaced.
    pub fn kept(ca: Option<(&Path, &Path)>, dir: &Path) -> Result<Self> {
        create_private_dir(dir)?;
        let ca = match ca {
            Some((cert, key)) => Some(load_ca(cert, key)?),
            None => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            ca,
            _temp: None,
            reused: true,
        })
    }

    /// A valid certificate for the user's subject and a CRL from the same CA that revokes
    /// it (`revoked.pem`, `revoked.key`, `crl.pem`). Deploy the CRL on the server, then
    /// scan with `--revoked-cert revoked.pem --revoked-key revoked.key`.
    pub fn revoked_with_crl(&self, user: &UserCert) -> Result<(Arc<ClientIdentity>, PathBuf)> {
        let issuer = self
            .ca
            .as_ref()
            .ok_or_else(|| anyhow!("no test CA (--client-ca-cert/--client-ca-key)"))?;
        let serial = random_serial();
        let mut params = leaf_params(
            user.subject.clone(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        );
        params.serial_number = Some(serial.clone());
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, issuer)?;
        let now = SystemTime::now();
        let crl = rcgen::CertificateRevocationListParams {
            this_update: (now - Duration::from_secs(60)).into(),
            next_update: (now + Duration::from_secs(30 * 86400)).into(),
            crl_number: random_serial(),
            issuing_distribution_point: None,
            revoked_certs: vec![rcgen::RevokedCertParams {
                serial_number: serial,
                revocation_time: (now - Duration::from_secs(60)).into(),
                reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                invalidity_date: None,
            }],
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        }
        .signed_by(issuer)
        .context("signing the CRL")?;
        let crl_path = self.dir.join("crl.pem");
        std::fs::write(&crl_path, crl.pem()?)
            .with_context(|| format!("writing {}", crl_path.display()))?;
        let id = self.store("revoked", cert.pem(), cert.der().clone(), &key)?;
        Ok((id, crl_path))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn has_ca(&self) -> bool {
        self.ca.is_some()
    }

    /// The user's subject, self-signed (no CA at all).
    pub fn self_signed(&self, user: &UserCert) -> Result<Arc<ClientIdentity>> {
        let key = KeyPair::generate()?;
        let cert = leaf_params(
            user.subject.clone(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        )
        .self_signed(&key)?;
        self.store("self-signed", cert.pem(), cert.der().clone(), &key)
    }

    /// The user's subject signed by a throwaway CA that carries the real issuer's name:
    /// a server that compares issuer names instead of signatures takes it for its own.
    pub fn other_ca(&self, user: &UserCert) -> Result<Arc<ClientIdentity>> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::default();
        ca.distinguished_name = user.issuer.clone();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.serial_number = Some(random_serial());
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate()?;
        let cert = leaf_params(
            user.subject.clone(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        )
        .signed_by(&key, &issuer)?;
        self.store("unknown-ca", cert.pem(), cert.der().clone(), &key)
    }

    /// A certificate from the user's test CA, unlike a valid one only in `variant`.
    pub fn from_ca(&self, user: &UserCert, variant: Variant) -> Result<Arc<ClientIdentity>> {
        let issuer = self
            .ca
            .as_ref()
            .ok_or_else(|| anyhow!("no test CA (--client-ca-cert/--client-ca-key)"))?;
        let mut subject = user.subject.clone();
        let mut eku = vec![ExtendedKeyUsagePurpose::ClientAuth];
        match variant {
            Variant::SameSubject | Variant::Expired => {}
            Variant::ServerAuthOnly => eku = vec![ExtendedKeyUsagePurpose::ServerAuth],
            Variant::Unmapped => {
                let cn = format!(
                    "authprobe-unmapped-{:06x}",
                    rand::random::<u32>() & 0xff_ffff
                );
                subject = replace_cn(&user.subject, &cn);
            }
        }
        let mut params = leaf_params(subject, eku);
        if variant == Variant::Expired {
            let now = SystemTime::now();
            params.not_before = (now - Duration::from_secs(31 * 86400)).into();
            params.not_after = (now - Duration::from_secs(86400)).into();
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, issuer)?;
        self.store(variant.file_stem(), cert.pem(), cert.der().clone(), &key)
    }

    fn store(
        &self,
        stem: &str,
        cert_pem: String,
        cert_der: CertificateDer<'static>,
        key: &KeyPair,
    ) -> Result<Arc<ClientIdentity>> {
        let cert_path = self.dir.join(format!("{stem}.pem"));
        let key_path = self.dir.join(format!("{stem}.key"));
        if self.reused {
            // write_private refuses to follow an existing file; in the user's own
            // directory a previous run's key is simply replaced.
            let _ = std::fs::remove_file(&key_path);
        }
        std::fs::write(&cert_path, cert_pem)
            .with_context(|| format!("writing {}", cert_path.display()))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok(Arc::new(ClientIdentity::new(
            vec![cert_der],
            der,
            &cert_path,
            &key_path,
        )?))
    }
}

/// `subject` with its CN set to `cn` (added when it had none).
fn replace_cn(subject: &DistinguishedName, cn: &str) -> DistinguishedName {
    let mut out = DistinguishedName::new();
    let mut done = false;
    for (ty, value) in subject.iter() {
        if *ty == DnType::CommonName {
            out.push(DnType::CommonName, cn);
            done = true;
        } else {
            out.push(ty.clone(), value.clone());
        }
    }
    if !done {
        out.push(DnType::CommonName, cn);
    }
    out
}

/// Creates `dir` (and its parents), private to the user when it is new. An existing
/// directory keeps its mode: it may be the user's own (`--keep-artifacts .`).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = crate::load::files::create_private(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}

fn load_ca(cert: &Path, key: &Path) -> Result<Issuer<'static, KeyPair>> {
    let cert_pem = crate::load::files::read_pem_text(cert, "--client-ca-cert")?;
    let key_pem = crate::load::files::read_pem_text(key, "--client-ca-key")?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| {
        anyhow!(
            "--client-ca-key {} is not a PEM private key rcgen can sign with: {e}",
            key.display()
        )
    })?;
    Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| {
        anyhow!(
            "--client-ca-cert {} is not a PEM certificate: {e}",
            cert.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_files(dir: &Path) -> (PathBuf, PathBuf, UserCert) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, "Test CA");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = p.self_signed(&key).unwrap();
        let cert = dir.join("ca.pem");
        let keyp = dir.join("ca.key");
        std::fs::write(&cert, ca.pem()).unwrap();
        std::fs::write(&keyp, key.serialize_pem()).unwrap();
        let issuer = Issuer::new(p, key);
        let mut subject = DistinguishedName::new();
        subject.push(DnType::OrganizationName, "Example");
        subject.push(DnType::CommonName, "alice");
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params(subject, vec![ExtendedKeyUsagePurpose::ClientAuth])
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        (cert, keyp, UserCert::parse(leaf.der()).unwrap())
    }

    fn parsed(id: &ClientIdentity) -> (String, String, bool, bool, bool) {
        let (_, c) = x509_parser::parse_x509_certificate(&id.chain[0]).unwrap();
        let eku = c.extended_key_usage().unwrap().map(|e| e.value.clone());
        (
            c.subject().to_string(),
            c.issuer().to_string(),
            c.validity().is_valid(),
            eku.as_ref().is_some_and(|e| e.client_auth),
            eku.as_ref().is_some_and(|e| e.server_auth),
        )
    }

    #[test]
    fn each_variant_differs_in_one_way() {
        let tmp = tempfile::tempdir().unwrap();
        let (cert, key, user) = ca_files(tmp.path());
        assert_eq!(user.common_name.as_deref(), Some("alice"));
        let m = Minter::new(Some((&cert, &key))).unwrap();

        let same = m.from_ca(&user, Variant::SameSubject).unwrap();
        assert_eq!(
            parsed(&same),
            (
                user.subject_text.clone(),
                "CN=Test CA".into(),
                true,
                true,
                false
            )
        );
        let expired = parsed(&m.from_ca(&user, Variant::Expired).unwrap());
        assert!(!expired.2 && expired.3);
        let eku = parsed(&m.from_ca(&user, Variant::ServerAuthOnly).unwrap());
        assert!(eku.2 && !eku.3 && eku.4);
        let unmapped = parsed(&m.from_ca(&user, Variant::Unmapped).unwrap());
        assert!(
            unmapped.0.contains("CN=authprobe-unmapped-"),
            "{}",
            unmapped.0
        );
        assert!(unmapped.0.contains("O=Example"));

        let selfs = parsed(&m.self_signed(&user).unwrap());
        assert_eq!(selfs.0, selfs.1);
        let other = m.other_ca(&user).unwrap();
        let o = parsed(&other);
        // Same names as a real one; only a signature check tells them apart.
        assert_eq!(
            (o.0.as_str(), o.1.as_str()),
            (user.subject_text.as_str(), "CN=Test CA")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&other.key_path)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "minted keys are private");
        }
        std::fs::remove_dir_all(m.dir()).unwrap();
    }

    #[test]
    fn the_crl_revokes_the_minted_certificate() {
        let tmp = tempfile::tempdir().unwrap();
        let (cert, key, user) = ca_files(tmp.path());
        let out = tmp.path().join("out");
        let m = Minter::in_dir((&cert, &key), &out).unwrap();
        let (id, crl) = m.revoked_with_crl(&user).unwrap();
        let pem = std::fs::read(&crl).unwrap();
        let (_, der) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&der.contents).unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&id.chain[0]).unwrap();
        assert_eq!(crl.issuer().to_string(), "CN=Test CA");
        assert!(
            crl.iter_revoked_certificates()
                .any(|r| r.raw_serial() == leaf.raw_serial())
        );
        assert_eq!(leaf.subject().to_string(), user.subject_text);
    }

    #[test]
    fn without_a_ca_only_the_untrusted_kinds_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _, user) = ca_files(tmp.path());
        let m = Minter::new(None).unwrap();
        assert!(m.from_ca(&user, Variant::Expired).is_err());
        assert!(m.self_signed(&user).is_ok());
        std::fs::remove_dir_all(m.dir()).unwrap();
    }
}
