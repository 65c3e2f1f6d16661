//! `authprobe tls`: the TLS facts gathered up front, with no HTTP scan around them, and
//! every check that has a verdict over them alone evaluated as a full scan evaluates it.

use super::{Folded, ScanError};
use crate::facts::tls::{GatherOptions, TlsTarget, gather};
use crate::http::TlsSettings;
use crate::report::{Report, tls::TlsSection};
use std::time::{Instant, SystemTime};

/// What `authprobe tls` probes and how.
#[derive(Clone, Debug)]
pub struct TlsScanOptions {
    pub target: TlsTarget,
    /// The trust anchors the chain is judged against (`--server-ca`, else the system's).
    pub tls: TlsSettings,
    pub gather: GatherOptions,
}

/// Probes one TLS endpoint and evaluates every transport check on what it saw: the
/// report `authprobe tls` prints. It sends no HTTP request.
pub async fn tls_scan(opts: &TlsScanOptions) -> Result<Report, ScanError> {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let facts = gather(&opts.target, &opts.tls, &opts.gather)
        .await
        .map_err(ScanError::Unreachable)?;
    let outcomes = crate::checks::tls_verdicts()
        .into_iter()
        .map(|(meta, verdict)| (meta, verdict(&facts)))
        .collect();
    let folded = Folded::from_outcomes(outcomes);
    Ok(Report::build(
        opts.target.display(),
        0,
        started_at,
        clock.elapsed(),
        folded.findings,
        folded.run,
        folded.skipped,
        folded.inconclusive,
        Some(TlsSection::from_facts(&facts)),
    ))
}
