//! Multi-buffer HMAC-SHA-256 on the x86 SHA extensions.
//!
//! `sha256rnds2` does two rounds but its result feeds the next one, so a
//! single compression is a chain of 32 dependent instructions and runs at the
//! instruction's latency, with the SHA unit idle most of the time (`sha2`'s
//! own SHA-NI code is built that way: it has one message to hash). Two
//! candidates are independent, so their chains are interleaved here and the
//! unit issues one while the other is in flight: throughput instead of
//! latency.
//!
//! The second trick: the message blocks of the signing input are the same for
//! every candidate, so their whole 64-word schedule, with the round constants
//! already added, is computed once per token. Those blocks then cost only the
//! round instructions and one load per two rounds, shared by both lanes.
//!
//! State is kept in the ABEF/CDGH register layout `sha256rnds2` wants from
//! the ipad block through the message blocks, and converted once, directly
//! into the message words of the outer block, without going through memory.

use core::arch::x86_64::*;

use crate::engine::{H256, KeyBlock, Sha256Plan};
use crate::target::Alg;

pub(crate) fn available() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse4.1")
        && is_x86_feature_detected!("ssse3")
}

#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Round constants grouped four by four, aligned for `movdqa`.
#[repr(C, align(16))]
struct K4([[u32; 4]; 16]);
static K4S: K4 = {
    let mut k = [[0u32; 4]; 16];
    let mut i = 0;
    while i < 64 {
        k[i / 4][i % 4] = K[i];
        i += 1;
    }
    K4(k)
};

/// W[t] + K[t] of a fixed block, two rounds per entry in the low two lanes,
/// which is all `sha256rnds2` reads: no shuffle left to do per candidate.
#[repr(C, align(16))]
pub(crate) struct Wk([[u32; 4]; 32]);

impl Wk {
    fn new(block: &[u32; 16]) -> Wk {
        let mut w = [0u32; 64];
        w[..16].copy_from_slice(block);
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let mut out = [[0u32; 4]; 32];
        for (i, o) in out.iter_mut().enumerate() {
            let t = i * 2;
            o[0] = w[t].wrapping_add(K[t]);
            o[1] = w[t + 1].wrapping_add(K[t + 1]);
        }
        Wk(out)
    }
}

#[derive(Clone, Copy)]
struct St {
    abef: __m128i,
    cdgh: __m128i,
}

/// Two lanes: on the Zen core this was tuned on, two interleaved chains
/// already keep the SHA unit busy (three and four measured the same within
/// noise, for more register spills), and 2 × 6 vectors fit the 16 xmm
/// registers.
pub(crate) const LANES: usize = 2;

pub(crate) struct Ni256 {
    wk: Vec<Wk>,
    want: [u32; 8],
    keys: [KeyBlock<64>; LANES],
}

impl Ni256 {
    /// `None` on a CPU without SHA-NI: the soundness of [`Self::scan`] rests on this check
    /// being made here, where the value is built, not on every caller remembering it.
    pub(crate) fn new(plan: Sha256Plan) -> Option<Ni256> {
        available().then(|| Ni256 {
            wk: plan.words.iter().map(Wk::new).collect(),
            want: plan.want,
            keys: core::array::from_fn(|_| KeyBlock::new()),
        })
    }

    pub(crate) fn scan<'a, I>(&mut self, cands: I) -> (u64, Option<&'a [u8]>)
    where
        I: Iterator<Item = &'a [u8]>,
    {
        // SAFETY: `new` builds an Ni256 only when `available()` said yes.
        unsafe { self.scan_ni(cands) }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn scan_ni<'a, I>(&mut self, cands: I) -> (u64, Option<&'a [u8]>)
    where
        I: Iterator<Item = &'a [u8]>,
    {
        let mut lane: [&'a [u8]; LANES] = [&[]; LANES];
        let mut n = 0;
        let mut tried = 0u64;
        for c in cands {
            self.keys[n].load(c, Alg::HS256);
            lane[n] = c;
            n += 1;
            if n == LANES {
                n = 0;
                tried += LANES as u64;
                let hits = self.pair();
                if hits != 0 {
                    return (tried, Some(lane[hits.trailing_zeros() as usize]));
                }
            }
        }
        if n > 0 {
            // Leftovers fill the idle lanes with copies of lane 0 rather than
            // needing narrower copies of the kernel.
            tried += n as u64;
            for i in n..LANES {
                self.keys[i].load(lane[0], Alg::HS256);
                lane[i] = lane[0];
            }
            let hits = self.pair();
            if hits != 0 {
                return (tried, Some(lane[hits.trailing_zeros() as usize]));
            }
        }
        (tried, None)
    }

    /// HMACs of the two loaded keys; bit i set when lane i matches.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn pair(&self) -> u32 {
        let bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
        let x36 = _mm_set1_epi8(0x36);
        let x5c = _mm_set1_epi8(0x5c);
        // SAFETY (this and the kernel calls below): `pair` only runs after
        // `available()`, and this function enables the features.
        let iv = unsafe { to_abef(&H256) };

        let mut ipad = [[_mm_setzero_si128(); 4]; LANES];
        let mut opad = [[_mm_setzero_si128(); 4]; LANES];
        for l in 0..LANES {
            let p = self.keys[l].bytes.as_ptr() as *const __m128i;
            for i in 0..4 {
                // SAFETY: the key block is 64 bytes, i.e. four vectors.
                let k = unsafe { _mm_loadu_si128(p.add(i)) };
                ipad[l][i] = _mm_shuffle_epi8(_mm_xor_si128(k, x36), bswap);
                opad[l][i] = _mm_shuffle_epi8(_mm_xor_si128(k, x5c), bswap);
            }
        }

        let mut inner = [iv; LANES];
        let mut outer = [iv; LANES];
        unsafe {
            compress(&mut inner, ipad);
            compress(&mut outer, opad);
            for wk in &self.wk {
                compress_fixed(&mut inner, wk);
            }
        }

        // Outer block: the inner digest, then 0x80 and the bit length of
        // opad block + digest (96 bytes = 768 bits).
        let pad_hi = _mm_set_epi32(0, 0, 0, 0x8000_0000u32 as i32);
        let len = _mm_set_epi32(768, 0, 0, 0);
        let mut msg = [[_mm_setzero_si128(); 4]; LANES];
        for l in 0..LANES {
            let (lo, hi) = unsafe { from_abef(inner[l]) };
            msg[l] = [lo, hi, pad_hi, len];
        }
        unsafe { compress(&mut outer, msg) };

        let mut hits = 0;
        for (l, st) in outer.iter().enumerate() {
            // Lane 3 of ABEF is A, the first MAC word: one compare rejects
            // all but one candidate in 2^32 without unpacking the state.
            if _mm_extract_epi32::<3>(st.abef) as u32 == self.want[0] {
                let mut got = [0u32; 8];
                // SAFETY: `got` is 32 bytes, two unaligned stores.
                unsafe {
                    let (lo, hi) = from_abef(*st);
                    _mm_storeu_si128(got.as_mut_ptr() as *mut __m128i, lo);
                    _mm_storeu_si128(got.as_mut_ptr().add(4) as *mut __m128i, hi);
                }
                if got == self.want {
                    hits |= 1 << l;
                }
            }
        }
        hits
    }
}

// The helpers below are `inline(always)` rather than `target_feature`
// functions: LLVM otherwise keeps the big kernels out of line and passes
// the lane states through memory. Inlined into a `target_feature` caller,
// the intrinsics inside them inline too.

/// Standard state words to the ABEF/CDGH pair `sha256rnds2` operates on.
///
/// # Safety
/// The CPU must have SHA-NI and SSE4.1 (see [`available`]).
#[inline(always)]
unsafe fn to_abef(h: &[u32; 8]) -> St {
    // SAFETY: `h` is 32 bytes, two unaligned loads; features per contract.
    unsafe {
        let a = _mm_loadu_si128(h.as_ptr() as *const __m128i);
        let b = _mm_loadu_si128(h.as_ptr().add(4) as *const __m128i);
        let a = _mm_shuffle_epi32::<0xB1>(a);
        let b = _mm_shuffle_epi32::<0x1B>(b);
        St {
            abef: _mm_alignr_epi8::<8>(a, b),
            cdgh: _mm_blend_epi16::<0xF0>(b, a),
        }
    }
}

/// Back to `[h0..h3]`, `[h4..h7]`, which are also message words 0..7.
///
/// # Safety
/// As [`to_abef`].
#[inline(always)]
unsafe fn from_abef(s: St) -> (__m128i, __m128i) {
    // SAFETY: register-only SSE4.1 operations; features per contract.
    unsafe {
        let t = _mm_shuffle_epi32::<0x1B>(s.abef);
        let c = _mm_shuffle_epi32::<0xB1>(s.cdgh);
        (_mm_blend_epi16::<0xF0>(t, c), _mm_alignr_epi8::<8>(c, t))
    }
}

/// One compression per lane, message schedule computed on the fly, the
/// lanes' instructions interleaved so each hides the other's latency.
///
/// # Safety
/// As [`to_abef`].
#[inline(always)]
unsafe fn compress<const L: usize>(s: &mut [St; L], mut m: [[__m128i; 4]; L]) {
    // SAFETY: features per contract; loads are from the aligned K4S table
    // (16 vectors, indices below 16).
    unsafe {
        let save = *s;
        let kp = K4S.0.as_ptr() as *const __m128i;
        macro_rules! rounds {
            ($q:expr, $x:expr) => {{
                let k = _mm_load_si128(kp.add($q));
                let mut w = [_mm_setzero_si128(); L];
                for l in 0..L {
                    w[l] = _mm_add_epi32(m[l][$x], k);
                }
                for l in 0..L {
                    s[l].cdgh = _mm_sha256rnds2_epu32(s[l].cdgh, s[l].abef, w[l]);
                }
                for l in 0..L {
                    w[l] = _mm_shuffle_epi32::<0x0E>(w[l]);
                }
                for l in 0..L {
                    s[l].abef = _mm_sha256rnds2_epu32(s[l].abef, s[l].cdgh, w[l]);
                }
            }};
        }
        // Slot a holds W[4j..4j+4]; it is overwritten with W[4j+16..4j+20],
        // computed from slots a, b, c, d = j, j+1, j+2, j+3 (mod 4).
        macro_rules! next {
            ($a:expr, $b:expr, $c:expr, $d:expr) => {{
                for l in 0..L {
                    let t = _mm_add_epi32(
                        _mm_sha256msg1_epu32(m[l][$a], m[l][$b]),
                        _mm_alignr_epi8::<4>(m[l][$d], m[l][$c]),
                    );
                    m[l][$a] = _mm_sha256msg2_epu32(t, m[l][$d]);
                }
            }};
        }
        rounds!(0, 0);
        next!(0, 1, 2, 3);
        rounds!(1, 1);
        next!(1, 2, 3, 0);
        rounds!(2, 2);
        next!(2, 3, 0, 1);
        rounds!(3, 3);
        next!(3, 0, 1, 2);
        rounds!(4, 0);
        next!(0, 1, 2, 3);
        rounds!(5, 1);
        next!(1, 2, 3, 0);
        rounds!(6, 2);
        next!(2, 3, 0, 1);
        rounds!(7, 3);
        next!(3, 0, 1, 2);
        rounds!(8, 0);
        next!(0, 1, 2, 3);
        rounds!(9, 1);
        next!(1, 2, 3, 0);
        rounds!(10, 2);
        next!(2, 3, 0, 1);
        rounds!(11, 3);
        next!(3, 0, 1, 2);
        rounds!(12, 0);
        rounds!(13, 1);
        rounds!(14, 2);
        rounds!(15, 3);
        for l in 0..L {
            s[l].abef = _mm_add_epi32(s[l].abef, save[l].abef);
            s[l].cdgh = _mm_add_epi32(s[l].cdgh, save[l].cdgh);
        }
    }
}

/// One compression per lane of a block whose schedule is precomputed.
///
/// # Safety
/// As [`to_abef`].
#[inline(always)]
unsafe fn compress_fixed<const L: usize>(s: &mut [St; L], wk: &Wk) {
    let save = *s;
    let p = wk.0.as_ptr() as *const __m128i;
    // SAFETY: `Wk` holds 32 aligned vectors; features per contract.
    unsafe {
        for q in 0..16 {
            let w = _mm_load_si128(p.add(2 * q));
            for st in s.iter_mut() {
                st.cdgh = _mm_sha256rnds2_epu32(st.cdgh, st.abef, w);
            }
            let w = _mm_load_si128(p.add(2 * q + 1));
            for st in s.iter_mut() {
                st.abef = _mm_sha256rnds2_epu32(st.abef, st.cdgh, w);
            }
        }
        for l in 0..L {
            s[l].abef = _mm_add_epi32(s[l].abef, save[l].abef);
            s[l].cdgh = _mm_add_epi32(s[l].cdgh, save[l].cdgh);
        }
    }
}

/// Raw single-block compressions, for the benchmark's bound: `lanes`
/// independent chains of `n` blocks each through this kernel.
pub(crate) fn compress_many(n: u64) -> u32 {
    // SAFETY: callers check `available()`.
    unsafe { compress_many_ni(n) }
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress_many_ni(n: u64) -> u32 {
    // SAFETY: callers check `available()`.
    let mut s = [unsafe { to_abef(&H256) }; LANES];
    let mut m = [[_mm_set1_epi32(1); 4]; LANES];
    for i in 0..n {
        // A message that changes every time keeps the compiler from
        // hoisting the message schedule out of the loop.
        m[0][0] = _mm_set1_epi32(i as i32);
        m[1][0] = _mm_set1_epi32(!i as i32);
        unsafe { compress(&mut s, m) };
    }
    let mut x = 0;
    for st in s {
        x ^= _mm_extract_epi32::<3>(st.abef) as u32;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel against `sha2::compress256` on random states and blocks,
    /// both with the schedule computed on the fly and precomputed.
    #[test]
    fn kernel_matches_sha2() {
        if !available() {
            eprintln!("no SHA-NI on this CPU: kernel not exercised");
            return;
        }
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        };
        for _ in 0..500 {
            let mut states = [[0u32; 8]; 2];
            let mut blocks = [[0u32; 16]; 2];
            for l in 0..2 {
                states[l] = core::array::from_fn(|_| rnd());
                blocks[l] = core::array::from_fn(|_| rnd());
            }
            let want: Vec<[u32; 8]> = (0..2)
                .map(|l| {
                    let mut st = states[l];
                    let bytes: Vec<u8> = blocks[l].iter().flat_map(|w| w.to_be_bytes()).collect();
                    sha2::compress256(
                        &mut st,
                        &[*sha2::digest::generic_array::GenericArray::from_slice(
                            &bytes,
                        )],
                    );
                    st
                })
                .collect();
            // SAFETY: `available()` checked above.
            let (got, got_fixed) = unsafe { run_kernels(&states, &blocks) };
            assert_eq!(got.to_vec(), want);
            assert_eq!(got_fixed[0], want[0]);
            assert_eq!(got_fixed[1], {
                // Same precomputed block applied to lane 1's state.
                let mut st = states[1];
                let bytes: Vec<u8> = blocks[0].iter().flat_map(|w| w.to_be_bytes()).collect();
                sha2::compress256(
                    &mut st,
                    &[*sha2::digest::generic_array::GenericArray::from_slice(
                        &bytes,
                    )],
                );
                st
            });
        }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn run_kernels(
        states: &[[u32; 8]; 2],
        blocks: &[[u32; 16]; 2],
    ) -> ([[u32; 8]; 2], [[u32; 8]; 2]) {
        // SAFETY: the caller checked `available()`.
        let mut s = unsafe { [to_abef(&states[0]), to_abef(&states[1])] };
        let mut m = [[_mm_setzero_si128(); 4]; 2];
        for (ml, bl) in m.iter_mut().zip(blocks) {
            for (i, v) in ml.iter_mut().enumerate() {
                // SAFETY: 16 words, four unaligned loads.
                *v = unsafe { _mm_loadu_si128(bl.as_ptr().add(4 * i) as *const __m128i) };
            }
        }
        let mut f = s;
        unsafe {
            compress(&mut s, m);
            compress_fixed(&mut f, &Wk::new(&blocks[0]));
        }
        let out = |s: [St; 2]| {
            let mut r = [[0u32; 8]; 2];
            for l in 0..2 {
                // SAFETY: 8 words, two unaligned stores.
                unsafe {
                    let (lo, hi) = from_abef(s[l]);
                    _mm_storeu_si128(r[l].as_mut_ptr() as *mut __m128i, lo);
                    _mm_storeu_si128(r[l].as_mut_ptr().add(4) as *mut __m128i, hi);
                }
            }
            r
        };
        (out(s), out(f))
    }
}
