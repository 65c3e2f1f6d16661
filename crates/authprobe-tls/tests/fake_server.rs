//! The prober against misbehaving servers on 127.0.0.1: silence, garbage,
//! floods, early close, and a pick that was never offered. Each must end in
//! a refusal or an error within the step timeout, never a hang or a panic.

use authprobe_tls::msgs::record::{handshake_bytes, records};
use authprobe_tls::{Error, Outcome, ProbeOptions, Prober, ReadUntil, Refusal, TlsVersion};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves every connection with `behave` after reading some of the hello.
async fn serve<F, Fut>(behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            tokio::spawn(behave(s));
        }
    });
    addr
}

fn prober(addr: SocketAddr) -> Prober {
    Prober::new(
        addr,
        Some("localhost"),
        ProbeOptions {
            step_timeout: Duration::from_millis(300),
            ..ProbeOptions::default()
        },
    )
}

async fn one(addr: SocketAddr) -> Result<Outcome, Error> {
    let p = prober(addr);
    let hello = p.client_hello(TlsVersion::Tls12, &[0xc02f, 0x002f]);
    tokio::time::timeout(
        Duration::from_secs(5),
        p.exchange(&hello, ReadUntil::ServerHelloDone),
    )
    .await
    .expect("bounded by the step timeout")
}

fn server_hello(suite: u16) -> Vec<u8> {
    let mut sh = vec![3, 3];
    sh.extend([1; 32]);
    sh.push(0);
    sh.extend(suite.to_be_bytes());
    sh.extend([0, 0, 0]);
    records(22, 0x0303, &handshake_bytes(2, &sh).unwrap())
}

#[tokio::test]
async fn silent_server_is_a_timeout_refusal() {
    let addr = serve(|s| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(s);
    })
    .await;
    assert_eq!(one(addr).await.unwrap(), Outcome::Refused(Refusal::Timeout));
}

#[tokio::test]
async fn closing_server_is_a_closed_refusal() {
    let addr = serve(|s| async move { drop(s) }).await;
    assert_eq!(one(addr).await.unwrap(), Outcome::Refused(Refusal::Closed));
}

#[tokio::test]
async fn http_answer_is_a_decode_error() {
    let addr = serve(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    })
    .await;
    assert!(matches!(one(addr).await, Err(Error::Decode(_))));
}

#[tokio::test]
async fn flood_is_cut_at_the_flight_limit() {
    // A handshake record stream that never completes a message: the reader
    // must stop at the byte cap instead of buffering forever.
    let addr = serve(|mut s| async move {
        let mut hs = vec![11, 0x03, 0xff, 0xff];
        hs.extend(vec![0u8; 16_000]);
        let _ = s.write_all(&records(22, 0x0303, &hs)).await;
        let chunk = records(22, 0x0303, &vec![0u8; 16_000]);
        for _ in 0..40 {
            if s.write_all(&chunk).await.is_err() {
                break;
            }
        }
    })
    .await;
    let p = Prober::new(
        addr,
        None,
        ProbeOptions {
            step_timeout: Duration::from_secs(2),
            max_flight_bytes: 64 * 1024,
            ..ProbeOptions::default()
        },
    );
    let hello = p.client_hello(TlsVersion::Tls12, &[0x002f]);
    let r = p.exchange(&hello, ReadUntil::ServerHelloDone).await;
    assert!(matches!(r, Err(Error::Decode(_))), "{r:?}");
}

#[tokio::test]
async fn alert_is_reported_with_its_name() {
    let addr = serve(|mut s| async move {
        let _ = s.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
    })
    .await;
    match one(addr).await.unwrap() {
        Outcome::Refused(Refusal::Alert(a)) => {
            assert_eq!(a.to_string(), "fatal alert handshake_failure")
        }
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn unoffered_pick_stops_elimination_with_an_error() {
    // Always picks 0x0005, which is never in the offer: elimination must not loop.
    let addr = serve(|mut s| async move {
        let _ = s.write_all(&server_hello(0x0005)).await;
    })
    .await;
    let p = prober(addr);
    let r = p
        .enumerate_suites(TlsVersion::Tls12, &[0xc02f, 0x002f])
        .await;
    assert!(matches!(r, Err(Error::NotOffered(5))), "{r:?}");
    assert_eq!(p.handshakes(), 1);
}

#[tokio::test]
async fn elimination_against_a_scripted_server() {
    // Accepts 0x002f and 0xc02f (preferring 0xc02f), refuses anything else,
    // deciding from the real ClientHello bytes.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                // Read the whole first record.
                while n < 5 || n < 5 + usize::from(u16::from_be_bytes([buf[3], buf[4]])) {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                // record(5) + hs header(4) + version(2) + random(32) + sid
                let sid = usize::from(buf[43]);
                let at = 44 + sid;
                let len = usize::from(u16::from_be_bytes([buf[at], buf[at + 1]]));
                let offered: Vec<u16> = buf[at + 2..at + 2 + len]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                let pick = [0xc02f, 0x002f].into_iter().find(|c| offered.contains(c));
                let reply = match pick {
                    Some(c) => server_hello(c),
                    None => vec![21, 3, 3, 0, 2, 2, 40],
                };
                let _ = s.write_all(&reply).await;
            });
        }
    });
    let p = prober(addr);
    let candidates: Vec<u16> = authprobe_tls::suites::codes_for(TlsVersion::Tls12);
    let found = p
        .enumerate_suites(TlsVersion::Tls12, &candidates)
        .await
        .unwrap();
    // Two candidate bundles (128 + rest): one accepted in each, plus one
    // refusal per bundle. Discovery order follows the bundles.
    assert_eq!(found, vec![0x002f, 0xc02f]);
    assert_eq!(p.handshakes(), 2 + 2);
    // The server's favourite is the last one found: offering both orders
    // tells it apart from a server following the client.
    assert_eq!(
        p.server_preference(TlsVersion::Tls12, &found)
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(p.handshakes(), 6);

    // The full scan re-ranks across bundles and recovers the server's order.
    let p = Prober::new(
        addr,
        None,
        ProbeOptions {
            step_timeout: Duration::from_millis(300),
            versions: vec![TlsVersion::Tls12],
            ..ProbeOptions::default()
        },
    );
    let report = p.scan().await;
    let order: Vec<u16> = report.protocols[0].suites.iter().map(|s| s.code).collect();
    assert_eq!(order, vec![0xc02f, 0x002f]);
    assert_eq!(report.protocols[0].server_enforces_order, Some(true));
}
