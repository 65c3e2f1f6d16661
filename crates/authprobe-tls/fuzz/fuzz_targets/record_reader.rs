//! Bytes as a server would send them, cut into pieces at fuzzer-chosen
//! points, through the record reader and the flight interpreter.
#![no_main]

use authprobe_tls::TlsVersion;
use authprobe_tls::msgs::record::Deframer;
use authprobe_tls::probe::{FlightReader, ReadUntil, Refusal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let version = TlsVersion::ALL[usize::from(ctl & 7) % 5];
    let until = if ctl & 8 == 0 {
        ReadUntil::ServerHello
    } else {
        ReadUntil::ServerHelloDone
    };
    // Piece size from the control byte: exercises reassembly at every offset.
    let piece = usize::from(ctl >> 4) + 1;

    let mut reader = FlightReader::new(version, until, 64 * 1024);
    for chunk in rest.chunks(piece) {
        if reader.push(chunk).is_err() {
            break;
        }
        match reader.drain() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) => {}
        }
    }
    let _ = reader.finish(Refusal::Closed);

    let mut d = Deframer::new(64 * 1024);
    if d.push(rest).is_ok() {
        while let Ok(Some(_)) = d.next_message() {}
    }
});
