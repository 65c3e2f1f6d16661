//! Per-token precomputation and the per-candidate HMAC check.
//!
//! HMAC(k, m) = H((k ^ opad) || H((k ^ ipad) || m)). With the key padded to
//! one block, the compressions per candidate are: the ipad block, the
//! message blocks of `m` (whose bytes and padding never change, since the
//! ipad block always shifts them by exactly one block), the opad block, and
//! one outer block holding the inner digest plus fixed padding. Everything
//! that does not depend on the key is laid out once here.

use sha2::Digest;
use sha2::digest::generic_array::GenericArray;
use sha2::digest::generic_array::typenum::{U64, U128};

use crate::target::{Alg, Target};

pub(crate) const H256: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const H384: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const H512: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Appends SHA-2 padding for a message whose total hashed length (including
/// the key block in front of it) is `total_len` bytes.
fn pad(msg: &[u8], block: usize, total_len: usize) -> Vec<u8> {
    let len_field = block / 8; // 8 bytes for SHA-256, 16 for SHA-512
    let mut v = msg.to_vec();
    v.push(0x80);
    while v.len() % block != block - len_field {
        v.push(0);
    }
    let bits = (total_len as u128) * 8;
    v.extend_from_slice(&bits.to_be_bytes()[16 - len_field..]);
    v
}

/// SHA-256 HMAC state shared by the portable and SHA-NI paths.
pub(crate) struct Sha256Plan {
    /// Inner message blocks, padded, as bytes (portable path).
    pub(crate) blocks: Vec<GenericArray<u8, U64>>,
    /// The same blocks as big-endian words (SHA-NI path precomputes their
    /// schedule from these).
    pub(crate) words: Vec<[u32; 16]>,
    /// Expected MAC as big-endian words; word 0 is the early-reject filter.
    pub(crate) want: [u32; 8],
}

impl Sha256Plan {
    fn new(t: &Target) -> Self {
        let padded = pad(t.signing_input(), 64, 64 + t.signing_input().len());
        let blocks = padded
            .chunks_exact(64)
            .map(GenericArray::clone_from_slice)
            .collect();
        let words = padded
            .chunks_exact(64)
            .map(|c| {
                let mut w = [0u32; 16];
                for (i, x) in c.chunks_exact(4).enumerate() {
                    w[i] = u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
                }
                w
            })
            .collect();
        let mut want = [0u32; 8];
        for (i, x) in t.mac().chunks_exact(4).enumerate() {
            want[i] = u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
        }
        Sha256Plan {
            blocks,
            words,
            want,
        }
    }
}

/// Zero-padded key block that only clears what the previous key dirtied, so
/// that building it costs one short copy rather than a 64- or 128-byte fill.
pub(crate) struct KeyBlock<const N: usize> {
    pub(crate) bytes: [u8; N],
    used: usize,
}

impl<const N: usize> KeyBlock<N> {
    pub(crate) fn new() -> Self {
        KeyBlock {
            bytes: [0; N],
            used: 0,
        }
    }

    #[inline]
    pub(crate) fn load(&mut self, key: &[u8], alg: Alg) {
        // HMAC replaces keys longer than the block by their digest; a stack
        // buffer keeps even that path free of allocation.
        let mut digest = [0u8; 64];
        let key = if key.len() > N {
            let n = match alg {
                Alg::HS256 => copy_digest(&mut digest, &sha2::Sha256::digest(key)),
                Alg::HS384 => copy_digest(&mut digest, &sha2::Sha384::digest(key)),
                Alg::HS512 => copy_digest(&mut digest, &sha2::Sha512::digest(key)),
            };
            &digest[..n]
        } else {
            key
        };
        self.bytes[..key.len()].copy_from_slice(key);
        if self.used > key.len() {
            self.bytes[key.len()..self.used].fill(0);
        }
        self.used = key.len();
    }
}

fn copy_digest(dst: &mut [u8; 64], d: &[u8]) -> usize {
    dst[..d.len()].copy_from_slice(d);
    d.len()
}

fn xor_block<const N: usize>(dst: &mut [u8], src: &[u8; N], pad: u8) {
    for (d, s) in dst.iter_mut().zip(src.iter()) {
        *d = s ^ pad;
    }
}

struct Portable256 {
    plan: Sha256Plan,
    key: KeyBlock<64>,
    ipad: GenericArray<u8, U64>,
    opad: GenericArray<u8, U64>,
    outer: GenericArray<u8, U64>,
}

impl Portable256 {
    fn new(t: &Target) -> Self {
        let mut outer = GenericArray::default();
        outer.copy_from_slice(&pad(&[0u8; 32], 64, 64 + 32));
        Portable256 {
            plan: Sha256Plan::new(t),
            key: KeyBlock::new(),
            ipad: GenericArray::default(),
            opad: GenericArray::default(),
            outer,
        }
    }

    #[inline]
    fn check(&mut self, cand: &[u8]) -> bool {
        self.key.load(cand, Alg::HS256);
        xor_block(&mut self.ipad, &self.key.bytes, 0x36);
        xor_block(&mut self.opad, &self.key.bytes, 0x5c);
        let mut inner = H256;
        sha2::compress256(&mut inner, std::slice::from_ref(&self.ipad));
        sha2::compress256(&mut inner, &self.plan.blocks);
        for (i, w) in inner.iter().enumerate() {
            self.outer[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        let mut outer = H256;
        sha2::compress256(&mut outer, std::slice::from_ref(&self.opad));
        sha2::compress256(&mut outer, std::slice::from_ref(&self.outer));
        outer[0] == self.plan.want[0] && outer == self.plan.want
    }
}

struct Portable512 {
    alg: Alg,
    iv: [u64; 8],
    blocks: Vec<GenericArray<u8, U128>>,
    want: Vec<u8>,
    want0: u64,
    key: KeyBlock<128>,
    ipad: GenericArray<u8, U128>,
    opad: GenericArray<u8, U128>,
    outer: GenericArray<u8, U128>,
}

impl Portable512 {
    fn new(t: &Target) -> Self {
        let dlen = t.alg().mac_len();
        let padded = pad(t.signing_input(), 128, 128 + t.signing_input().len());
        let mut outer = GenericArray::default();
        outer.copy_from_slice(&pad(&vec![0u8; dlen], 128, 128 + dlen));
        let m = t.mac();
        Portable512 {
            alg: t.alg(),
            iv: if t.alg() == Alg::HS384 { H384 } else { H512 },
            blocks: padded
                .chunks_exact(128)
                .map(GenericArray::clone_from_slice)
                .collect(),
            want: m.to_vec(),
            want0: u64::from_be_bytes([m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]]),
            key: KeyBlock::new(),
            ipad: GenericArray::default(),
            opad: GenericArray::default(),
            outer,
        }
    }

    #[inline]
    fn check(&mut self, cand: &[u8]) -> bool {
        self.key.load(cand, self.alg);
        xor_block(&mut self.ipad, &self.key.bytes, 0x36);
        xor_block(&mut self.opad, &self.key.bytes, 0x5c);
        let mut inner = self.iv;
        sha2::compress512(&mut inner, std::slice::from_ref(&self.ipad));
        sha2::compress512(&mut inner, &self.blocks);
        let dwords = self.want.len() / 8;
        for (i, w) in inner.iter().take(dwords).enumerate() {
            self.outer[i * 8..i * 8 + 8].copy_from_slice(&w.to_be_bytes());
        }
        let mut outer = self.iv;
        sha2::compress512(&mut outer, std::slice::from_ref(&self.opad));
        sha2::compress512(&mut outer, std::slice::from_ref(&self.outer));
        if outer[0] != self.want0 {
            return false;
        }
        outer
            .iter()
            .take(dwords)
            .zip(self.want.chunks_exact(8))
            .all(|(w, b)| w.to_be_bytes() == b)
    }
}

enum Kind {
    P256(Box<Portable256>),
    P512(Box<Portable512>),
    #[cfg(target_arch = "x86_64")]
    Ni256(Box<crate::shani::Ni256>),
}

/// One worker's checker for one token. Not shared: it owns scratch buffers.
pub(crate) struct Engine {
    kind: Kind,
    target: Target,
}

/// Which SHA-256 implementation an engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// Two-lane SHA-NI kernel, when the CPU has the SHA extensions.
    Auto,
    /// `sha2::compress*` one candidate at a time.
    #[cfg_attr(not(test), allow(dead_code))]
    Portable,
}

impl Engine {
    pub(crate) fn new(t: &Target) -> Engine {
        Engine::with_path(t, Path::Auto)
    }

    pub(crate) fn with_path(t: &Target, path: Path) -> Engine {
        let kind = match t.alg() {
            Alg::HS256 => {
                #[cfg(target_arch = "x86_64")]
                if path == Path::Auto
                    && let Some(ni) = crate::shani::Ni256::new(Sha256Plan::new(t))
                {
                    return Engine {
                        kind: Kind::Ni256(Box::new(ni)),
                        target: t.clone(),
                    };
                }
                let _ = path;
                Kind::P256(Box::new(Portable256::new(t)))
            }
            Alg::HS384 | Alg::HS512 => Kind::P512(Box::new(Portable512::new(t))),
        };
        Engine {
            kind,
            target: t.clone(),
        }
    }

    /// SHA-256 compressions per candidate of up to one block: ipad, message
    /// blocks, opad, outer. (SHA-512 compressions for HS384/HS512.)
    pub(crate) fn compressions_per_candidate(t: &Target) -> usize {
        let b = t.alg().block_len();
        let len_field = b / 8;
        (t.signing_input().len() + 1 + len_field).div_ceil(b) + 3
    }

    /// Tries every candidate until one matches. Returns how many were tried
    /// and the matching candidate, confirmed against the reference HMAC.
    pub(crate) fn scan<'a, I>(&mut self, cands: I) -> (u64, Option<&'a [u8]>)
    where
        I: Iterator<Item = &'a [u8]>,
    {
        let (tried, hit) = match &mut self.kind {
            Kind::P256(p) => scan_one(cands, |c| p.check(c)),
            Kind::P512(p) => scan_one(cands, |c| p.check(c)),
            #[cfg(target_arch = "x86_64")]
            Kind::Ni256(n) => n.scan(cands),
        };
        // The fast paths compare the whole MAC already; this guards against
        // a kernel bug ever being reported as a secret.
        match hit {
            Some(k) if self.target.verify(k) => (tried, Some(k)),
            _ => (tried, None),
        }
    }
}

#[inline]
fn scan_one<'a, I, F>(cands: I, mut check: F) -> (u64, Option<&'a [u8]>)
where
    I: Iterator<Item = &'a [u8]>,
    F: FnMut(&[u8]) -> bool,
{
    let mut tried = 0;
    for c in cands {
        tried += 1;
        if check(c) {
            return (tried, Some(c));
        }
    }
    (tried, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::hmac_reference;

    /// Deterministic generator so failures reproduce without a rand dep.
    pub(crate) struct Lcg(pub u64);
    impl Lcg {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 ^ (self.0 >> 29)
        }
        pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn token(alg: Alg, key: &[u8], payload_len: usize, rng: &mut Lcg) -> String {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let h = b.encode(format!(r#"{{"alg":"{}","typ":"JWT"}}"#, alg.name()));
        let p = b.encode(rng.bytes(payload_len));
        let si = format!("{h}.{p}");
        let mac = hmac_reference(alg, key, si.as_bytes());
        format!("{si}.{}", b.encode(mac))
    }

    #[test]
    fn compression_count_matches_issue() {
        // A 111-byte signing input is the case quoted in the issue: 5.
        let mut rng = Lcg(1);
        for plen in 0..200 {
            let t = Target::from_jwt(&token(Alg::HS256, b"k", plen, &mut rng)).unwrap();
            let n = Engine::compressions_per_candidate(&t);
            if t.signing_input().len() == 111 {
                assert_eq!(n, 5);
            }
            let mut padded_blocks = (64 + t.signing_input().len() + 9).div_ceil(64);
            padded_blocks += 2; // opad + outer
            assert_eq!(n, padded_blocks);
        }
    }

    /// Every path, every algorithm, signing inputs across block boundaries,
    /// keys across the block-size boundary: the engine finds exactly the
    /// right key, in either lane, and nothing else.
    #[test]
    fn engines_agree_with_reference() {
        let mut rng = Lcg(7);
        for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
            for plen in [0usize, 1, 20, 33, 40, 41, 60, 100, 150, 300, 1000] {
                for klen in [0usize, 1, 31, 32, 63, 64, 65, 127, 128, 129, 300] {
                    let key = rng.bytes(klen);
                    let t = Target::from_jwt(&token(alg, &key, plen, &mut rng)).unwrap();
                    for path in [Path::Auto, Path::Portable] {
                        let mut e = Engine::with_path(&t, path);
                        let decoys: Vec<Vec<u8>> = (0..5)
                            .map(|i| rng.bytes(klen + i % 3))
                            .filter(|d| *d != key)
                            .collect();
                        for pos in 0..=decoys.len() {
                            let mut c: Vec<&[u8]> = decoys.iter().map(|d| &d[..]).collect();
                            c.insert(pos, &key);
                            let (tried, hit) = e.scan(c.iter().copied());
                            assert_eq!(hit, Some(&key[..]), "{alg} p{plen} k{klen} {path:?}");
                            assert!(tried as usize > pos);
                        }
                        let (tried, hit) = e.scan(decoys.iter().map(|d| &d[..]));
                        assert_eq!(hit, None);
                        assert_eq!(tried, decoys.len() as u64);
                    }
                }
            }
        }
    }
}
