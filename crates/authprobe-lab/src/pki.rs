//! The lab's certificate authority: one CA issues the server certificate and the client
//! certificates, so a single `ca_cert` file lets a client trust the server and lets the
//! server verify clients, as many internal deployments do.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::time::{Duration, SystemTime};

/// A certificate with its private key, in both forms the lab needs (PEM files for users,
/// DER for rustls).
pub struct Issued {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_pem: String,
    pub key_der: Vec<u8>,
    /// What a CRL names the certificate by.
    pub serial: SerialNumber,
}

impl Issued {
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

pub struct LabCa {
    pub issued: Issued,
    issuer: Issuer<'static, KeyPair>,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "authprobe lab");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A random positive serial of 16 bytes (RFC 5280 allows 20): unique per certificate, so
/// a CRL entry revokes exactly one of several certificates with the same subject. The top
/// bit clear keeps the DER INTEGER positive, the next one set keeps it minimal.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn validity(params: &mut CertificateParams, not_before: SystemTime, not_after: SystemTime) {
    params.not_before = not_before.into();
    params.not_after = not_after.into();
}

impl LabCa {
    pub fn generate() -> Result<Self> {
        let key = KeyPair::generate().context("generating the lab CA key")?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn("authprobe lab CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.serial_number = Some(random_serial());
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = SystemTime::now();
        validity(
            &mut params,
            now - Duration::from_secs(3600),
            now + Duration::from_secs(30 * 86400),
        );
        let cert = params
            .self_signed(&key)
            .context("self-signing the lab CA")?;
        let issued = Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
            serial: params.serial_number.clone().unwrap_or_else(random_serial),
        };
        Ok(Self {
            issued,
            issuer: Issuer::new(params, key),
        })
    }

    /// The TLS server certificate for the loopback listeners.
    pub fn server_cert(&self) -> Result<Issued> {
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse()?));
        params.distinguished_name = dn("localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = SystemTime::now();
        validity(
            &mut params,
            now - Duration::from_secs(3600),
            now + Duration::from_secs(7 * 86400),
        );
        self.sign(params)
    }

    /// A client certificate whose subject CN names a lab user.
    pub fn client_cert(&self, common_name: &str) -> Result<Issued> {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = SystemTime::now();
        validity(
            &mut params,
            now - Duration::from_secs(3600),
            now + Duration::from_secs(7 * 86400),
        );
        self.sign(params)
    }

    /// A CRL signed by the CA that revokes `revoked` for key compromise, valid for a week
    /// from an hour ago (as long as the certificates it speaks of).
    pub fn crl(&self, revoked: &[&Issued]) -> Result<rcgen::CertificateRevocationList> {
        let now = SystemTime::now();
        let an_hour_ago = now - Duration::from_secs(3600);
        let params = CertificateRevocationListParams {
            this_update: an_hour_ago.into(),
            next_update: (now + Duration::from_secs(7 * 86400)).into(),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|c| RevokedCertParams {
                    serial_number: c.serial.clone(),
                    revocation_time: an_hour_ago.into(),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.issuer)
            .context("signing the lab CRL")
    }

    fn sign(&self, mut params: CertificateParams) -> Result<Issued> {
        let key = KeyPair::generate()?;
        let serial = random_serial();
        params.serial_number = Some(serial.clone());
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
            serial,
        })
    }
}
