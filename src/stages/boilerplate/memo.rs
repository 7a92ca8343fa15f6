//! What the classifier learns from a line alone, remembered across documents and threads.
//!
//! Why: scraped dumps repeat lines massively. Every page of a site carries the same menu,
//! share buttons, newsletter box and footer, and republished copies of a story carry its
//! paragraphs again (on the generated benchmark dumps two lines in three, a third of the
//! bytes, had been seen before). The rule packs, the stop-word tally, the byline and the
//! timestamp detectors are pure functions of the trimmed line, so a line seen before costs
//! one hash and one lookup instead of a tokenisation, a lower-casing, an automaton scan and a
//! few regexes.
//!
//! Why one memo for all worker threads (in shards, each behind its own lock) rather than one
//! per thread: a line the other thread met was computed again, and a batch's copies of a
//! story are as likely in the other half of it. Simulated on the 200 MB generated dump: two
//! threads with a memo of their own (64K lines each, with their text) computed the facts of
//! 80% of the line bytes; one shared memo of about the same memory (256K lines, no text), 69%.
//!
//! The memo never changes a result: what it holds is what computing it again would give,
//! and a line is known by its 128-bit hash (xxh3). Two different lines of one run share it
//! with a probability below 10^-20 even for a billion distinct lines; storing the text to
//! compare instead would double the memory for the same number of lines. The memo belongs to
//! its stage (facts depend on its rules). Which lines are remembered depends on the
//! scheduling; what the memo answers does not, so the output stays the same for any number
//! of threads. Memory is fixed: [`SLOTS`] lines of 128 bytes.

use std::sync::{Mutex, PoisonError};

use super::lang::{LineTally, LANGS};

/// Lines remembered at most (32 MB of slots).
const SLOTS: usize = 1 << 18;
/// Independently locked parts: two threads rarely want the same one at once.
const SHARDS: usize = 64;
/// Longer lines are not remembered: they would crowd out the many short ones.
const MAX_LINE: usize = 4096;

/// The facts of one trimmed, non-blank line that depend on its bytes alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFacts {
    /// Token counts: words, cased and upper-case words, stop words per language.
    pub tally: LineTally,
    /// Stop-word hits per language among all its tokens (for the language guess, which
    /// reads them for texts of at most 8,000 bytes: far below the `u16` limit).
    pub hits: [u16; LANGS.len()],
    /// Length in characters.
    pub chars: u32,
    /// Ends like a sentence.
    pub sentence_end: bool,
    /// The first rule (pack order) it matches.
    pub rule: Option<u32>,
    /// Byte range of the author's name, when it is a byline (only looked for without a rule).
    pub byline: Option<(u32, u32)>,
    /// A timestamp line (only looked for without a rule).
    pub timestamp: bool,
}

/// A remembered line: its 128-bit hash and facts, two cache lines (a pair the CPU fetches
/// together).
#[derive(Clone, Copy, Default)]
#[repr(C, align(128))]
struct Slot {
    used: bool,
    lo: u64,
    hi: u64,
    facts: LineFacts,
}

/// The stage's memo, shared by the worker threads: a direct-mapped cache, a line's place
/// given by its hash, the newer line taking the place of the older. Why not a hash map of
/// entries: a look-up missed the cache three times in a row (control bytes, slot, entry), a
/// tenth of the stage; here it reads one slot. It keeps about as many repeats (a simulation
/// on the 200 MB generated dump: 69.8% of line bytes computed against 68.8%).
pub struct Memo {
    shards: Box<[Shard]>,
}

/// One shard's slots behind their lock, on a cache line of its own: two threads taking locks
/// of neighbouring shards must not pull the same line back and forth.
#[repr(align(64))]
struct Shard {
    slots: Mutex<Box<[Slot]>>,
    /// The address of the slots (they never move), for [`Memo::prefetch`], which needs no
    /// lock: taking one for every line of every document only to ask for a cache line made
    /// the two threads wait on each other. An address, not a pointer: nothing reads it.
    base: usize,
}

impl Default for Memo {
    fn default() -> Self {
        Memo {
            shards: (0..SHARDS)
                .map(|_| {
                    let slots = vec![Slot::default(); SLOTS / SHARDS].into_boxed_slice();
                    Shard {
                        base: slots.as_ptr() as usize,
                        slots: Mutex::new(slots),
                    }
                })
                .collect(),
        }
    }
}

/// The memo's key of a trimmed line: its 128-bit xxh3 hash.
pub fn key(t: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(t.as_bytes())
}

impl Memo {
    /// The shard and the slot in it of key `k`.
    fn place(k: u128) -> (usize, usize) {
        let (lo, hi) = (k as u64, (k >> 64) as u64);
        (
            (hi % SHARDS as u64) as usize,
            (lo as usize) % (SLOTS / SHARDS),
        )
    }

    /// Ask the CPU to bring the slot of line `t` (key `k`) into the cache. Why: nearly every
    /// look-up misses the cache (32 MB of slots); asking for all the lines of a document
    /// first overlaps those misses instead of waiting for each in turn.
    pub fn prefetch(&self, t: &str, k: u128) {
        if t.len() <= MAX_LINE {
            let (s, at) = Memo::place(k);
            let base = self.shards[s].base as *const Slot;
            crate::dedup::prefetch_ptr(base.wrapping_add(at));
        }
    }

    /// The facts of the trimmed line `t` (key `k`), computed by `compute` unless remembered.
    /// The lock is not held while computing: two threads may both compute a new line, with
    /// the same result.
    pub fn facts(&self, t: &str, k: u128, compute: impl FnOnce(&str) -> LineFacts) -> LineFacts {
        if t.len() > MAX_LINE {
            return compute(t);
        }
        let (lo, hi) = (k as u64, (k >> 64) as u64);
        let (s, at) = Memo::place(k);
        // a panic elsewhere while a shard was locked leaves it consistent (a slot is written
        // whole before the lock is released), so a poisoned lock is simply taken
        let shard = &self.shards[s].slots;
        {
            let slots = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let s = &slots[at];
            if s.used && s.lo == lo && s.hi == hi {
                return s.facts;
            }
        }
        let facts = compute(t);
        shard.lock().unwrap_or_else(PoisonError::into_inner)[at] = Slot {
            used: true,
            lo,
            hi,
            facts,
        };
        facts
    }

    /// Lines remembered now (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let slots = s.slots.lock().unwrap_or_else(PoisonError::into_inner);
                slots.iter().filter(|x| x.used).count()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn chars_of(m: &Memo, t: &str, calls: &AtomicUsize) -> u32 {
        m.prefetch(t, key(t));
        m.facts(t, key(t), |t| {
            calls.fetch_add(1, Ordering::Relaxed);
            LineFacts {
                chars: t.len() as u32,
                ..LineFacts::default()
            }
        })
        .chars
    }

    #[test]
    fn a_line_is_computed_once_and_others_are_never_confused_with_it() {
        let m = Memo::default();
        let calls = AtomicUsize::new(0);
        assert_eq!(chars_of(&m, "menu", &calls), 4);
        assert_eq!(chars_of(&m, "menu", &calls), 4);
        assert_eq!(chars_of(&m, "search", &calls), 6);
        assert_eq!(chars_of(&m, "menu", &calls), 4);
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn memory_stays_bounded() {
        let m = Memo::default();
        let calls = AtomicUsize::new(0);
        for i in 0..SLOTS + 5000 {
            chars_of(&m, &format!("line {i}"), &calls);
        }
        assert!(m.len() <= SLOTS);
        // the latest line is still remembered
        let before = calls.load(Ordering::Relaxed);
        chars_of(&m, &format!("line {}", SLOTS + 4999), &calls);
        assert_eq!(calls.load(Ordering::Relaxed), before);
    }

    #[test]
    fn a_slot_is_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Slot>(), 128);
    }

    #[test]
    fn long_lines_are_not_remembered() {
        let m = Memo::default();
        let calls = AtomicUsize::new(0);
        let long = "a".repeat(MAX_LINE + 1);
        chars_of(&m, &long, &calls);
        chars_of(&m, &long, &calls);
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert_eq!(m.len(), 0);
    }

    /// Threads sharing the memo get the same answers as computing every line themselves.
    #[test]
    fn threads_share_it_and_agree() {
        let m = Memo::default();
        let calls = AtomicUsize::new(0);
        let lines: Vec<String> = (0..2000).map(|i| format!("line {}", i % 300)).collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for l in &lines {
                        assert_eq!(chars_of(&m, l, &calls) as usize, l.len());
                    }
                });
            }
        });
        // each distinct line at least once, far fewer than every look-up
        let n = calls.load(Ordering::Relaxed);
        assert!((300..4 * 2000).contains(&n), "{n}");
    }
}
