//! Growable storage for the dedup index that never copies what it holds.
//!
//! A `Vec` or a hash table that doubles keeps its old and its new buffer alive while it
//! copies: on a gigabyte dump the index's sketches (≈1 KB per document) and band-key table
//! (≈0.7 KB per document) each reach hundreds of megabytes, and one such doubling was the
//! peak of the whole run's memory. It also touched every page twice (the kernel zeroes each
//! new huge page). These types grow by fixed-size chunks (or, for the table, by one of many
//! small partitions at a time), so the peak is the index itself plus one chunk.

use std::ops::{Index, IndexMut};

use super::NONE;

/// Elements per chunk of a [`Chunked`].
const CHUNK_BITS: u32 = 14;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector in fixed-size chunks: `push` never moves earlier elements.
#[derive(Debug, Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub(crate) fn new() -> Chunked<T> {
        Chunked::default()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, v: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(v);
        }
        self.len += 1;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks
            .get(i >> CHUNK_BITS)
            .and_then(|c| c.get(i & (CHUNK - 1)))
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut c = Chunked::new();
        it.into_iter().for_each(|v| c.push(v));
        c
    }
}

/// Values per block of a [`Slices`] (4 MiB of `u32`).
const BLOCK_BITS: u32 = 20;
const BLOCK: usize = 1 << BLOCK_BITS;

/// Variable-length runs of `u32` (the sketch tails) in fixed-size blocks; a run never
/// crosses a block, so every run is one slice. A run is found by the offset that
/// [`Slices::push`] returns (block number in the high bits): offsets are not dense.
#[derive(Debug, Default)]
pub(crate) struct Slices {
    blocks: Vec<Vec<u32>>,
}

impl Slices {
    /// Store `run`; a run longer than a block (never at the allowed sketch sizes) gets a
    /// block of its own size.
    pub(crate) fn push(&mut self, run: &[u32]) -> u64 {
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.len() + run.len() <= BLOCK);
        if !fits {
            self.blocks.push(Vec::with_capacity(BLOCK.max(run.len())));
        }
        let n = self.blocks.len() - 1;
        let b = &mut self.blocks[n];
        let at = ((n as u64) << BLOCK_BITS) | b.len() as u64;
        b.extend_from_slice(run);
        at
    }

    /// The run of `len` values stored at `at`.
    #[inline]
    pub(crate) fn get(&self, at: u64, len: usize) -> &[u32] {
        let b = &self.blocks[(at >> BLOCK_BITS) as usize];
        let i = (at as usize) & (BLOCK - 1);
        &b[i..i + len]
    }
}

/// Partitions of a [`BandMap`].
const PARTS: usize = 64;

/// The band-key table (key → its bucket's handle), as [`PARTS`] open-addressing tables
/// chosen by bits of the key: each grows on its own, so a resize copies 1/64 of the table.
///
/// Our own table rather than a `HashMap` so that a document's 32 slots can be asked for
/// (prefetched) before any is used: on a gigabyte dump the table is hundreds of megabytes,
/// nearly every look-up misses the cache, and the misses of one document's keys then
/// overlap instead of queueing. A key and its value share a 16-byte slot (one miss, where a
/// `HashMap` reads its control bytes and its slot apart).
#[derive(Debug)]
pub(crate) struct BandMap {
    parts: Vec<Part>,
}

/// One partition of a [`BandMap`]: linear probing over a power-of-two number of slots,
/// at most 4/5 full; no deletions.
#[derive(Debug, Default)]
struct Part {
    slots: Vec<Slot>,
    len: usize,
    /// `log2(slots.len())` (0 while empty).
    bits: u32,
}

/// A band key and its value; `val == NONE` marks an empty slot (a handle is never `NONE`).
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    val: u32,
}

const EMPTY: Slot = Slot { key: 0, val: NONE };

impl Part {
    /// The slot a key's probe starts at: its top bits after a multiplicative mix (band keys
    /// are hashes already; the mix keeps structured keys from piling up). Only for a table
    /// with slots (`bits > 0`).
    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    /// Where `key` is (`Ok`) or would go (`Err`: an empty slot). The table must have a slot.
    #[inline]
    fn find(&self, key: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s.val == NONE {
                return Err(i);
            }
            if s.key == key {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Make room for one more key (double when 4/5 full).
    fn reserve_one(&mut self) {
        if 5 * (self.len + 1) <= 4 * self.slots.len() {
            return;
        }
        let bits = (self.bits + 1).max(4);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; 1 << bits]);
        self.bits = bits;
        for s in old.into_iter().filter(|s| s.val != NONE) {
            let Err(i) = self.find(s.key) else {
                unreachable!("keys are distinct")
            };
            self.slots[i] = s;
        }
    }
}

impl Default for BandMap {
    fn default() -> Self {
        BandMap {
            parts: (0..PARTS).map(|_| Part::default()).collect(),
        }
    }
}

impl BandMap {
    #[inline]
    fn part(key: u64) -> usize {
        // Bits 40..46; a partition's slot comes from the top bits of the mixed key.
        ((key >> 40) as usize) & (PARTS - 1)
    }

    /// Ask the CPU for `key`'s first slot (a hint: no effect on results).
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        let p = &self.parts[Self::part(key)];
        if !p.slots.is_empty() {
            super::prefetch(&p.slots[p.home(key)]);
        }
    }

    /// `key`'s value, or else `init()` stored as its value if that gives one (never
    /// `NONE`). Returns the value's place if the key has one now, and whether it had before.
    #[inline]
    fn entry(&mut self, key: u64, init: impl FnOnce() -> Option<u32>) -> Option<(&mut u32, bool)> {
        let p = &mut self.parts[Self::part(key)];
        p.reserve_one();
        match p.find(key) {
            Ok(i) => Some((&mut p.slots[i].val, true)),
            Err(i) => {
                let val = init()?;
                debug_assert_ne!(val, NONE);
                p.slots[i] = Slot { key, val };
                p.len += 1;
                Some((&mut p.slots[i].val, false))
            }
        }
    }

    /// Set `key`'s value to `v` (never `NONE`), returning the previous one.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, v: u32) -> Option<u32> {
        match self.entry(key, || Some(v)) {
            Some((slot, true)) => Some(std::mem::replace(slot, v)),
            _ => None,
        }
    }

    /// The value of `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        let p = &self.parts[Self::part(key)];
        if p.slots.is_empty() {
            return None;
        }
        p.find(key).ok().map(|i| p.slots[i].val)
    }

    pub(crate) fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len).sum()
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.parts.iter().flat_map(|p| {
            p.slots
                .iter()
                .filter(|s| s.val != NONE)
                .map(|s| (s.key, s.val))
        })
    }
}

/// Documents per bucket block; slot 0 of a block links to the bucket's previous block.
const SLOTS: u32 = 7;
/// Set in a bucket handle that is a block (otherwise the handle is the bucket's one document).
const BLOCK_BIT: u32 = 1 << 31;
/// Blocks a handle can address (`NONE` is never a handle: its fill bits would say 8).
const MAX_BLOCKS: usize = 1 << 28;

/// The LSH band buckets: band key → the documents that had it, newest first on a walk.
///
/// A bucket of one document is just its number in the band-key table; a longer one is a
/// chain of blocks of up to seven document numbers, so that a walk reads one cache line per
/// seven documents instead of one per document (a linked list through the documents). A
/// bucket's handle before a document joins it (what [`Buckets::push`] returns) still walks
/// exactly the documents it had then: blocks only ever gain slots past a handle's fill.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    map: BandMap,
    blocks: Chunked<[u32; 8]>,
    /// Documents not added to a bucket because the blocks ran out (1.9 billion band links).
    pub(crate) dropped: u64,
}

impl Buckets {
    /// The handle of `key`'s bucket as it is now (`NONE`: no document has the key).
    #[cfg(test)]
    pub(crate) fn get(&self, key: u64) -> u32 {
        self.map.get(key).unwrap_or(NONE)
    }

    /// Add document `doc`, newer than every document in it, to `key`'s bucket; returns the
    /// bucket's handle from before.
    pub(crate) fn push(&mut self, key: u64, doc: u32) -> u32 {
        let first = || {
            if doc < BLOCK_BIT {
                Some(doc)
            } else {
                Self::new_block(&mut self.blocks, NONE, &[doc])
            }
        };
        let slot = match self.map.entry(key, first) {
            Some((slot, true)) => slot,
            Some((_, false)) => return NONE,
            None => {
                self.dropped += 1;
                return NONE;
            }
        };
        let blocks = &mut self.blocks;
        let before = *slot;
        let after = if before < BLOCK_BIT {
            Self::new_block(blocks, NONE, &[before, doc])
        } else {
            let (at, fill) = unpack(before);
            if fill < SLOTS {
                blocks[at as usize][fill as usize + 1] = doc;
                Some(pack(at, fill + 1))
            } else {
                Self::new_block(blocks, at, &[doc])
            }
        };
        match after {
            Some(h) => *slot = h,
            None => self.dropped += 1,
        }
        before
    }

    /// Ask the CPU for the table slot of `key` (before a [`Buckets::push`] of it).
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        self.map.prefetch(key);
    }

    fn new_block(blocks: &mut Chunked<[u32; 8]>, prev: u32, docs: &[u32]) -> Option<u32> {
        if blocks.len() >= MAX_BLOCKS {
            return None;
        }
        let mut b = [NONE; 8];
        b[0] = prev;
        b[1..=docs.len()].copy_from_slice(docs);
        blocks.push(b);
        Some(pack((blocks.len() - 1) as u32, docs.len() as u32))
    }

    /// Call `f` on the documents of bucket `handle`, newest first, while it returns true
    /// (one chain at a time: the reference for [`Buckets::walk_all`]).
    #[cfg(test)]
    pub(crate) fn walk(&self, handle: u32, mut f: impl FnMut(u32) -> bool) {
        if handle == NONE {
            return;
        }
        if handle < BLOCK_BIT {
            f(handle);
            return;
        }
        let (mut at, mut fill) = unpack(handle);
        loop {
            let b = &self.blocks[at as usize];
            for &d in b[1..=fill as usize].iter().rev() {
                if !f(d) {
                    return;
                }
            }
            if b[0] == NONE {
                return;
            }
            (at, fill) = (b[0], SLOTS);
        }
    }

    /// Append to `out` the documents of every bucket in `handles` ([`NONE`] skipped), at
    /// most `max_scan` of each, newest first within a bucket: what [`Buckets::walk`] of each
    /// handle in turn would give, in another order.
    ///
    /// Why: a bucket is a chain of blocks, each found from the one before, so a walk waits on
    /// one cache miss per block. The chains of a document's bands are independent: walked
    /// side by side, a round reads one block of every unfinished chain, each asked for
    /// (prefetched) a round earlier, and the misses overlap instead of queueing.
    pub(crate) fn walk_all(&self, handles: &[u32], max_scan: usize, out: &mut Vec<u32>) {
        // (block, fill, documents still wanted) of every chain not yet finished
        let mut live: Vec<(u32, u32, usize)> = Vec::with_capacity(handles.len());
        for &h in handles {
            if h == NONE || max_scan == 0 {
                continue;
            }
            if h < BLOCK_BIT {
                out.push(h);
                continue;
            }
            let (at, fill) = unpack(h);
            super::prefetch(&self.blocks[at as usize]);
            live.push((at, fill, max_scan));
        }
        while !live.is_empty() {
            live.retain_mut(|(at, fill, left)| {
                let b = &self.blocks[*at as usize];
                for &d in b[1..=*fill as usize].iter().rev() {
                    if *left == 0 {
                        return false;
                    }
                    out.push(d);
                    *left -= 1;
                }
                if b[0] == NONE || *left == 0 {
                    return false;
                }
                (*at, *fill) = (b[0], SLOTS);
                super::prefetch(&self.blocks[*at as usize]);
                true
            });
        }
    }

    /// Number of band keys.
    pub(crate) fn keys(&self) -> usize {
        self.map.len()
    }

    /// Every `(band key, handle)`, in no particular order.
    pub(crate) fn handles(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.map.iter()
    }

    /// The blocks, in order (for saving).
    pub(crate) fn blocks(&self) -> impl Iterator<Item = &[u32; 8]> + '_ {
        self.blocks.iter()
    }

    /// Rebuild from saved blocks and handles, checking every link so that every walk goes
    /// newest first and ends: a block's documents are below `docs`, in increasing order, its
    /// unused slots empty; it links to an earlier, full block whose documents are all older;
    /// a handle names a document below `docs` or the filled part of a block. Each block and
    /// handle is checked once (a damaged file costs no more than a good one).
    pub(crate) fn from_parts(
        blocks: Chunked<[u32; 8]>,
        handles: &[(u64, u32)],
        docs: u32,
    ) -> Result<Buckets, &'static str> {
        if blocks.len() > MAX_BLOCKS {
            return Err("too many bucket blocks");
        }
        let filled = |b: &[u32; 8]| b[1..].iter().take_while(|&&d| d != NONE).count() as u32;
        for i in 0..blocks.len() {
            let b = &blocks[i];
            let k = filled(b) as usize;
            let docs_ok = k > 0
                && b[1..=k].iter().all(|&d| d < docs)
                && b[1..=k].windows(2).all(|w| w[0] < w[1]);
            if !docs_ok || b[k + 1..].iter().any(|&d| d != NONE) {
                return Err("bad bucket block");
            }
            if b[0] != NONE {
                let prev = blocks
                    .get(b[0] as usize)
                    .filter(|_| (b[0] as usize) < i)
                    .ok_or("bucket block link out of order")?;
                if filled(prev) != SLOTS || prev[SLOTS as usize] >= b[1] {
                    return Err("bucket not newest first");
                }
            }
        }
        let mut out = Buckets {
            map: BandMap::default(),
            blocks,
            dropped: 0,
        };
        for &(key, h) in handles {
            let ok = if h < BLOCK_BIT {
                h < docs
            } else {
                let (at, fill) = unpack(h);
                (at as usize) < out.blocks.len()
                    && h != NONE
                    && fill <= filled(&out.blocks[at as usize])
            };
            if !ok {
                return Err("bucket handle out of range");
            }
            out.map.insert(key, h);
        }
        Ok(out)
    }
}

#[inline]
fn pack(at: u32, fill: u32) -> u32 {
    BLOCK_BIT | (at << 3) | (fill - 1)
}

#[inline]
fn unpack(h: u32) -> (u32, u32) {
    ((h & !BLOCK_BIT) >> 3, (h & 7) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_indexes_across_chunks_and_keeps_order() {
        let mut c = Chunked::new();
        for i in 0..(3 * CHUNK + 5) as u32 {
            c.push(i);
        }
        assert_eq!(c.len(), 3 * CHUNK + 5);
        assert_eq!(c[CHUNK - 1], CHUNK as u32 - 1);
        assert_eq!(c[CHUNK], CHUNK as u32);
        assert_eq!(c[3 * CHUNK + 4], 3 * CHUNK as u32 + 4);
        c[CHUNK] = 7;
        assert_eq!(c[CHUNK], 7);
        assert!(c
            .iter()
            .copied()
            .enumerate()
            .all(|(i, v)| v == if i == CHUNK { 7 } else { i as u32 }));
    }

    #[test]
    fn slices_never_cross_a_block() {
        let mut s = Slices::default();
        let run: Vec<u32> = (0..1000).collect();
        let mut at = Vec::new();
        // Enough runs to fill more than two blocks.
        let len = |k: usize| 1000 - k % 3;
        for k in 0..(2 * BLOCK / 990 + 3) {
            at.push(s.push(&run[..len(k)]));
        }
        for (k, &a) in at.iter().enumerate() {
            assert_eq!(s.get(a, len(k)), &run[..len(k)]);
        }
        assert!(s.blocks.len() >= 3);
        assert!(s.blocks.iter().all(|b| b.len() <= BLOCK));
        let empty = s.push(&[]);
        assert_eq!(s.get(empty, 0), &[] as &[u32]);
    }

    #[test]
    fn buckets_walk_newest_first_and_old_handles_keep_their_documents() {
        let mut b = Buckets::default();
        let mut handles = Vec::new();
        for d in 0..40u32 {
            handles.push(b.push(7, d));
            b.push(1000 + d as u64, d);
        }
        let walk = |b: &Buckets, h: u32| {
            let mut v = Vec::new();
            b.walk(h, |d| {
                v.push(d);
                true
            });
            v
        };
        // The handle from before document d joined walks d-1 .. 0.
        for (d, &h) in handles.iter().enumerate() {
            assert_eq!(
                walk(&b, h),
                (0..d as u32).rev().collect::<Vec<_>>(),
                "before {d}"
            );
        }
        assert_eq!(walk(&b, b.get(7)), (0..40).rev().collect::<Vec<_>>());
        assert_eq!(walk(&b, b.get(1003)), vec![3]);
        assert_eq!(walk(&b, b.get(99)), Vec::<u32>::new());
        // Stopping early.
        let mut n = 0;
        b.walk(b.get(7), |_| {
            n += 1;
            n < 10
        });
        assert_eq!(n, 10);
        // Saved and rebuilt: the same walks; a damaged link is refused.
        let blocks: Chunked<[u32; 8]> = b.blocks().copied().collect();
        let hs: Vec<(u64, u32)> = b.handles().collect();
        let r = Buckets::from_parts(blocks.clone(), &hs, 40).unwrap();
        assert_eq!(walk(&r, r.get(7)), walk(&b, b.get(7)));
        assert!(Buckets::from_parts(blocks.clone(), &hs, 39).is_err());
        let mut bad = blocks.clone();
        bad[0][0] = 3;
        assert!(Buckets::from_parts(bad, &hs, 40).is_err());
        // Out of order inside a block, a slot past a gap, a link to a newer block.
        let mut bad = blocks.clone();
        bad[0].swap(1, 2);
        assert!(Buckets::from_parts(bad, &hs, 40).is_err());
        let mut bad = blocks.clone();
        let last = bad.len() - 1;
        bad[last][7] = 1;
        bad[last][6] = NONE;
        assert!(Buckets::from_parts(bad, &hs, 40).is_err());
        let mut bad = blocks;
        bad[1][0] = 2;
        assert!(Buckets::from_parts(bad, &hs, 40).is_err());
    }

    #[test]
    fn walking_all_chains_side_by_side_gives_each_chains_newest_documents() {
        let mut b = Buckets::default();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut befores = Vec::new();
        for d in 0..3000u32 {
            // buckets of very different lengths: a few long chains, many short ones
            let keys: Vec<u64> = (0..6u64)
                .map(|band| {
                    x = x.rotate_left(13).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ d as u64;
                    band << 32 | (x % [3, 40, 400, 2000, 1 << 20, 9][band as usize])
                })
                .collect();
            let mut before = Vec::new();
            crate::dedup::link_bands(&mut b, d, &keys, &mut before);
            befores.push(before);
        }
        for before in befores.iter().step_by(37) {
            for max_scan in [0, 1, 6, 7, 8, 15, 100, 5000] {
                let mut want = Vec::new();
                for &h in before {
                    let mut n = 0;
                    b.walk(h, |d| {
                        if n == max_scan {
                            return false;
                        }
                        want.push(d);
                        n += 1;
                        true
                    });
                }
                let mut got = Vec::new();
                b.walk_all(before, max_scan, &mut got);
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, want, "max_scan {max_scan}");
            }
        }
    }

    #[test]
    fn band_map_behaves_like_one_map() {
        let mut m = BandMap::default();
        let mut one = std::collections::HashMap::new();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..10_000u32 {
            x = x.rotate_left(17).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ i as u64;
            let key = if i % 3 == 0 { x % 500 } else { x };
            assert_eq!(m.insert(key, i), one.insert(key, i));
            assert_eq!(m.get(key), Some(i));
        }
        assert_eq!(m.len(), one.len());
        let mut a: Vec<(u64, u32)> = m.iter().collect();
        let mut b: Vec<(u64, u32)> = one.into_iter().collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
}
