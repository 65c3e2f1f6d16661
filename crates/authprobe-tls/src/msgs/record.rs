//! Record layer reading, without I/O: bytes go in with [`Deframer::push`],
//! whole messages come out of [`Deframer::next_message`].
//!
//! Handshake messages are reassembled across records (a Certificate message
//! routinely spans several) and several messages may share one record (a
//! ServerHello, Certificate and ServerHelloDone often do).

use super::codec::Reader;
use super::enums::content_type;
use super::handshake::Alert;
use crate::error::InvalidMessage;

/// RFC 5246 allows 2^14 bytes of plaintext plus 2048 of expansion.
pub const MAX_RECORD_PAYLOAD: usize = (1 << 14) + 2048;
pub const RECORD_HEADER_LEN: usize = 5;
/// Default cap on everything a peer may send during one probe.
pub const DEFAULT_FLIGHT_LIMIT: usize = 256 * 1024;

/// A handshake message with its 4-byte header removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    pub typ: u8,
    pub body: Vec<u8>,
}

/// What the peer sent, one unit at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Handshake(HandshakeMessage),
    Alert(Alert),
    ChangeCipherSpec,
    /// Encrypted or application data; only its size is kept.
    ApplicationData(usize),
    /// Heartbeat and other non-handshake types we skip over.
    Other {
        content_type: u8,
        len: usize,
    },
}

#[derive(Debug)]
pub struct Deframer {
    /// Received bytes not yet cut into records.
    raw: Vec<u8>,
    /// Concatenated handshake-record payloads not yet cut into messages.
    handshake: Vec<u8>,
    received: usize,
    limit: usize,
}

impl Default for Deframer {
    fn default() -> Self {
        Self::new(DEFAULT_FLIGHT_LIMIT)
    }
}

impl Deframer {
    /// `limit` bounds the total bytes accepted from the peer, so that a
    /// hostile server cannot make the prober buffer without end.
    pub fn new(limit: usize) -> Self {
        Self {
            raw: Vec::new(),
            handshake: Vec::new(),
            received: 0,
            limit,
        }
    }

    pub fn push(&mut self, data: &[u8]) -> Result<(), InvalidMessage> {
        self.received = self.received.saturating_add(data.len());
        if self.received > self.limit {
            return Err(InvalidMessage::FlightTooLarge(self.limit));
        }
        self.raw.extend_from_slice(data);
        Ok(())
    }

    pub fn received(&self) -> usize {
        self.received
    }

    /// True if bytes of an incomplete record or handshake message are pending.
    pub fn has_partial(&self) -> bool {
        !self.raw.is_empty() || !self.handshake.is_empty()
    }

    /// Returns the next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, InvalidMessage> {
        loop {
            if let Some(msg) = self.pop_handshake()? {
                return Ok(Some(Message::Handshake(msg)));
            }
            let Some((typ, payload)) = self.pop_record()? else {
                return Ok(None);
            };
            match typ {
                content_type::HANDSHAKE => {
                    self.handshake.extend_from_slice(&payload);
                }
                content_type::ALERT => {
                    // Only the first alert matters: a fatal one ends the connection.
                    return Alert::parse(&payload).map(|a| Some(Message::Alert(a)));
                }
                content_type::CHANGE_CIPHER_SPEC => return Ok(Some(Message::ChangeCipherSpec)),
                content_type::APPLICATION_DATA => {
                    return Ok(Some(Message::ApplicationData(payload.len())));
                }
                other => {
                    return Ok(Some(Message::Other {
                        content_type: other,
                        len: payload.len(),
                    }));
                }
            }
        }
    }

    fn pop_record(&mut self) -> Result<Option<(u8, Vec<u8>)>, InvalidMessage> {
        if self.raw.is_empty() {
            return Ok(None);
        }
        // Reject a non-TLS answer (an HTTP error page, SSLv2) from its first byte
        // rather than waiting for a header that will never make sense.
        let typ = self.raw[0];
        if !(content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(&typ) {
            return Err(InvalidMessage::UnknownContentType(typ));
        }
        if self.raw.len() < RECORD_HEADER_LEN {
            return Ok(None);
        }
        if self.raw[1] != 3 {
            return Err(InvalidMessage::Illegal("record version"));
        }
        let len = usize::from(u16::from_be_bytes([self.raw[3], self.raw[4]]));
        if len > MAX_RECORD_PAYLOAD {
            return Err(InvalidMessage::RecordTooLarge(len));
        }
        if self.raw.len() < RECORD_HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.raw[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len].to_vec();
        self.raw.drain(..RECORD_HEADER_LEN + len);
        Ok(Some((typ, payload)))
    }

    fn pop_handshake(&mut self) -> Result<Option<HandshakeMessage>, InvalidMessage> {
        let mut r = Reader::new(&self.handshake);
        let Ok(typ) = r.u8("handshake header") else {
            return Ok(None);
        };
        let Ok(len) = r.u24("handshake header") else {
            return Ok(None);
        };
        if len > self.limit {
            return Err(InvalidMessage::MessageTooLarge(len));
        }
        let Ok(body) = r.take(len, "handshake body") else {
            return Ok(None);
        };
        let body = body.to_vec();
        self.handshake.drain(..4 + len);
        Ok(Some(HandshakeMessage { typ, body }))
    }
}

/// Wraps a handshake body in its 4-byte header.
pub fn handshake_bytes(typ: u8, body: &[u8]) -> Result<Vec<u8>, crate::error::Error> {
    let mut out = vec![typ];
    super::codec::put_prefixed(&mut out, 3, body)?;
    Ok(out)
}

/// Cuts `payload` into records of at most 2^14 bytes.
pub fn records(typ: u8, legacy_version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + RECORD_HEADER_LEN);
    for chunk in payload.chunks(1 << 14) {
        out.push(typ);
        out.extend_from_slice(&legacy_version.to_be_bytes());
        // chunks() caps the length at 2^14, so it always fits in u16.
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;

    fn drain(d: &mut Deframer) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = d.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn message_split_across_records_and_byte_by_byte() {
        let body: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let hs = handshake_bytes(11, &body).unwrap();
        let wire = records(content_type::HANDSHAKE, 0x0303, &hs);
        assert_eq!(wire[0], 22);
        // 40004 bytes need three records.
        assert_eq!(wire.len(), hs.len() + 3 * RECORD_HEADER_LEN);

        let mut d = Deframer::default();
        let mut got = Vec::new();
        for b in &wire {
            d.push(std::slice::from_ref(b)).unwrap();
            got.extend(drain(&mut d));
        }
        assert_eq!(
            got,
            vec![Message::Handshake(HandshakeMessage { typ: 11, body })]
        );
        assert!(!d.has_partial());
    }

    #[test]
    fn several_messages_in_one_record_then_alert() {
        let mut payload = handshake_bytes(2, b"hello").unwrap();
        payload.extend(handshake_bytes(14, b"").unwrap());
        let mut wire = records(content_type::HANDSHAKE, 0x0303, &payload);
        wire.extend([21, 3, 3, 0, 2, 2, 40]);
        let mut d = Deframer::default();
        d.push(&wire).unwrap();
        let got = drain(&mut d);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[1],
            Message::Handshake(HandshakeMessage {
                typ: 14,
                body: vec![]
            })
        );
        match &got[2] {
            Message::Alert(a) => assert_eq!(a.description, AlertDescription::HANDSHAKE_FAILURE),
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn rejects_non_tls_and_oversized() {
        let mut d = Deframer::default();
        d.push(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
        assert_eq!(
            d.next_message(),
            Err(InvalidMessage::UnknownContentType(b'H'))
        );

        let mut d = Deframer::default();
        d.push(&[22, 3, 3, 0xff, 0xff]).unwrap();
        assert!(matches!(
            d.next_message(),
            Err(InvalidMessage::RecordTooLarge(_))
        ));

        let mut d = Deframer::new(1000);
        assert!(d.push(&[0u8; 1001]).is_err());

        let mut d = Deframer::new(1000);
        d.push(&[22, 3, 3, 0, 4, 11, 0x10, 0, 0]).unwrap();
        assert!(matches!(
            d.next_message(),
            Err(InvalidMessage::MessageTooLarge(_))
        ));
    }
}
