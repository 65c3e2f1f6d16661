//! The HTTP layer's safety limits against hostile loopback servers: an endless body is
//! cut at the cap, a silent server times out, the budget is never exceeded, redirects are
//! not followed, the scan's deadline cuts everything, a host that keeps timing out is
//! given up, and no rate panics.

use authprobe::http::{Http, Limits, Probe, SendError, TlsSettings, TransportError};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every connection with `respond` (after reading the request head).
async fn server(respond: fn() -> Vec<u8>, endless: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                if s.write_all(&respond()).await.is_err() {
                    return;
                }
                if endless {
                    let chunk = vec![b'A'; 64 * 1024];
                    // Bounded so the test cannot run away even if the client never stops.
                    for _ in 0..1024 {
                        if s.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

fn limits() -> Limits {
    Limits {
        concurrency: 4,
        rate: 0.0,
        max_requests: 10,
        timeout: Duration::from_millis(800),
        max_body: 100_000,
        max_time: Duration::from_secs(60),
        max_timeouts_per_host: 3,
    }
}

/// A listener that accepts connections and never answers; the handle stops it.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (url, hold)
}

#[tokio::test]
async fn endless_body_is_cut_at_the_cap() {
    let url = server(
        || b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec(),
        true,
    )
    .await;
    let http = Http::new(limits(), TlsSettings::default());
    let a = http
        .send(&Probe::new("GET", url.parse().unwrap()))
        .await
        .expect("answer");
    assert_eq!(a.status, 200);
    assert!(a.truncated);
    assert_eq!(a.body.len(), 100_000);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    // Accept and hold the connection without ever answering.
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    let http = Http::new(limits(), TlsSettings::default());
    let started = Instant::now();
    let err = http
        .send(&Probe::new("GET", url.parse().unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Transport(TransportError::Timeout(_))),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    hold.abort();
}

#[tokio::test]
async fn the_budget_is_never_exceeded() {
    let url = server(
        || b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        false,
    )
    .await;
    let mut l = limits();
    l.max_requests = 3;
    let http = Http::new(l, TlsSettings::default());
    let probe = Probe::new("GET", url.parse().unwrap());
    for _ in 0..3 {
        assert!(http.send(&probe).await.is_ok());
    }
    assert!(matches!(http.send(&probe).await, Err(SendError::Budget(3))));
    assert_eq!(http.requests_sent(), 3);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let url = server(
        || b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec(),
        false,
    )
    .await;
    let http = Http::new(limits(), TlsSettings::default());
    let a = http
        .send(&Probe::new("GET", url.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(a.status, 302);
    assert_eq!(a.header("location"), Some("http://127.0.0.1:1/elsewhere"));
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_error_not_a_panic() {
    let url = server(
        || b"\x16\x03\x01\x00\x05hello\xff\xfe garbage".to_vec(),
        false,
    )
    .await;
    let http = Http::new(limits(), TlsSettings::default());
    let r = http.send(&Probe::new("GET", url.parse().unwrap())).await;
    assert!(r.is_err(), "{r:?}");
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let url = server(
        || b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        false,
    )
    .await;
    let mut l = limits();
    l.rate = 20.0; // one request every 50 ms
    let http = Http::new(l, TlsSettings::default());
    let probe = Probe::new("GET", url.parse().unwrap());
    let started = Instant::now();
    for _ in 0..5 {
        http.send(&probe).await.unwrap();
    }
    // Four intervals must have passed: a lower bound, so machine load cannot fail it.
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn the_deadline_cuts_a_request_in_flight_and_refuses_the_next_at_once() {
    let (url, hold) = silent_server().await;
    let mut l = limits();
    l.timeout = Duration::from_secs(30);
    l.max_time = Duration::from_millis(400);
    let http = Http::new(l, TlsSettings::default());
    let probe = Probe::new("GET", url.parse().unwrap());
    let started = Instant::now();
    let err = http.send(&probe).await.unwrap_err();
    assert!(matches!(err, SendError::Deadline(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        err.to_string(),
        "scan time limit of 400ms reached (--max-time)"
    );
    let again = Instant::now();
    let err = http.send(&probe).await.unwrap_err();
    assert!(matches!(err, SendError::Deadline(_)), "{err:?}");
    assert!(again.elapsed() < Duration::from_millis(50));
    // A refused request is not counted as sent.
    assert_eq!(http.requests_sent(), 1);
    hold.abort();
}

#[tokio::test]
async fn a_host_that_keeps_timing_out_is_given_up_and_others_are_not() {
    let (silent, hold) = silent_server().await;
    let ok = server(
        || b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        false,
    )
    .await;
    let mut l = limits();
    l.timeout = Duration::from_millis(200);
    let http = Http::new(l, TlsSettings::default());
    let probe = Probe::new("GET", silent.parse().unwrap());
    for _ in 0..3 {
        let err = http.send(&probe).await.unwrap_err();
        assert!(
            matches!(err, SendError::Transport(TransportError::Timeout(_))),
            "{err:?}"
        );
    }
    let started = Instant::now();
    let err = http.send(&probe).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(50));
    match &err {
        SendError::HostDown { timeouts, .. } => assert_eq!(*timeouts, 3),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("stopped answering: 3 consecutive timeouts"),
        "{err}"
    );
    // Another host is not affected.
    assert!(
        http.send(&Probe::new("GET", ok.parse().unwrap()))
            .await
            .is_ok()
    );
    hold.abort();
}

#[tokio::test]
async fn an_answer_resets_the_timeout_count() {
    let ok = server(
        || b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        false,
    )
    .await;
    let mut l = limits();
    l.max_timeouts_per_host = 1;
    let http = Http::new(l, TlsSettings::default());
    // Answers never count, however many.
    for _ in 0..5 {
        assert!(
            http.send(&Probe::new("GET", ok.parse().unwrap()))
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn an_absurd_rate_is_no_panic_and_no_hang() {
    let url = server(
        || b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        false,
    )
    .await;
    for rate in [
        1e-300,
        f64::MIN_POSITIVE,
        1e300,
        f64::INFINITY,
        f64::NAN,
        -1.0,
    ] {
        let mut l = limits();
        l.rate = rate;
        l.max_time = Duration::from_secs(2);
        let http = Http::new(l, TlsSettings::default());
        let probe = Probe::new("GET", url.parse().unwrap());
        let started = Instant::now();
        // The first request goes at once; under a rate of one per 1e300 s the second
        // would come after the deadline, so it is refused at once instead of slept for.
        assert!(http.send(&probe).await.is_ok(), "rate {rate}");
        let second = http.send(&probe).await;
        if rate < 1.0 && rate > 0.0 {
            assert!(
                matches!(second, Err(SendError::Deadline(_))),
                "rate {rate}: {second:?}"
            );
        } else {
            assert!(second.is_ok(), "rate {rate}: {second:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(1), "rate {rate}");
    }
}
