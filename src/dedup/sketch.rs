//! Set sketches of a document's word shingles: the MinHash signature (one-permutation
//! hashing; only to build the LSH band keys, then dropped) and a bottom-k sketch kept for
//! verifying candidate pairs.
//!
//! The bottom-k sketch is the `k` smallest 32-bit shingle hashes. It is exact for documents
//! of at most `k` distinct shingles and otherwise a uniform sample, so it estimates both the
//! Jaccard similarity and the containment `|A ∩ B| / |A|` of a short copy inside a long one
//! (a truncated "Read more..." copy) without keeping any text.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Shingle hashes (64-bit) of `tokens` with `k` tokens per shingle. Fewer than `k` tokens
/// make one shingle of all of them.
pub fn shingles(tokens: &[u64], k: usize, out: &mut Vec<u64>) {
    out.clear();
    if tokens.is_empty() {
        return;
    }
    let k = k.max(1).min(tokens.len());
    out.reserve(tokens.len() + 1 - k);
    // The usual sizes with the window length known at compile time (unrolled, no inner loop).
    match k {
        2 => out.extend(tokens.windows(2).map(shingle_hash)),
        3 => out.extend(tokens.windows(3).map(shingle_hash)),
        4 => out.extend(tokens.windows(4).map(shingle_hash)),
        _ => out.extend(tokens.windows(k).map(shingle_hash)),
    }
}

/// Hash of one shingle (its tokens' hashes, in order).
#[inline(always)]
fn shingle_hash(w: &[u64]) -> u64 {
    let h = w.iter().fold(0x9E37_79B9_7F4A_7C15u64, |h, &t| {
        (h.rotate_left(23) ^ t).wrapping_mul(0x2545_F491_4F6C_DD1D)
    });
    h ^ (h >> 29)
}

pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// MinHash signatures by one-permutation hashing (Li, Owen & Zhang 2012) with optimal
/// densification (Shrivastava 2017): each element's hash is permuted once and falls into
/// one of `n` bins by its top bits; a bin's value is the smallest there. An empty bin (a
/// short document) takes the value of the first non-empty bin on a probe sequence fixed per
/// bin, the same for every document, so two sets agree on a bin with probability their
/// Jaccard similarity, as with `n` independent permutations, at one hash per element
/// instead of `n`. Fixed seeds: the same signatures on every run and machine.
#[derive(Debug, Clone)]
pub struct MinHasher {
    bins: usize,
    seed: u32,
    mul: u32,
    probe_seed: u64,
}

impl MinHasher {
    /// Most bins (the configuration allows no more).
    pub const MAX_BINS: usize = 4096;

    /// `n` bins (1 to [`MinHasher::MAX_BINS`]).
    pub fn new(n: usize) -> Self {
        let mut st = 0x5EED_DED0_u64;
        let seed = splitmix(&mut st) as u32;
        let mul = (splitmix(&mut st) as u32) | 1;
        MinHasher {
            bins: n.clamp(1, Self::MAX_BINS),
            seed,
            mul,
            probe_seed: splitmix(&mut st),
        }
    }

    /// MinHash signature of a set given by its (possibly repeated) element hashes; empty for
    /// an empty set.
    pub fn signature(&self, hashes: &[u64], sig: &mut Vec<u32>) {
        sig.clear();
        if hashes.is_empty() {
            return;
        }
        let n = self.bins;
        // `u32::MAX` marks an empty bin (a bin whose smallest value is `u32::MAX` counts as
        // empty too: still a function of the set alone).
        sig.resize(n, u32::MAX);
        for &h in hashes {
            // Fold the high half in so that all 64 bits count, then permute.
            let x = (h as u32) ^ ((h >> 32) as u32).rotate_left(7);
            let v = (x ^ self.seed).wrapping_mul(self.mul);
            let v = v ^ (v >> 15);
            let b = ((v as u64 * n as u64) >> 32) as usize;
            sig[b] = sig[b].min(v);
        }
        let mut own = [0u64; Self::MAX_BINS / 64];
        let mut filled = 0;
        for (i, &v) in sig.iter().enumerate() {
            if v != u32::MAX {
                own[i / 64] |= 1 << (i % 64);
                filled += 1;
            }
        }
        if filled == n || filled == 0 {
            return;
        }
        let is_own = |j: usize| own[j / 64] >> (j % 64) & 1 == 1;
        for i in 0..n {
            if is_own(i) {
                continue;
            }
            // Bin `i`'s probe sequence (the same for every set) up to the first bin the set
            // itself filled; after `8 n` probes (a probe hits one with chance at least 1/n)
            // the next such bin in order.
            let mut st = self.probe_seed ^ ((i as u64) << 32);
            let j = (0..8 * n)
                .map(|_| (splitmix(&mut st) % n as u64) as usize)
                .find(|&j| is_own(j))
                .or_else(|| (1..n).map(|d| (i + d) % n).find(|&j| is_own(j)))
                .unwrap_or(i);
            sig[i] = sig[j];
        }
    }
}

/// LSH band keys: one 64-bit key per band of `rows` signature values (band index mixed in).
pub fn band_keys(sig: &[u32], rows: usize, out: &mut Vec<u64>) {
    out.clear();
    for (i, band) in sig.chunks_exact(rows.max(1)).enumerate() {
        let mut bytes = [0u8; 4 * 64];
        let n = band.len().min(64);
        for (j, v) in band[..n].iter().enumerate() {
            bytes[4 * j..4 * j + 4].copy_from_slice(&v.to_le_bytes());
        }
        out.push(xxh3_64_with_seed(&bytes[..4 * n], i as u64));
    }
}

/// Bottom-k sketch: the `k` smallest distinct 32-bit hashes, sorted; also returns the number
/// of distinct shingles (exact up to 32-bit collisions).
///
/// Sorted by the top 16 bits only, in two byte-wide passes of a least-significant-digit radix
/// sort (no comparisons), then finished by insertion: the hashes are uniform, so a few
/// hundred of them leave about one pair sharing its top 16 bits per document, and the
/// insertion pass is a straight read. Half the passes of sorting by all four bytes. (One pass
/// on the top byte alone ran fewer instructions but took longer: the insertion that had to
/// finish it mispredicted its branches.) The first pass reads the hashes themselves, and the
/// scratch space is zeroed only when it grows.
pub fn bottom_k(hashes: &[u64], k: usize, scratch: &mut Vec<u32>) -> (Vec<u32>, u32) {
    let n = hashes.len();
    if n <= 64 {
        scratch.clear();
        scratch.extend(hashes.iter().map(|&h| (h >> 32) as u32));
        scratch.sort_unstable();
        scratch.dedup();
        return (
            scratch[..scratch.len().min(k)].to_vec(),
            scratch.len() as u32,
        );
    }
    if scratch.len() < 2 * n {
        scratch.resize(2 * n, 0);
    }
    let (a, b) = scratch.split_at_mut(n);
    let b = &mut b[..n];
    let mut counts = [[0u32; 256]; 2];
    for &h in hashes {
        let v = (h >> 32) as u32;
        counts[0][(v >> 16) as usize & 0xFF] += 1;
        counts[1][(v >> 24) as usize] += 1;
    }
    for c in counts.iter_mut() {
        let mut at = 0u32;
        for x in c.iter_mut() {
            let here = *x;
            *x = at;
            at += here;
        }
    }
    for &h in hashes {
        let v = (h >> 32) as u32;
        let slot = &mut counts[0][(v >> 16) as usize & 0xFF];
        a[*slot as usize] = v;
        *slot += 1;
    }
    for &v in a.iter() {
        let slot = &mut counts[1][(v >> 24) as usize];
        b[*slot as usize] = v;
        *slot += 1;
    }
    let src = b;
    // Values sharing their top 16 bits are still in input order: insertion finishes the sort
    // (and gives way to a comparison sort if the hashes are far from uniform).
    let mut moves = 0;
    // the largest value so far, in a register: a value not below it is already in place
    let mut top = src[0];
    for i in 1..n {
        let v = src[i];
        if v >= top {
            top = v;
            continue;
        }
        let mut j = i;
        while j > 0 && src[j - 1] > v {
            src[j] = src[j - 1];
            j -= 1;
        }
        src[j] = v;
        moves += i - j;
        if moves > 8 * n {
            src.sort_unstable();
            break;
        }
    }
    // Distinct values, in place; the previous value kept in a register, not read back from
    // where it was just stored (that made each step wait on the last one's store).
    let mut m = 1;
    let mut prev = src[0];
    for i in 1..n {
        let v = src[i];
        src[m] = v;
        m += usize::from(v != prev);
        prev = v;
    }
    (src[..m.min(k)].to_vec(), m as u32)
}

/// Prefix of a sketch: the bottom-`k'` sketch for `k' < k` (a cheap first estimate).
pub fn prefix(a: &[u32], n: usize) -> &[u32] {
    &a[..a.len().min(n)]
}

/// Similarity of two documents from their bottom-k sketches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Estimated Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// Estimated share of the smaller set's shingles found in the larger one.
    pub containment: f64,
}

/// Estimate Jaccard and containment from two bottom-k sketches `a`, `b` (sorted) of sets of
/// `na`, `nb` distinct elements.
///
/// Both estimates only look at the hash range both sketches cover completely (up to the
/// smaller of their largest values when a sketch is full), where each sketch holds exactly
/// the set's elements: so they are exact for small documents.
pub fn similarity(a: &[u32], na: u32, b: &[u32], nb: u32) -> Similarity {
    if a.is_empty() || b.is_empty() {
        return Similarity {
            jaccard: 0.0,
            containment: 0.0,
        };
    }
    // A sketch holding fewer elements than its set covers only the range up to its last value.
    let limit = match ((na as usize) > a.len(), (nb as usize) > b.len()) {
        (true, true) => a[a.len() - 1].min(b[b.len() - 1]),
        (true, false) => a[a.len() - 1],
        (false, true) => b[b.len() - 1],
        (false, false) => u32::MAX,
    };
    // The values in range are a prefix of each (sorted) sketch.
    let la = if a[a.len() - 1] <= limit {
        a.len()
    } else {
        a.partition_point(|&v| v <= limit)
    };
    let lb = if b[b.len() - 1] <= limit {
        b.len()
    } else {
        b.partition_point(|&v| v <= limit)
    };
    let both = intersection_len(&a[..la], &b[..lb]) as u32;
    let (ca, cb) = (la as u32 - both, lb as u32 - both);
    let union = ca + cb + both;
    let jaccard = if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    };
    // Containment of the smaller set (by true size) in the larger.
    let small = if na <= nb { ca + both } else { cb + both };
    let containment = if small == 0 {
        0.0
    } else {
        both as f64 / small as f64
    };
    Similarity {
        jaccard,
        containment,
    }
}

/// Number of values two sorted sets of distinct values (sorted slices) have in common.
pub fn intersection_len(a: &[u32], b: &[u32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if a.len() >= 8 && b.len() >= 8 && std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { intersection_len_avx2(a, b) };
        }
    }
    merge_count(a, b, 0, 0)
}

/// Branch-free merge from `a[i..]`, `b[j..]`.
#[inline(always)]
fn merge_count(a: &[u32], b: &[u32], mut i: usize, mut j: usize) -> usize {
    let mut c = 0;
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
        c += usize::from(x == y);
    }
    c
}

/// Blocks of 8 against 8 (each value of one block against every value of the other, by
/// rotations), advancing the block with the smaller last value; a scalar merge for the tails.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn intersection_len_avx2(a: &[u32], b: &[u32]) -> usize {
    use std::arch::x86_64::*;
    let (mut i, mut j, mut c) = (0usize, 0usize, 0u32);
    let r1 = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    let r2 = _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 0, 1);
    let r3 = _mm256_setr_epi32(3, 4, 5, 6, 7, 0, 1, 2);
    let r4 = _mm256_setr_epi32(4, 5, 6, 7, 0, 1, 2, 3);
    let r5 = _mm256_setr_epi32(5, 6, 7, 0, 1, 2, 3, 4);
    let r6 = _mm256_setr_epi32(6, 7, 0, 1, 2, 3, 4, 5);
    let r7 = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
    while i + 8 <= a.len() && j + 8 <= b.len() {
        // SAFETY: i + 8 <= a.len() and j + 8 <= b.len().
        let va = _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i);
        let vb = _mm256_loadu_si256(b.as_ptr().add(j) as *const __m256i);
        let m01 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, vb),
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r1)),
        );
        let m23 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r2)),
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r3)),
        );
        let m45 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r4)),
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r5)),
        );
        let m67 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r6)),
            _mm256_cmpeq_epi32(va, _mm256_permutevar8x32_epi32(vb, r7)),
        );
        let m = _mm256_or_si256(_mm256_or_si256(m01, m23), _mm256_or_si256(m45, m67));
        c += (_mm256_movemask_ps(_mm256_castsi256_ps(m)) as u32).count_ones();
        let (x, y) = (*a.get_unchecked(i + 7), *b.get_unchecked(j + 7));
        i += if x <= y { 8 } else { 0 };
        j += if y <= x { 8 } else { 0 };
    }
    c as usize + merge_count(a, b, i, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range
            .map(|x| x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x << 40))
            .collect()
    }

    /// The plain merge the estimates are defined by.
    fn similarity_reference(a: &[u32], na: u32, b: &[u32], nb: u32) -> Similarity {
        if a.is_empty() || b.is_empty() {
            return Similarity {
                jaccard: 0.0,
                containment: 0.0,
            };
        }
        let limit = match ((na as usize) > a.len(), (nb as usize) > b.len()) {
            (true, true) => a[a.len() - 1].min(b[b.len() - 1]),
            (true, false) => a[a.len() - 1],
            (false, true) => b[b.len() - 1],
            (false, false) => u32::MAX,
        };
        let (mut ca, mut cb, mut both) = (0u32, 0u32, 0u32);
        for &x in a.iter().filter(|&&x| x <= limit) {
            if b.contains(&x) {
                both += 1;
            } else {
                ca += 1;
            }
        }
        cb += b.iter().filter(|&&y| y <= limit && !a.contains(&y)).count() as u32;
        let union = ca + cb + both;
        let jaccard = if union == 0 {
            0.0
        } else {
            both as f64 / union as f64
        };
        let small = if na <= nb { ca + both } else { cb + both };
        let containment = if small == 0 {
            0.0
        } else {
            both as f64 / small as f64
        };
        Similarity {
            jaccard,
            containment,
        }
    }

    #[test]
    fn fast_similarity_equals_the_plain_merge() {
        let mut st = 7u64;
        let mut s = Vec::new();
        for round in 0..3000 {
            // Overlapping ranges of a small universe, so that the sketches share values.
            let r = |st: &mut u64, m: u64| splitmix(st) % m;
            let universe = 1 + r(&mut st, 2000);
            let (a0, a1) = (r(&mut st, universe), r(&mut st, universe));
            let (b0, b1) = (r(&mut st, universe), r(&mut st, universe));
            let k = [16, 48, 64, 256][round % 4];
            let (a, na) = bottom_k(&set(a0.min(a1)..a0.max(a1)), k, &mut s);
            let (b, nb) = bottom_k(&set(b0.min(b1)..b0.max(b1)), k, &mut s);
            for (x, y) in [
                (&a[..], &b[..]),
                (prefix(&a, 48), prefix(&b, 48)),
                (prefix(&a, 9), &b[..]),
            ] {
                assert_eq!(
                    similarity(x, na, y, nb),
                    similarity_reference(x, na, y, nb),
                    "round {round}"
                );
            }
        }
    }

    #[test]
    fn bottom_k_equals_sort_and_dedup() {
        let mut st = 99u64;
        let mut s = Vec::new();
        for round in 0..2000 {
            // Some of many shingles.
            let n = if round % 5 == 4 {
                4000 + (splitmix(&mut st) % 8000) as usize
            } else {
                (splitmix(&mut st) % 3000) as usize
            };
            let dups = 1 + splitmix(&mut st) % 4;
            let mut h: Vec<u64> = (0..n).map(|_| splitmix(&mut st)).collect();
            for i in 0..n / dups as usize {
                h[i * dups as usize] = h[i];
            }
            if round % 7 == 0 {
                h.iter_mut().for_each(|x| *x &= 0xFFFF_0000_FFFF_FFFF);
            }
            if round % 7 == 3 {
                // All in one bucket of the radix passes.
                h.iter_mut().for_each(|x| *x &= 0x0000_FFFF_FFFF_FFFF);
            }
            let k = [16, 48, 256, 5000][round % 4];
            let mut want: Vec<u32> = h.iter().map(|&x| (x >> 32) as u32).collect();
            want.sort_unstable();
            want.dedup();
            let got = bottom_k(&h, k, &mut s);
            assert_eq!(got.1 as usize, want.len());
            assert_eq!(got.0, want[..want.len().min(k)]);
        }
    }

    #[test]
    fn exact_for_small_sets() {
        let mut s = Vec::new();
        let (a, na) = bottom_k(&set(0..100), 256, &mut s);
        let (b, nb) = bottom_k(&set(50..150), 256, &mut s);
        let sim = similarity(&a, na, &b, nb);
        assert!((sim.jaccard - 50.0 / 150.0).abs() < 1e-9);
        assert!((sim.containment - 0.5).abs() < 1e-9);
        // A truncated copy: fully contained.
        let (c, nc) = bottom_k(&set(0..40), 256, &mut s);
        let sim = similarity(&c, nc, &a, na);
        assert!((sim.containment - 1.0).abs() < 1e-9);
        assert!((sim.jaccard - 0.4).abs() < 1e-9);
    }

    #[test]
    fn estimates_for_large_sets() {
        let mut s = Vec::new();
        let (a, na) = bottom_k(&set(0..4000), 128, &mut s);
        let (b, nb) = bottom_k(&set(2000..6000), 128, &mut s);
        assert_eq!(a.len(), 128);
        let sim = similarity(&a, na, &b, nb);
        assert!((sim.jaccard - 1.0 / 3.0).abs() < 0.12, "{sim:?}");
        let (c, nc) = bottom_k(&set(0..1000), 128, &mut s);
        let sim = similarity(&c, nc, &a, na);
        assert!(sim.containment > 0.85, "{sim:?}");
        assert!((sim.jaccard - 0.25).abs() < 0.12, "{sim:?}");
    }

    #[test]
    fn minhash_agrees_on_equal_sets_and_is_deterministic() {
        let m = MinHasher::new(64);
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let mut h = set(0..300);
        m.signature(&h, &mut s1);
        h.reverse();
        m.signature(&h, &mut s2);
        assert_eq!(s1, s2);
        m.signature(&set(0..150), &mut s2);
        let same = s1.iter().zip(&s2).filter(|(x, y)| x == y).count();
        assert!((16..=48).contains(&same), "{same}");
        let (mut k1, mut k2) = (Vec::new(), Vec::new());
        band_keys(&s1, 4, &mut k1);
        band_keys(&s1, 4, &mut k2);
        assert_eq!(k1.len(), 16);
        assert_eq!(k1, k2);
    }

    /// Short sets leave most bins empty: densified, two sets still agree on a bin about as
    /// often as their Jaccard similarity, and every bin has a value of the set.
    #[test]
    fn densified_signatures_of_short_sets_estimate_jaccard() {
        let m = MinHasher::new(64);
        let mut st = 99u64;
        let (mut agree, mut bins) = (0usize, 0usize);
        let (mut sa, mut sb) = (Vec::new(), Vec::new());
        for _ in 0..400 {
            let common: Vec<u64> = (0..12).map(|_| splitmix(&mut st)).collect();
            let mut a = common.clone();
            let mut b = common;
            a.extend((0..3).map(|_| splitmix(&mut st)));
            b.extend((0..3).map(|_| splitmix(&mut st)));
            m.signature(&a, &mut sa);
            m.signature(&b, &mut sb);
            assert!(sa.iter().all(|&v| v != u32::MAX) && sa.len() == 64);
            agree += sa.iter().zip(&sb).filter(|(x, y)| x == y).count();
            bins += 64;
        }
        // J = 12 / 18.
        let est = agree as f64 / bins as f64;
        assert!((est - 12.0 / 18.0).abs() < 0.05, "{est}");
        m.signature(&[], &mut sa);
        assert!(sa.is_empty());
        m.signature(&[7], &mut sa);
        assert!(sa.iter().all(|&v| v == sa[0]));
    }

    #[test]
    fn shingles_of_short_token_runs() {
        let mut out = Vec::new();
        shingles(&[1, 2], 3, &mut out);
        assert_eq!(out.len(), 1);
        shingles(&[1, 2, 3, 4], 3, &mut out);
        assert_eq!(out.len(), 2);
        shingles(&[], 3, &mut out);
        assert!(out.is_empty());
        // The unrolled sizes hash as the general loop does.
        let mut st = 5u64;
        let toks: Vec<u64> = (0..50).map(|_| splitmix(&mut st)).collect();
        for k in 1..7 {
            shingles(&toks, k, &mut out);
            let want: Vec<u64> = toks.windows(k).map(shingle_hash).collect();
            assert_eq!(out, want, "k = {k}");
        }
    }
}
