//! Hostile input: random, truncated and mutated bytes must give errors, never
//! panics, in every parser and in the record reader. Seeded, bounded counts.

use authprobe_tls::TlsVersion;
use authprobe_tls::msgs::handshake::{
    Alert, CertificateRequest, ServerKeyExchange, parse_certificate_chain,
};
use authprobe_tls::msgs::hello::{HRR_RANDOM, ServerHello};
use authprobe_tls::msgs::record::{Deframer, handshake_bytes, records};
use authprobe_tls::probe::{FlightReader, ReadUntil, Refusal};
use authprobe_tls::suites::KeyExchange;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const KXS: [KeyExchange; 6] = [
    KeyExchange::Rsa,
    KeyExchange::Dh,
    KeyExchange::Dhe,
    KeyExchange::Ecdh,
    KeyExchange::Ecdhe,
    KeyExchange::Tls13,
];

fn parse_everything(data: &[u8]) {
    let _ = ServerHello::parse(data);
    let _ = Alert::parse(data);
    let _ = parse_certificate_chain(data);
    for v in TlsVersion::ALL {
        let _ = CertificateRequest::parse(data, v);
    }
    for kx in KXS {
        let _ = ServerKeyExchange::parse(data, kx);
    }
    let mut d = Deframer::new(64 * 1024);
    if d.push(data).is_ok() {
        while let Ok(Some(_)) = d.next_message() {}
    }
    for until in [ReadUntil::ServerHello, ReadUntil::ServerHelloDone] {
        for v in [TlsVersion::Tls10, TlsVersion::Tls12, TlsVersion::Tls13] {
            let mut r = FlightReader::new(v, until, 64 * 1024);
            if r.push(data).is_ok() {
                let _ = r.drain();
            }
            let _ = r.finish(Refusal::Closed);
        }
    }
}

/// Valid messages to mutate: a TLS 1.2 ServerHello, an HRR, a
/// CertificateRequest, both ServerKeyExchange shapes and a chain, and
/// a whole server flight of records built from them.
fn seeds() -> Vec<Vec<u8>> {
    let mut sh = vec![3, 3];
    sh.extend([0x42; 32]);
    sh.extend([0, 0xc0, 0x2f, 0, 0, 9, 0xff, 1, 0, 1, 0, 0, 23, 0, 0]);
    let mut hrr = vec![3, 3];
    hrr.extend(HRR_RANDOM);
    hrr.extend([
        0, 0x13, 1, 0, 0, 12, 0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 0x1d,
    ]);
    let cr = vec![
        2, 1, 64, 0, 4, 4, 1, 4, 3, 0, 17, 0, 15, 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
        0x55, 0x04, 0x03, 0x0c, 0x02, b'C', b'A',
    ];
    let mut ecdhe = vec![3, 0, 0x1d, 32];
    ecdhe.extend([7; 32]);
    ecdhe.extend([8, 4, 0, 2, 1, 2]);
    let mut dhe = vec![0, 4, 0xff, 0xff, 0xff, 0xfb, 0, 1, 2, 0, 2, 9, 9];
    dhe.extend([8, 4, 0, 1, 1]);
    let chain = vec![0, 0, 9, 0, 0, 2, 0x30, 0, 0, 0, 1, 0x30];
    let mut flight = Vec::new();
    for (t, b) in [
        (2u8, &sh),
        (11, &chain),
        (12, &ecdhe),
        (13, &cr),
        (14, &vec![]),
    ] {
        flight.extend(handshake_bytes(t, b).unwrap());
    }
    let mut wire = records(22, 0x0303, &flight[..40]);
    wire.extend(records(22, 0x0303, &flight[40..]));
    let mut wire13 = records(22, 0x0303, &handshake_bytes(2, &hrr).unwrap());
    wire13.extend([20, 3, 3, 0, 1, 1, 21, 3, 3, 0, 2, 2, 40]);
    vec![sh, hrr, cr, ecdhe, dhe, chain, wire, wire13]
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for _ in 0..20_000 {
        let len = rng.random_range(0..400);
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        // Bias toward plausible record headers so the deframer gets past byte 0.
        if len > 3 && rng.random_bool(0.5) {
            data[0] = rng.random_range(20..=24);
            data[1] = 3;
        }
        parse_everything(&data);
    }
}

#[test]
fn truncations_of_valid_messages_are_errors_or_prefix_valid() {
    for seed in seeds() {
        for n in 0..=seed.len() {
            parse_everything(&seed[..n]);
        }
    }
    // A ServerHello cut anywhere inside its extensions block is an error.
    let sh = &seeds()[0];
    for n in 39..sh.len() {
        assert!(ServerHello::parse(&sh[..n]).is_err(), "prefix {n}");
    }
}

#[test]
fn mutations_of_valid_messages_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    let seeds = seeds();
    for _ in 0..30_000 {
        let mut data = seeds[rng.random_range(0..seeds.len())].clone();
        for _ in 0..rng.random_range(1..4) {
            if data.is_empty() {
                break;
            }
            let i = rng.random_range(0..data.len());
            match rng.random_range(0..4) {
                0 => data[i] ^= 1 << rng.random_range(0..8),
                1 => data[i] = [0, 0xff, 0x7f, 0x80][rng.random_range(0..4)],
                2 => {
                    data.remove(i);
                }
                _ => data.insert(i, rng.random()),
            }
        }
        parse_everything(&data);
    }
}

#[test]
fn flight_reader_handles_valid_flight_fed_in_random_pieces() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    let wire = seeds()[6].clone();
    for _ in 0..500 {
        let mut r = FlightReader::new(TlsVersion::Tls12, ReadUntil::ServerHelloDone, 64 * 1024);
        let mut pos = 0;
        let mut outcome = None;
        while pos < wire.len() && outcome.is_none() {
            let n = rng.random_range(1..=(wire.len() - pos).min(9));
            r.push(&wire[pos..pos + n]).unwrap();
            pos += n;
            outcome = r.drain().unwrap();
        }
        match outcome.expect("decided") {
            authprobe_tls::Outcome::Accepted(f) => {
                assert!(f.complete);
                assert_eq!(f.server_hello.cipher_suite, 0xc02f);
                assert_eq!(f.certificates.unwrap().len(), 2);
                assert!(f.certificate_request.is_some());
                assert!(matches!(
                    f.key_exchange,
                    Some(ServerKeyExchange::Ecdhe { .. })
                ));
            }
            o => panic!("{o:?}"),
        }
    }
}
