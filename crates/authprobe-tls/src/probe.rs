//! Probing over TCP: one ClientHello per connection, read the server's first
//! flight, hang up. No handshake is ever completed.
//!
//! Enumeration is by elimination: offer a bundle, remove what the server
//! picks, offer the rest again, until it refuses. That costs accepted + 1
//! handshakes per bundle instead of one per candidate.

use crate::error::{Error, InvalidMessage};
use crate::msgs::enums::{NamedGroup, TlsVersion, handshake_type as hs};
use crate::msgs::handshake::{
    Alert, CertificateRequest, ServerKeyExchange, parse_certificate_chain,
};
use crate::msgs::hello::{ClientHello, ServerHello};
use crate::msgs::record::{DEFAULT_FLIGHT_LIMIT, Deframer, Message};
use crate::suites::{self, KeyExchange};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout, timeout_at};

/// Tuning knobs. The defaults suit an API server on a normal network.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Bound on the TCP connect, and separately on everything after it
    /// (writing the ClientHello and reading the server's flight).
    pub step_timeout: Duration,
    /// Connections in flight at once (ignored when a shared limiter is given).
    pub max_concurrency: usize,
    /// Most suites offered in one ClientHello. Some servers and middleboxes
    /// fail on hellos with more than 128 suites or over 255/511 bytes, so
    /// larger candidate lists are split and the results merged.
    pub bundle_size: usize,
    /// Most bytes accepted from the server in one probe.
    pub max_flight_bytes: usize,
    /// Versions probed by [`Prober::scan`].
    pub versions: Vec<TlsVersion>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            step_timeout: Duration::from_secs(5),
            max_concurrency: 4,
            bundle_size: 128,
            max_flight_bytes: DEFAULT_FLIGHT_LIMIT,
            versions: TlsVersion::ALL.to_vec(),
        }
    }
}

/// How far into the server's flight to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadUntil {
    /// Enough to learn version, suite and (TLS 1.3) group.
    ServerHello,
    /// TLS <= 1.2: also Certificate, ServerKeyExchange and CertificateRequest.
    ServerHelloDone,
}

/// What the server sent in answer to one ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlight {
    pub server_hello: ServerHello,
    pub certificates: Option<Vec<Vec<u8>>>,
    pub key_exchange: Option<ServerKeyExchange>,
    pub certificate_request: Option<CertificateRequest>,
    /// ServerHelloDone was seen (TLS <= 1.2 with [`ReadUntil::ServerHelloDone`]).
    pub complete: bool,
}

/// Why the server did not take the offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Alert(Alert),
    /// The connection closed or was reset without an alert.
    Closed,
    /// No answer within the step timeout (some servers silently drop hellos
    /// they dislike, so this counts as a refusal, not an error).
    Timeout,
    /// The server answered with another protocol version than the one offered.
    OtherVersion(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted(Box<ServerFlight>),
    Refused(Refusal),
}

/// Probes one TLS endpoint. Cheap to share by reference between concurrent tasks.
#[derive(Debug)]
pub struct Prober {
    addr: SocketAddr,
    server_name: Option<String>,
    opts: ProbeOptions,
    limiter: Arc<Semaphore>,
    handshakes: AtomicU32,
}

impl Prober {
    pub fn new(addr: SocketAddr, server_name: Option<&str>, opts: ProbeOptions) -> Self {
        let limiter = Arc::new(Semaphore::new(opts.max_concurrency.max(1)));
        Prober {
            addr,
            server_name: server_name.map(str::to_owned),
            opts,
            limiter,
            handshakes: AtomicU32::new(0),
        }
    }

    /// Shares a connection limiter with the rest of the caller's scan, so
    /// that one per-host cap covers TLS probing and HTTP checks alike.
    pub fn with_limiter(mut self, limiter: Arc<Semaphore>) -> Self {
        self.limiter = limiter;
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    pub fn options(&self) -> &ProbeOptions {
        &self.opts
    }

    /// ClientHellos sent so far (one TCP connection each).
    pub fn handshakes(&self) -> u32 {
        self.handshakes.load(Ordering::Relaxed)
    }

    /// A ClientHello with this prober's server name.
    pub fn client_hello(&self, version: TlsVersion, suites: &[u16]) -> ClientHello {
        ClientHello::new(version, suites, self.server_name.as_deref())
    }

    /// Sends `hello` on a fresh connection and reads the answer.
    pub async fn exchange(&self, hello: &ClientHello, until: ReadUntil) -> Result<Outcome, Error> {
        let wire = hello.encode()?;
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| Error::LimiterClosed)?;
        self.handshakes.fetch_add(1, Ordering::Relaxed);

        let mut stream = match timeout(self.opts.step_timeout, TcpStream::connect(self.addr)).await
        {
            Err(_) => return Err(Error::ConnectTimeout(self.addr)),
            Ok(Err(source)) => {
                return Err(Error::Connect {
                    addr: self.addr,
                    source,
                });
            }
            Ok(Ok(s)) => s,
        };
        // Best effort: the hello is one write either way.
        let _ = stream.set_nodelay(true);
        let deadline = Instant::now() + self.opts.step_timeout;

        match timeout_at(deadline, stream.write_all(&wire)).await {
            Err(_) => return Ok(Outcome::Refused(Refusal::Timeout)),
            Ok(Err(e)) if is_hangup(&e) => return Ok(Outcome::Refused(Refusal::Closed)),
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(())) => {}
        }

        let mut reader = FlightReader::new(hello.version, until, self.opts.max_flight_bytes);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(outcome) = reader.drain()? {
                return Ok(outcome);
            }
            let n = match timeout_at(deadline, stream.read(&mut buf)).await {
                Err(_) => return Ok(reader.finish(Refusal::Timeout)),
                Ok(Ok(0)) => return Ok(reader.finish(Refusal::Closed)),
                Ok(Ok(n)) => n,
                Ok(Err(e)) if is_hangup(&e) => return Ok(reader.finish(Refusal::Closed)),
                Ok(Err(e)) => return Err(e.into()),
            };
            reader.push(&buf[..n])?;
        }
    }

    /// Does the server speak `version` with at least one suite of the table?
    pub async fn probe_protocol(&self, version: TlsVersion) -> Result<bool, Error> {
        for bundle in suites::codes_for(version).chunks(self.bundle_size()) {
            let hello = self.client_hello(version, bundle);
            if let Outcome::Accepted(_) = self.exchange(&hello, ReadUntil::ServerHello).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The candidates the server accepts under `version`, in the order it
    /// picked them (its preference order when it enforces one).
    pub async fn enumerate_suites(
        &self,
        version: TlsVersion,
        candidates: &[u16],
    ) -> Result<Vec<u16>, Error> {
        let e = self.enumerate_suites_inner(version, candidates).await;
        match e.error {
            Some(err) => Err(err),
            None => Ok(e.found),
        }
    }

    pub(crate) async fn enumerate_suites_inner(
        &self,
        version: TlsVersion,
        candidates: &[u16],
    ) -> Elimination {
        let mut total = Elimination::default();
        for bundle in candidates.chunks(self.bundle_size()) {
            let e = self
                .eliminate(
                    bundle.to_vec(),
                    |rest| self.client_hello(version, rest),
                    ReadUntil::ServerHello,
                    |f| Some(f.server_hello.cipher_suite),
                )
                .await;
            if !e.found.is_empty() {
                total.bundles_with_hits += 1;
            }
            total.found.extend(e.found);
            if e.error.is_some() {
                total.error = e.error;
                break;
            }
        }
        total
    }

    /// Whether the server imposes its own suite order: offer the accepted
    /// suites in order and reversed. A server following the client picks the
    /// first offered each time; one imposing its order picks the same suite
    /// both times. `None` with fewer than two suites, or when the answers fit
    /// neither pattern.
    pub async fn server_preference(
        &self,
        version: TlsVersion,
        accepted: &[u16],
    ) -> Result<Option<bool>, Error> {
        self.server_preference_inner(version, accepted, None).await
    }

    /// `forward_pick`: what the server chose when offered `accepted` in this
    /// order, if already known (a single-bundle elimination's first answer),
    /// which saves a handshake.
    pub(crate) async fn server_preference_inner(
        &self,
        version: TlsVersion,
        accepted: &[u16],
        forward_pick: Option<u16>,
    ) -> Result<Option<bool>, Error> {
        if accepted.len() < 2 {
            return Ok(None);
        }
        let n = self.bundle_size().min(accepted.len());
        let forward = &accepted[..n];
        let reversed: Vec<u16> = accepted.iter().rev().take(n).copied().collect();
        let pick = |order: Vec<u16>| async move {
            let hello = self.client_hello(version, &order);
            Ok::<_, Error>(match self.exchange(&hello, ReadUntil::ServerHello).await? {
                Outcome::Accepted(f) => Some(f.server_hello.cipher_suite),
                Outcome::Refused(_) => None,
            })
        };
        let Some(by_reverse) = pick(reversed.clone()).await? else {
            return Ok(None);
        };
        let by_forward = match forward_pick {
            Some(p) => p,
            None => match pick(forward.to_vec()).await? {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        Ok(if by_forward == forward[0] && by_reverse == reversed[0] {
            Some(false)
        } else if by_forward == by_reverse {
            Some(true)
        } else {
            None
        })
    }

    /// Groups the server accepts for key exchange, by elimination.
    ///
    /// TLS 1.3: the hello carries no key share, so the server must answer with
    /// a HelloRetryRequest naming its pick (or refuse). TLS 1.0-1.2: only
    /// ECDHE suites from `suites` are offered and the pick is read from the
    /// ServerKeyExchange.
    pub async fn enumerate_groups(
        &self,
        version: TlsVersion,
        suites: &[u16],
        candidates: &[NamedGroup],
    ) -> Result<Vec<NamedGroup>, Error> {
        let e = self
            .enumerate_groups_inner(version, suites, candidates)
            .await;
        match e.error {
            Some(err) => Err(err),
            None => Ok(e.found.into_iter().map(NamedGroup).collect()),
        }
    }

    pub(crate) async fn enumerate_groups_inner(
        &self,
        version: TlsVersion,
        suites: &[u16],
        candidates: &[NamedGroup],
    ) -> Elimination {
        let raw: Vec<u16> = candidates.iter().map(|g| g.0).collect();
        if version == TlsVersion::Tls13 {
            let suites: Vec<u16> = if suites.is_empty() {
                suites::codes_for(TlsVersion::Tls13)
            } else {
                suites.to_vec()
            };
            self.eliminate(
                raw,
                |rest| {
                    let mut h = self.client_hello(version, &suites);
                    h.groups = rest.iter().copied().map(NamedGroup).collect();
                    h.key_shares.clear();
                    h
                },
                ReadUntil::ServerHello,
                |f| f.server_hello.key_share_group.map(|g| g.0),
            )
            .await
        } else {
            let ecdhe: Vec<u16> = suites
                .iter()
                .copied()
                .filter(|c| {
                    suites::by_code(*c).is_some_and(|s| s.key_exchange == KeyExchange::Ecdhe)
                })
                .take(self.bundle_size())
                .collect();
            if ecdhe.is_empty() {
                return Elimination::default();
            }
            self.eliminate(
                raw,
                |rest| {
                    let mut h = self.client_hello(version, &ecdhe);
                    h.groups = rest.iter().copied().map(NamedGroup).collect();
                    h
                },
                ReadUntil::ServerHelloDone,
                |f| match f.key_exchange {
                    Some(ServerKeyExchange::Ecdhe { group, .. }) => Some(group.0),
                    _ => None,
                },
            )
            .await
        }
    }

    /// The server's TLS <= 1.2 flight up to ServerHelloDone: certificate
    /// chain, key exchange parameters and any CertificateRequest. `None` if
    /// the server refused. TLS 1.3 encrypts all of this, so a 1.3-only server
    /// has to be asked by a real TLS client instead.
    pub async fn fetch_flight(
        &self,
        version: TlsVersion,
        suites: &[u16],
    ) -> Result<Option<ServerFlight>, Error> {
        if version == TlsVersion::Tls13 || suites.is_empty() {
            return Ok(None);
        }
        let bundle: Vec<u16> = suites.iter().copied().take(self.bundle_size()).collect();
        let hello = self.client_hello(version, &bundle);
        match self.exchange(&hello, ReadUntil::ServerHelloDone).await? {
            Outcome::Accepted(f) => Ok(Some(*f)),
            Outcome::Refused(_) => Ok(None),
        }
    }

    fn bundle_size(&self) -> usize {
        self.opts.bundle_size.max(1)
    }

    /// Offers `remaining`, removes what `pick` reports the server chose, and
    /// repeats until the server refuses. Keeps what was found before an error.
    async fn eliminate(
        &self,
        mut remaining: Vec<u16>,
        make: impl Fn(&[u16]) -> ClientHello,
        until: ReadUntil,
        pick: impl Fn(&ServerFlight) -> Option<u16>,
    ) -> Elimination {
        let mut out = Elimination::default();
        while !remaining.is_empty() {
            let hello = make(&remaining);
            match self.exchange(&hello, until).await {
                Ok(Outcome::Accepted(flight)) => {
                    let Some(chosen) = pick(&flight) else { break };
                    match remaining.iter().position(|&c| c == chosen) {
                        Some(i) => {
                            remaining.remove(i);
                            out.found.push(chosen);
                        }
                        None => {
                            // Repeating the offer would loop forever.
                            out.error = Some(Error::NotOffered(chosen));
                            break;
                        }
                    }
                }
                Ok(Outcome::Refused(_)) => break,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        }
        out
    }
}

#[derive(Debug, Default)]
pub(crate) struct Elimination {
    pub found: Vec<u16>,
    pub bundles_with_hits: usize,
    pub error: Option<Error>,
}

fn is_hangup(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// Interprets the server's bytes as they arrive; separate from the socket
/// so that it can be driven by tests and the fuzzer.
#[derive(Debug)]
pub struct FlightReader {
    version: TlsVersion,
    until: ReadUntil,
    deframer: Deframer,
    flight: Option<ServerFlight>,
}

impl FlightReader {
    pub fn new(version: TlsVersion, until: ReadUntil, limit: usize) -> Self {
        FlightReader {
            version,
            until,
            deframer: Deframer::new(limit),
            flight: None,
        }
    }

    pub fn push(&mut self, data: &[u8]) -> Result<(), InvalidMessage> {
        self.deframer.push(data)
    }

    /// The outcome once the connection ends early: what we have, or `why`.
    pub fn finish(&mut self, why: Refusal) -> Outcome {
        match self.flight.take() {
            Some(f) => Outcome::Accepted(Box::new(f)),
            None => Outcome::Refused(why),
        }
    }

    /// Ends the read once a ServerHello has been seen: callers hold a flight,
    /// so this is `Accepted` (the fallback refusal is unreachable).
    fn settle(&mut self) -> Outcome {
        self.finish(Refusal::Closed)
    }

    /// Consumes buffered messages; `Some` once the outcome is decided.
    pub fn drain(&mut self) -> Result<Option<Outcome>, InvalidMessage> {
        while let Some(msg) = self.deframer.next_message()? {
            match msg {
                Message::Handshake(m) => {
                    let Some(flight) = self.flight.as_mut() else {
                        if m.typ != hs::SERVER_HELLO {
                            return Err(InvalidMessage::UnexpectedMessage("handshake message"));
                        }
                        let sh = ServerHello::parse(&m.body)?;
                        let v = sh.negotiated_version();
                        if v != self.version.wire() {
                            return Ok(Some(Outcome::Refused(Refusal::OtherVersion(v))));
                        }
                        // Past a TLS 1.3 ServerHello everything is encrypted.
                        let stop = self.until == ReadUntil::ServerHello
                            || self.version == TlsVersion::Tls13
                            || sh.is_hello_retry_request();
                        self.flight = Some(ServerFlight {
                            server_hello: sh,
                            certificates: None,
                            key_exchange: None,
                            certificate_request: None,
                            complete: false,
                        });
                        if stop {
                            return Ok(Some(self.settle()));
                        }
                        continue;
                    };
                    match m.typ {
                        hs::CERTIFICATE => {
                            flight.certificates = Some(parse_certificate_chain(&m.body)?);
                        }
                        hs::SERVER_KEY_EXCHANGE => {
                            let kx = suites::by_code(flight.server_hello.cipher_suite)
                                .map(|s| s.key_exchange);
                            flight.key_exchange = Some(match kx {
                                Some(kx) => ServerKeyExchange::parse(&m.body, kx)?,
                                None => ServerKeyExchange::Other,
                            });
                        }
                        hs::CERTIFICATE_REQUEST => {
                            flight.certificate_request =
                                Some(CertificateRequest::parse(&m.body, self.version)?);
                        }
                        hs::SERVER_HELLO_DONE => {
                            flight.complete = true;
                            return Ok(Some(self.settle()));
                        }
                        _ => {}
                    }
                }
                Message::Alert(a) => return Ok(Some(self.finish(Refusal::Alert(a)))),
                Message::ChangeCipherSpec | Message::ApplicationData(_) | Message::Other { .. } => {
                    if self.flight.is_none() {
                        return Err(InvalidMessage::UnexpectedMessage("non-handshake record"));
                    }
                    return Ok(Some(self.settle()));
                }
            }
        }
        Ok(None)
    }
}
