//! `authprobe mint-revoked`: with a test CA, a client certificate and the CRL revoking it.

use crate::cli::args::MintRevokedArgs;
use anyhow::Result;
use authprobe::load;

pub fn mint_revoked(a: MintRevokedArgs) -> Result<i32> {
    use authprobe::pki::{Minter, UserCert};
    // The minter reads the CA files whole: check they are PEM of a sane size first.
    load::check_client_ca(&a.client_ca_cert, &a.client_ca_key)?;
    let certs = load::load_certs(&a.subject_from, "--subject-from certificate")?;
    let user = UserCert::parse(&certs[0])?;
    let m = Minter::in_dir((&a.client_ca_cert, &a.client_ca_key), &a.out)?;
    let (id, crl) = m.revoked_with_crl(&user)?;
    println!(
        "Revoked certificate for {}: {} (key {})\nCRL revoking it: {}\n\nDeploy the CRL where client certificates are verified (nginx: ssl_crl {}; HAProxy: crl-file), reload, then scan with:\n  --revoked-cert {} --revoked-key {}",
        user.subject_text,
        id.cert_path.display(),
        id.key_path.display(),
        crl.display(),
        crl.display(),
        id.cert_path.display(),
        id.key_path.display()
    );
    Ok(0)
}
