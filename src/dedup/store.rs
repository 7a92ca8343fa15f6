//! Growable storage for the dedup index that never copies what it holds.
//!
//! A `Vec` or a hash table that doubles keeps its old and its new buffer alive while it
//! copies: on a gigabyte dump the index's sketches (≈1 KB per document) and band-key table
//! (≈0.7 KB per document) each reach hundreds of megabytes, and one such doubling was the
//! peak of the whole run's memory. It also touched every page twice (the kernel zeroes each
//! new huge page). These types grow by fixed-size chunks (or, for the table, by one of many
//! small partitions at a time), so the peak is the index itself plus one chunk.

use std::ops::{Index, IndexMut};

use super::KeyMap;

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
        Chunked { chunks: Vec::new(), len: 0 }
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

    /// The elements as consecutive slices (each a whole chunk but the last).
    pub(crate) fn slices(&self) -> impl Iterator<Item = &[T]> + '_ {
        self.chunks.iter().map(|c| c.as_slice())
    }
}

impl<T: Clone> Chunked<T> {
    /// Append `n` copies of `v`.
    pub(crate) fn extend_with(&mut self, n: usize, v: T) {
        for _ in 0..n {
            self.push(v.clone());
        }
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
        let fits = self.blocks.last().is_some_and(|b| b.len() + run.len() <= BLOCK);
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

/// The band-key table (key → newest document of the bucket), as [`PARTS`] hash tables chosen
/// by bits of the key that the tables themselves use for neither the slot nor the tag:
/// each grows on its own, so a resize copies 1/64 of the table.
#[derive(Debug)]
pub(crate) struct BandMap {
    parts: Vec<KeyMap<u32>>,
}

impl Default for BandMap {
    fn default() -> Self {
        BandMap { parts: (0..PARTS).map(|_| KeyMap::default()).collect() }
    }
}

impl BandMap {
    #[inline]
    fn part(key: u64) -> usize {
        // Bits 40..46: above the slot bits of any table under 2^40 slots, below the
        // top seven bits that hashbrown keeps as the tag.
        ((key >> 40) as usize) & (PARTS - 1)
    }

    /// Set `key`'s value to `v`, returning the previous one.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, v: u32) -> Option<u32> {
        self.parts[Self::part(key)].insert(key, v)
    }

    /// The value of `key`.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        self.parts[Self::part(key)].get(&key).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.parts.iter().flat_map(|p| p.iter().map(|(&k, &v)| (k, v)))
    }
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
        assert!(c.iter().copied().enumerate().all(|(i, v)| v == if i == CHUNK { 7 } else { i as u32 }));
        assert_eq!(c.slices().map(|s| s.len()).sum::<usize>(), c.len());
        let mut e: Chunked<u32> = Chunked::new();
        e.extend_with(CHUNK + 1, 9);
        assert_eq!((e.len(), e[CHUNK]), (CHUNK + 1, 9));
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
