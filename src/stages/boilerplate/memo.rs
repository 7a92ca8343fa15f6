//! What the classifier learns from a line alone, remembered per worker thread.
//!
//! Why: scraped dumps repeat lines massively. Every page of a site carries the same menu,
//! share buttons, newsletter box and footer, and republished copies of a story carry its
//! paragraphs again (on the generated benchmark dumps two lines in three, a third of the
//! bytes, had been seen before). The rule packs, the stop-word tally, the byline and the
//! timestamp detectors are pure functions of the trimmed line, so a line seen before on the
//! same thread costs one hash lookup and one comparison instead of a tokenisation, a
//! lower-casing, an automaton scan and a few regexes.
//!
//! The memo never changes a result: an entry is found only for the same bytes (compared,
//! not trusted to the hash) and the same stage (facts depend on its rules: a thread that
//! serves another stage, built with other options, starts over), and what it holds is what
//! computing it again would give. Which lines a thread has seen depends on the scheduling;
//! what it answers does not, so the output stays the same for any number of threads. Memory
//! is bounded: at [`MAX_ENTRIES`] lines or [`MAX_TEXT`] bytes of line text the memo starts
//! over.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::lang::{LineTally, LANGS};
use crate::dedup::KeyMap;

/// Lines remembered per thread before the memo starts over.
const MAX_ENTRIES: usize = 1 << 16;
/// Bytes of line text remembered per thread before the memo starts over.
const MAX_TEXT: usize = 8 << 20;
/// Longer lines are not remembered: they would crowd out the many short ones.
const MAX_LINE: usize = 4096;

/// The facts of one trimmed, non-blank line that depend on its bytes alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFacts {
    /// Token counts: words, cased and upper-case words, stop words per language.
    pub tally: LineTally,
    /// Stop-word hits per language among all its tokens (for the language guess).
    pub hits: [u32; LANGS.len()],
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

/// The per-thread memo: line hash to entry, entries with the place of their text.
#[derive(Default)]
pub struct Memo {
    /// The stage whose facts these are ([`Memo::take`]).
    owner: u64,
    index: KeyMap<u32>,
    entries: Vec<(LineFacts, u32, u32)>,
    text: String,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

impl Memo {
    /// This thread's memo for the stage numbered `owner` ([`Memo::new_owner`]), taken out
    /// for the duration of one document (a panic in between only loses the cache); emptied
    /// if it holds another stage's facts.
    pub fn take(owner: u64) -> Memo {
        let mut m = MEMO.with_borrow_mut(std::mem::take);
        if m.owner != owner {
            m = Memo {
                owner,
                ..Memo::default()
            };
        }
        m
    }

    /// A number for a new stage, never given before in this process (0 is never given).
    pub fn new_owner() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// Give the memo back to this thread.
    pub fn put_back(self) {
        MEMO.with_borrow_mut(|m| *m = self);
    }

    /// The facts of line `t` (hash `hash`), computed by `compute` unless remembered.
    pub fn facts(
        &mut self,
        hash: u64,
        t: &str,
        compute: impl FnOnce(&str) -> LineFacts,
    ) -> LineFacts {
        if t.len() > MAX_LINE {
            return compute(t);
        }
        if let Some(&k) = self.index.get(&hash) {
            let (f, at, len) = self.entries[k as usize];
            if &self.text[at as usize..(at + len) as usize] == t {
                return f;
            }
        }
        let f = compute(t);
        if self.entries.len() >= MAX_ENTRIES || self.text.len() + t.len() > MAX_TEXT {
            self.index.clear();
            self.entries.clear();
            self.text.clear();
        }
        self.index.insert(hash, self.entries.len() as u32);
        self.entries
            .push((f, self.text.len() as u32, t.len() as u32));
        self.text.push_str(t);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_by_bytes_not_by_hash_and_starts_over_when_full() {
        let mut m = Memo::default();
        let calls = std::cell::Cell::new(0);
        let get = |m: &mut Memo, h: u64, t: &str| {
            m.facts(h, t, |t| {
                calls.set(calls.get() + 1);
                LineFacts {
                    chars: t.len() as u32,
                    ..LineFacts::default()
                }
            })
            .chars
        };
        assert_eq!(get(&mut m, 1, "menu"), 4);
        assert_eq!(get(&mut m, 1, "menu"), 4);
        // same hash, other bytes: computed, never confused
        assert_eq!(get(&mut m, 1, "search"), 6);
        assert_eq!(get(&mut m, 1, "search"), 6);
        // the slot now holds "search": "menu" is computed again, not answered with its facts
        assert_eq!(get(&mut m, 1, "menu"), 4);
        assert_eq!(calls.get(), 3);
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            m.facts(i + 10, "x", |_| LineFacts::default());
        }
        assert!(m.entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn another_stage_never_reads_this_ones_facts() {
        let (a, b) = (Memo::new_owner(), Memo::new_owner());
        let fact = |chars| LineFacts {
            chars,
            ..LineFacts::default()
        };
        let mut m = Memo::take(a);
        assert_eq!(m.facts(5, "share", |_| fact(1)).chars, 1);
        m.put_back();
        let mut m = Memo::take(b);
        assert_eq!(m.facts(5, "share", |_| fact(2)).chars, 2);
        m.put_back();
        let mut m = Memo::take(b);
        assert_eq!(m.facts(5, "share", |_| fact(3)).chars, 2);
        m.put_back();
    }

    #[test]
    fn long_lines_are_not_remembered() {
        let mut m = Memo::default();
        let long = "a".repeat(MAX_LINE + 1);
        m.facts(7, &long, |_| LineFacts::default());
        assert!(m.entries.is_empty());
    }
}
