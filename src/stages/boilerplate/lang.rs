//! Stop-word lists per language (jusText's idea: prose is dense in function words, menus,
//! headlines and link lists are not) and a per-document language guess.
//!
//! The lists are data files (`stopwords/<lang>.txt`, words separated by whitespace, `#`
//! comments) compiled in. Words map to a bit mask of the languages that list them, so one
//! hash lookup per token serves every language. Chinese is counted per character; Japanese
//! (no list) is recognised by its kana particles.

use rustc_hash::FxHashMap;

/// Languages with a stop-word list, in bit order.
pub const LANGS: &[(&str, &str)] = &[
    ("en", include_str!("stopwords/en.txt")),
    ("ru", include_str!("stopwords/ru.txt")),
    ("uk", include_str!("stopwords/uk.txt")),
    ("de", include_str!("stopwords/de.txt")),
    ("fr", include_str!("stopwords/fr.txt")),
    ("es", include_str!("stopwords/es.txt")),
    ("it", include_str!("stopwords/it.txt")),
    ("pt", include_str!("stopwords/pt.txt")),
    ("pl", include_str!("stopwords/pl.txt")),
    ("ar", include_str!("stopwords/ar.txt")),
    ("zh", include_str!("stopwords/zh.txt")),
    ("id", include_str!("stopwords/id.txt")),
    ("nl", include_str!("stopwords/nl.txt")),
];

/// Index of Chinese in [`LANGS`] (its list is of characters).
const ZH: usize = 10;

/// The document's script/language family as far as the classifier cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// A language with a word list (index into [`LANGS`]).
    Words(usize),
    /// Chinese: stop characters over CJK characters.
    Chinese,
    /// Japanese: kana share of the characters.
    Japanese,
    /// No list: stop-word density is not used.
    Unknown,
}

/// Lower-cased stop words to their language masks. Every token of every line is looked up,
/// so the table is split by key length: keys of at most 8 bytes (most of them) are packed
/// into a `u64`, keys of 9 to 16 bytes into a `u128` (zero padded; no key or token contains
/// a NUL byte), and hashed with one or two FxHash steps, instead of hashing a `String` with
/// a streaming hasher.
#[derive(Debug)]
pub struct StopWords {
    short: ShortTable,
    packed: FxHashMap<u128, u32>,
    long: FxHashMap<Box<[u8]>, u32>,
    /// Longest key in bytes: a longer lower-cased token cannot be a stop word.
    max_len: usize,
    /// Longest pure-ASCII key: an ASCII token lower-cases to the same length.
    max_ascii_len: usize,
    zh_chars: Vec<char>,
}

/// The stop words of at most 8 bytes (packed into a `u64`, never 0) and their language
/// masks, by cuckoo hashing: a key is in one of two slots given by two multiplicative hashes,
/// and a look-up reads both and keeps the mask of the one holding the key, with no branch.
/// Why not a hash map: every token of every line is looked up, about half of them are stop
/// words, and a map's probe loop mispredicted its way through that mix.
#[derive(Debug)]
struct ShortTable {
    keys: Box<[u64]>,
    masks: Box<[u32]>,
    /// 64 minus the number of index bits.
    shift: u32,
}

impl ShortTable {
    const MUL: [u64; 2] = [0x9E37_79B9_7F4A_7C15, 0xD6E8_FEB8_6659_FD93];

    #[inline(always)]
    fn slot(&self, k: u64, which: usize) -> usize {
        (k.wrapping_mul(Self::MUL[which]) >> self.shift) as usize
    }

    /// A table of `entries` (distinct non-zero keys), at most half full.
    fn new(entries: &[(u64, u32)]) -> ShortTable {
        let mut bits = 4;
        while (1usize << bits) < 2 * entries.len().max(1) {
            bits += 1;
        }
        loop {
            if let Some(t) = Self::build(entries, bits) {
                return t;
            }
            bits += 1;
        }
    }

    /// Cuckoo insertion of every entry into `2^bits` slots; `None` when an insertion goes
    /// round in circles (then a bigger table is tried).
    fn build(entries: &[(u64, u32)], bits: u32) -> Option<ShortTable> {
        let n = 1usize << bits;
        let mut t = ShortTable {
            keys: vec![0; n].into_boxed_slice(),
            masks: vec![0; n].into_boxed_slice(),
            shift: 64 - bits,
        };
        for &(key, mask) in entries {
            let (mut k, mut m, mut which) = (key, mask, 0);
            let mut placed = false;
            for _ in 0..4 * n {
                let s = t.slot(k, which);
                std::mem::swap(&mut t.keys[s], &mut k);
                std::mem::swap(&mut t.masks[s], &mut m);
                if k == 0 {
                    placed = true;
                    break;
                }
                // the evicted key goes to its other slot
                which = usize::from(t.slot(k, 0) == s);
            }
            if !placed {
                return None;
            }
        }
        Some(t)
    }

    /// The language mask of key `k` (0 when no list has it).
    #[inline(always)]
    fn mask(&self, k: u64) -> u32 {
        let (a, b) = (self.slot(k, 0), self.slot(k, 1));
        // Both slots read and the hit chosen by masking, never by a branch: whether a token
        // is a stop word, and in which slot, is a coin toss the predictor lost (compiled
        // from `if`, the look-up was a third of the tally).
        let hit = |s: usize| std::hint::select_unpredictable(self.keys[s] == k, self.masks[s], 0);
        hit(a) | hit(b)
    }
}

/// `b` (at most 16 bytes) as a little-endian `u128`, zero padded, ASCII upper case
/// lowered when `lower` (then `b` must be ASCII). Built from (overlapping) word loads in
/// registers and lower-cased eight bytes at a time ([`lower_ascii`]): writing the bytes to
/// a stack array and reading it back as one word stalls on store forwarding, and the former
/// byte-by-byte loop (a shift, an or and a lower-casing per byte) was a third of the lookup.
#[inline]
fn pack(b: &[u8], lower: bool) -> u128 {
    let b = &b[..b.len().min(16)];
    let n = b.len();
    let (lo, hi) = if n <= 8 {
        (load_le(b), 0)
    } else {
        let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        // bytes n-8..n, shifted so that byte 8 lands at the bottom (bytes before it drop out)
        let tail = u64::from_le_bytes(b[n - 8..].try_into().unwrap_or_default());
        (lo, tail >> (8 * (16 - n)))
    };
    let (lo, hi) = if lower {
        (lower_ascii(lo), lower_ascii(hi))
    } else {
        (lo, hi)
    };
    (hi as u128) << 64 | lo as u128
}

/// Up to 8 bytes as a little-endian `u64`, zero padded: two overlapping loads (their common
/// bytes are the same bytes, so or-ing them is exact).
#[inline]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as u64;
        let hi = u32::from_le_bytes(b[n - 4..n].try_into().unwrap_or_default()) as u64;
        lo | hi << (8 * (n - 4))
    } else if n >= 2 {
        let lo = u16::from_le_bytes([b[0], b[1]]) as u64;
        let hi = u16::from_le_bytes([b[n - 2], b[n - 1]]) as u64;
        lo | hi << (8 * (n - 2))
    } else {
        b.first().map_or(0, |&x| x as u64)
    }
}

/// `to_ascii_lowercase` of eight bytes below 0x80 at once: a byte gets bit 5 set when it is
/// at least `A` and not above `Z` (no byte below 0x80 carries into its neighbour when 0x3f
/// or 0x25 is added to it).
#[inline]
fn lower_ascii(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let ge_a = x.wrapping_add(ONES * (0x80 - b'A' as u64));
    let gt_z = x.wrapping_add(ONES * (0x80 - b'Z' as u64 - 1));
    x | ((ge_a & !gt_z & (ONES * 0x80)) >> 2)
}

/// Counts of one line: tokens, stop words in the document language, characters of CJK.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineCounts {
    pub words: u32,
    pub stops: u32,
    /// Tokens looked up for `stops` (a long line is sampled: its first [`SAMPLE_TOKENS`]).
    pub sampled: u32,
    /// Tokens of at least 4 characters that start with a cased letter (counted in the same
    /// pass over the tokens, for the title-case share).
    pub cased: u32,
    /// Of `cased`, those starting with an upper-case letter.
    pub upper: u32,
}

/// Stop-word density of a long line is estimated from this many tokens.
pub const SAMPLE_TOKENS: u32 = 64;

/// The language is guessed from a sample of this many bytes from the middle of the text.
pub const SAMPLE_BYTES: usize = 8_000;

/// A line's token counts for every language at once ([`StopWords::tally`]).
///
/// Why: a text no longer than [`SAMPLE_BYTES`] is its own language sample, and its tokens are
/// those of its lines. One pass over the tokens of each line then serves both the language
/// guess (the hits of all tokens) and the line statistics (the stop words of every language
/// among the first [`SAMPLE_TOKENS`] tokens, to be read off once the language is known),
/// instead of tokenising and looking up the whole text twice.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineTally {
    words: u32,
    cased: u32,
    upper: u32,
    /// Stop words per language (bit index of [`LANGS`]) among the first tokens.
    stops: [u8; 16],
}

/// Longest line [`StopWords::tally`] takes through its bit-mask path.
const TALLY_FAST_MAX: usize = 4096;

impl LineTally {
    /// Count one more token, of language mask `m`: a word, its language hits, and the stop
    /// words of the first [`SAMPLE_TOKENS`].
    #[inline]
    fn add(&mut self, mut m: u32, hits: &mut [u32; 32]) {
        let sampled = self.words < SAMPLE_TOKENS;
        self.words += 1;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            if i < LANGS.len() {
                hits[i] += 1;
                if sampled {
                    self.stops[i] += 1;
                }
            }
            m &= m - 1;
        }
    }

    /// The line's counts in `lang`, as [`StopWords::count`] gives them; `lang` is one the
    /// tally can answer for (a word list or unknown, not Chinese or Japanese).
    pub fn counts(&self, lang: Lang) -> LineCounts {
        let mut c = LineCounts {
            words: self.words,
            cased: self.cased,
            upper: self.upper,
            ..LineCounts::default()
        };
        match lang {
            Lang::Words(i) => {
                c.sampled = self.words.min(SAMPLE_TOKENS);
                c.stops = self.stops[i] as u32;
            }
            _ => c.sampled = self.words,
        }
        c
    }
}

/// Per-language counters of [`StopWords::tally_fast`] kept as bytes in two words (SWAR):
/// a token's language mask (13 bits) spreads to one byte per language through [`SPREAD`],
/// and one addition per word counts it in every language at once. Why: adding it bit by bit
/// was a loop whose length (the number of lists with the word: none, one or several) the
/// branch predictor could not guess. A byte holds 255 counts, so the hits are moved to the
/// `u32` counters every 255 tokens; the stop words are only counted for the first
/// [`SAMPLE_TOKENS`] (< 256) tokens.
#[derive(Default)]
struct Swar {
    /// Bytes 0-7 and 8-15 of the counts (languages by bit index; at most 16 of them).
    hits: [u64; 2],
    stops: [u64; 2],
    /// Tokens in `hits` since the last flush.
    n: u32,
}

const _: () = assert!(LANGS.len() <= 16);

/// Byte `j` of `SPREAD[x]` is bit `j` of `x`.
static SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut x = 0;
    while x < 256 {
        let mut j = 0;
        while j < 8 {
            t[x] |= (((x >> j) & 1) as u64) << (8 * j);
            j += 1;
        }
        x += 1;
    }
    t
};

impl Swar {
    #[inline(always)]
    fn add(&mut self, m: u32, sampled: bool) {
        let lo = SPREAD[(m & 0xFF) as usize];
        let hi = SPREAD[((m >> 8) & 0xFF) as usize];
        self.hits[0] += lo;
        self.hits[1] += hi;
        let keep = 0u64.wrapping_sub(sampled as u64);
        self.stops[0] += lo & keep;
        self.stops[1] += hi & keep;
        self.n += 1;
    }

    /// Move the hit counts to `hits`.
    #[inline]
    fn flush(&mut self, hits: &mut [u32; 32]) {
        if self.n == 0 {
            return;
        }
        for (i, h) in hits.iter_mut().enumerate().take(LANGS.len()) {
            *h += (self.hits[i / 8] >> (8 * (i % 8))) as u8 as u32;
        }
        self.hits = [0; 2];
        self.n = 0;
    }

    /// The stop-word counts per language.
    fn stops(&self) -> [u8; 16] {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&self.stops[0].to_le_bytes());
        s[8..].copy_from_slice(&self.stops[1].to_le_bytes());
        s
    }
}

impl LineCounts {
    pub fn density(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.stops as f64 / self.sampled as f64
        }
    }
}

impl StopWords {
    pub fn builtin() -> StopWords {
        let mut words: FxHashMap<String, u32> = FxHashMap::default();
        let mut zh_chars = Vec::new();
        for (i, (_, text)) in LANGS.iter().enumerate() {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                for w in line.split_whitespace() {
                    if i == ZH {
                        zh_chars.extend(w.chars());
                    } else {
                        *words.entry(w.to_lowercase()).or_default() |= 1 << i;
                    }
                }
            }
        }
        zh_chars.sort_unstable();
        zh_chars.dedup();
        let (mut short, mut packed, mut long) =
            (Vec::new(), FxHashMap::default(), FxHashMap::default());
        let (mut max_len, mut max_ascii_len) = (0, 0);
        for (w, m) in words {
            let b = w.as_bytes();
            max_len = max_len.max(b.len());
            if b.is_ascii() {
                max_ascii_len = max_ascii_len.max(b.len());
            }
            if b.len() <= 8 {
                short.push((pack(b, false) as u64, m));
            } else if b.len() <= 16 {
                packed.insert(pack(b, false), m);
            } else {
                long.insert(b.into(), m);
            }
        }
        StopWords {
            short: ShortTable::new(&short),
            packed,
            long,
            max_len,
            max_ascii_len,
            zh_chars,
        }
    }

    /// Language mask of an already lower-cased token (0: no list has it).
    #[inline]
    fn mask_lower(&self, b: &[u8]) -> u32 {
        if b.len() <= 8 {
            self.short.mask(pack(b, false) as u64)
        } else if b.len() <= 16 {
            self.packed.get(&pack(b, false)).copied().unwrap_or(0)
        } else if b.len() <= self.max_len {
            self.long.get(b).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Language mask of a token: the lists that have its lower-cased form. ASCII tokens are
    /// lower-cased on the stack; others go through [`lower_into`] (`buf` is scratch space).
    #[inline]
    pub fn mask(&self, tok: &str, buf: &mut String) -> u32 {
        let b = tok.as_bytes();
        if b.is_ascii() {
            return self.mask_ascii(b, buf);
        }
        lower_into(tok, buf);
        self.mask_lower(buf.as_bytes())
    }

    /// [`StopWords::mask`] of an ASCII token.
    #[inline]
    fn mask_ascii(&self, b: &[u8], buf: &mut String) -> u32 {
        if b.len() > self.max_ascii_len {
            return 0;
        }
        if b.len() <= 8 {
            return self.short.mask(pack(b, true) as u64);
        }
        if b.len() <= 16 {
            return self.packed.get(&pack(b, true)).copied().unwrap_or(0);
        }
        buf.clear();
        buf.extend(b.iter().map(|&c| c.to_ascii_lowercase() as char));
        self.mask_lower(buf.as_bytes())
    }

    /// Guess the document language from its text: the word list with most hits, unless CJK
    /// characters dominate.
    pub fn detect(&self, text: &str) -> Lang {
        let mut hits = [0u32; 32];
        let mut buf = String::new();
        // a sample is enough: 8 kB from the middle, where the body of a page usually is
        const SAMPLE: usize = SAMPLE_BYTES;
        let mut start = text.len().saturating_sub(SAMPLE) / 2;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        let mut end = (start + SAMPLE).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let sample = &text[start..end];
        if maybe_cjk(sample) {
            let (mut cjk, mut kana, mut letters) = (0u32, 0u32, 0u32);
            for c in sample.chars() {
                if c.is_ascii() {
                    letters += c.is_ascii_alphabetic() as u32;
                } else if c.is_alphabetic() {
                    letters += 1;
                    if is_kana(c) {
                        kana += 1;
                    } else if is_han(c) {
                        cjk += 1;
                    }
                }
            }
            if letters > 0 && (cjk + kana) * 3 > letters {
                return if kana * 5 > cjk {
                    Lang::Japanese
                } else {
                    Lang::Chinese
                };
            }
        }
        for tok in tokens(sample) {
            let mut m = self.mask(tok, &mut buf);
            while m != 0 {
                let i = m.trailing_zeros() as usize;
                if i < LANGS.len() {
                    hits[i] += 1;
                }
                m &= m - 1;
            }
        }
        lang_of_hits(&hits)
    }

    /// Whether [`StopWords::tally`] of each line can stand in for `detect` and `count` on
    /// `text`: the text is its whole sample, and cannot be Chinese or Japanese.
    pub fn can_tally(text: &str) -> bool {
        text.len() <= SAMPLE_BYTES && !maybe_cjk(text)
    }

    /// Tally one line (see [`LineTally`]), adding the language hits of all its tokens to
    /// `hits`; [`lang_of_hits`] of the hits of all lines is `detect` of the text.
    pub fn tally(&self, line: &str, hits: &mut [u32; 32], buf: &mut String) -> LineTally {
        let mut t = LineTally::default();
        if line.len() <= TALLY_FAST_MAX {
            self.tally_fast(line, hits, buf, &mut t);
            return t;
        }
        let mut c = LineCounts::default();
        for tok in tokens(line) {
            title_case(tok, &mut c);
            let m = self.mask(tok, buf);
            t.add(m, hits);
        }
        t.cased = c.cased;
        t.upper = c.upper;
        t
    }

    /// [`StopWords::tally`] of a line of at most [`TALLY_FAST_MAX`] bytes. Why: most words
    /// of most dumps are ASCII, even in lines with a curly quote or a dash. One bit per byte
    /// marks the ASCII token bytes and another the non-ASCII bytes (SSE2, 16 at a time); the
    /// token starts and ends are bit operations on those masks, and the tokens are taken off
    /// them with bit scans instead of a byte-by-byte walk. An ASCII separator ends a token
    /// whatever surrounds it, so a run without non-ASCII bytes is one token (apostrophes
    /// trimmed), and only a run with some goes through [`tokens`]. Each ASCII token's
    /// language mask is counted without a branch ([`Swar`]). The same tokens and counts as
    /// [`tokens`] of the whole line (tested).
    fn tally_fast(&self, line: &str, hits: &mut [u32; 32], buf: &mut String, t: &mut LineTally) {
        let b = line.as_bytes();
        let n = b.len();
        let nw = n.div_ceil(64);
        let mut tok_masks = [0u64; TALLY_FAST_MAX / 64];
        let mut hi_masks = [0u64; TALLY_FAST_MAX / 64];
        let mut any_hi = 0u64;
        for k in 0..nw {
            let mut block = [b' '; 64];
            let part = &b[64 * k..n.min(64 * k + 64)];
            block[..part.len()].copy_from_slice(part);
            let (tok, hi) = token_mask64(&block);
            tok_masks[k] = tok | hi;
            hi_masks[k] = hi;
            any_hi |= hi;
        }
        let mut acc = Swar::default();
        // a token whose end is in a later word: its start
        let mut open = usize::MAX;
        let mut carry = 0u64;
        for k in 0..nw {
            let w = tok_masks[k];
            let next = if k + 1 < nw { tok_masks[k + 1] & 1 } else { 0 };
            let mut starts = w & !((w << 1) | carry);
            let mut ends = w & !((w >> 1) | (next << 63));
            carry = w >> 63;
            loop {
                if open != usize::MAX {
                    if ends == 0 {
                        break;
                    }
                    let end = 64 * k + ends.trailing_zeros() as usize + 1;
                    ends &= ends - 1;
                    let start = std::mem::replace(&mut open, usize::MAX);
                    if any_hi != 0 && any_bit(&hi_masks[..nw], start, end) {
                        let mut c = LineCounts::default();
                        for tok in tokens(&line[start..end]) {
                            title_case(tok, &mut c);
                            t.add(self.mask(tok, buf), hits);
                        }
                        t.cased += c.cased;
                        t.upper += c.upper;
                    } else {
                        self.tally_ascii(b, start, end, t, &mut acc, hits, buf);
                    }
                }
                if starts == 0 {
                    break;
                }
                open = 64 * k + starts.trailing_zeros() as usize;
                starts &= starts - 1;
            }
        }
        acc.flush(hits);
        for (s, x) in t.stops.iter_mut().zip(acc.stops()) {
            *s += x;
        }
    }

    /// Count the ASCII token `b[s..e]` (apostrophes not yet trimmed) into `t` and `acc`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn tally_ascii(
        &self,
        b: &[u8],
        mut s: usize,
        mut e: usize,
        t: &mut LineTally,
        acc: &mut Swar,
        hits: &mut [u32; 32],
        buf: &mut String,
    ) {
        if b[s] == b'\'' || b[e - 1] == b'\'' {
            while s < e && b[s] == b'\'' {
                s += 1;
            }
            while e > s && b[e - 1] == b'\'' {
                e -= 1;
            }
            if s == e {
                return;
            }
        }
        let tok = &b[s..e];
        let len = tok.len();
        let b0 = tok[0];
        let long = (len >= 4) as u32;
        t.cased += long & b0.is_ascii_alphabetic() as u32;
        t.upper += long & b0.is_ascii_uppercase() as u32;
        // A word of at most 8 bytes with 8 bytes of the line from its start: one load and
        // a mask instead of `pack`'s branches on the length, which is anything but
        // predictable.
        let m = if len <= 8 && s + 8 <= b.len() {
            let w = u64::from_le_bytes(b[s..s + 8].try_into().unwrap_or_default());
            self.short
                .mask(lower_ascii(w & (u64::MAX >> (64 - 8 * len))))
        } else {
            self.mask_ascii(tok, buf)
        };
        acc.add(m, t.words < SAMPLE_TOKENS);
        t.words += 1;
        if acc.n == u8::MAX as u32 {
            acc.flush(hits);
        }
    }

    /// Count tokens and stop words of `line` for language `lang`, and the cased/upper-case
    /// token counts, in one pass over its tokens. `buf` is scratch space.
    pub fn count(&self, line: &str, lang: Lang, buf: &mut String) -> LineCounts {
        let mut c = LineCounts::default();
        match lang {
            Lang::Words(i) => {
                for tok in tokens(line) {
                    c.words += 1;
                    title_case(tok, &mut c);
                    if c.sampled >= SAMPLE_TOKENS {
                        continue;
                    }
                    c.sampled += 1;
                    if self.mask(tok, buf) & (1 << i) != 0 {
                        c.stops += 1;
                    }
                }
            }
            Lang::Chinese | Lang::Japanese => {
                // a CJK character counts as a "word"; latin tokens count as one each
                for tok in tokens(line) {
                    title_case(tok, &mut c);
                    let mut any_cjk = false;
                    for ch in tok.chars() {
                        if is_han(ch) || is_kana(ch) {
                            any_cjk = true;
                            c.words += 1;
                            let stop = if lang == Lang::Chinese {
                                self.zh_chars.binary_search(&ch).is_ok()
                            } else {
                                is_hiragana(ch)
                            };
                            if stop {
                                c.stops += 1;
                            }
                        }
                    }
                    if !any_cjk {
                        c.words += 1;
                    }
                }
                c.sampled = c.words;
            }
            Lang::Unknown => {
                for tok in tokens(line) {
                    c.words += 1;
                    title_case(tok, &mut c);
                }
                c.sampled = c.words;
            }
        }
        c
    }
}

/// The language of a sample from its hits per language: the list with most hits (the first
/// of equals), unknown below 5 hits.
pub fn lang_of_hits(hits: &[u32; 32]) -> Lang {
    let (best, n) = hits
        .iter()
        .enumerate()
        .take(LANGS.len())
        .max_by_key(|(i, h)| (**h, usize::MAX - *i))
        .map(|(i, h)| (i, *h))
        .unwrap_or((0, 0));
    if n < 5 {
        Lang::Unknown
    } else {
        Lang::Words(best)
    }
}

/// Title-case counting of one token: a word of at least 4 characters that starts with a
/// cased letter counts, and among those the upper-case ones.
#[inline]
fn title_case(w: &str, c: &mut LineCounts) {
    // fewer than 4 bytes is fewer than 4 characters
    if w.len() < 4 {
        return;
    }
    let b0 = w.as_bytes()[0];
    if b0 < 0x80 {
        if !b0.is_ascii_alphabetic() {
            return;
        }
        if !w.is_ascii() && w.chars().count() < 4 {
            return;
        }
        c.cased += 1;
        c.upper += b0.is_ascii_uppercase() as u32;
        return;
    }
    let Some(f) = w.chars().next() else { return };
    if (f.is_uppercase() || f.is_lowercase()) && w.chars().count() >= 4 {
        c.cased += 1;
        c.upper += f.is_uppercase() as u32;
    }
}

/// Whether `s` may have enough CJK characters to be Chinese or Japanese (see `detect`):
/// every kana or Han character counted there is three bytes in UTF-8 with a lead byte in
/// 0xE3..=0xE9, and every ASCII letter counts as a letter. When such lead bytes are at most
/// a third of the ASCII letters, `(cjk + kana) * 3 > letters` cannot hold, and the
/// character-by-character decoding is skipped (two byte-counting loops that vectorise).
fn maybe_cjk(s: &str) -> bool {
    let b = s.as_bytes();
    let wide = count_bytes(b, |x| (0xE3..=0xE9).contains(&x));
    if wide == 0 {
        return false;
    }
    let ascii_letters = count_bytes(b, |x| (x | 0x20).wrapping_sub(b'a') < 26);
    wide * 3 > ascii_letters
}

/// Number of bytes of `b` for which `f` holds. Why not `filter().count()`: that counts in
/// `usize` lanes, two bytes per SIMD operation; summing `u8`s over runs of 255 bytes (no
/// overflow) compares 16 or 32 bytes at a time (a profile of the stage: the caller's own
/// share, where these loops are inlined, 8.6% -> 6.4%).
#[inline]
fn count_bytes(b: &[u8], f: impl Fn(u8) -> bool) -> usize {
    b.chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &x| n + f(x) as u8) as usize)
        .sum()
}

/// Word tokens: maximal runs of alphanumeric characters (apostrophes inside kept).
///
/// The same tokens as splitting on every character that is not alphanumeric, `'` or `’`
/// and trimming apostrophes off the pieces (`tokens_reference` in the tests), but ASCII bytes
/// are classified with a table instead of decoding every character.
pub fn tokens(s: &str) -> Tokens<'_> {
    Tokens { s, pos: 0 }
}

/// ASCII bytes that belong to a token: letters, digits and the apostrophe.
static TOKEN_BYTE: [bool; 128] = {
    let mut t = [false; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'\'';
        i += 1;
    }
    t
};

/// `0x80` in every byte of `w` that is an ASCII token byte ([`TOKEN_BYTE`]): a letter, a
/// digit or `'` (exact per byte: no carry crosses a byte).
#[inline(always)]
fn token_bytes(w: u64) -> u64 {
    const L: u64 = 0x0101_0101_0101_0101;
    let x = w ^ (L * b'\'' as u64);
    let quote = !(((x & (0x7F * L)) + 0x7F * L) | x) & (0x80 * L);
    crate::dedup::text::alnum_mask(w) | quote
}

/// Two bits per byte of `c`: the first mask has it set for the ASCII token bytes (letters,
/// digits, `'`), the second for the non-ASCII bytes (SSE2, which every x86-64 has).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn token_mask64(c: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut tok_bits, mut hi_bits) = (0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is part of x86-64; the load reads bytes 16k..16k+16 of a 64-byte array.
        unsafe {
            let v = _mm_loadu_si128(c.as_ptr().add(16 * k) as *const __m128i);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\'' as i8));
            let tok = _mm_or_si128(crate::dedup::text::alnum16(v), quote);
            tok_bits |= (_mm_movemask_epi8(tok) as u32 as u64) << (16 * k);
            hi_bits |= (_mm_movemask_epi8(v) as u32 as u64) << (16 * k);
        }
    }
    (tok_bits, hi_bits)
}

#[cfg(not(target_arch = "x86_64"))]
fn token_mask64(c: &[u8; 64]) -> (u64, u64) {
    let (mut tok, mut hi) = (0u64, 0u64);
    for (j, &b) in c.iter().enumerate() {
        tok |= ((b < 0x80 && TOKEN_BYTE[b as usize]) as u64) << j;
        hi |= ((b >= 0x80) as u64) << j;
    }
    (tok, hi)
}

/// Whether any bit of `masks` in `start..end` is set.
#[inline]
fn any_bit(masks: &[u64], start: usize, end: usize) -> bool {
    if start >= end {
        return false;
    }
    let (first, last) = (start / 64, (end - 1) / 64);
    (first..=last).any(|w| {
        let lo = if w == first {
            u64::MAX << (start % 64)
        } else {
            u64::MAX
        };
        let hi = if w == last {
            u64::MAX >> (63 - (end - 1) % 64)
        } else {
            u64::MAX
        };
        masks[w] & lo & hi != 0
    })
}

/// Iterator of [`tokens`].
pub struct Tokens<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// Whether the character at byte `i` (a char boundary) belongs to a token, and its length.
    #[inline]
    fn class_at(&self, i: usize) -> (bool, usize) {
        let b = self.s.as_bytes()[i];
        if b < 0x80 {
            return (TOKEN_BYTE[b as usize], 1);
        }
        match self.s[i..].chars().next() {
            Some(c) => (c == '’' || c.is_alphanumeric(), c.len_utf8()),
            None => (false, 1),
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        let n = b.len();
        loop {
            // skip separators
            loop {
                if self.pos >= n {
                    return None;
                }
                let (tok, len) = self.class_at(self.pos);
                if tok {
                    break;
                }
                self.pos += len;
            }
            let start = self.pos;
            // the run of token characters: eight ASCII bytes at a time while they last
            while let Some(w) = b.get(self.pos..self.pos + 8) {
                let other = !token_bytes(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
                    & 0x8080_8080_8080_8080;
                if other == 0 {
                    self.pos += 8;
                    continue;
                }
                self.pos += (other.trailing_zeros() / 8) as usize;
                if b[self.pos] < 0x80 {
                    break;
                }
                let (tok, len) = self.class_at(self.pos);
                if !tok {
                    break;
                }
                self.pos += len;
            }
            while self.pos < n {
                let x = b[self.pos];
                if x < 0x80 {
                    if !TOKEN_BYTE[x as usize] {
                        break;
                    }
                    self.pos += 1;
                    continue;
                }
                let (tok, len) = self.class_at(self.pos);
                if !tok {
                    break;
                }
                self.pos += len;
            }
            let t = trim_apostrophes(&self.s[start..self.pos]);
            if !t.is_empty() {
                return Some(t);
            }
        }
    }
}

/// `t.trim_matches(['\'', '’'])`.
#[inline]
fn trim_apostrophes(mut t: &str) -> &str {
    loop {
        if let Some(r) = t.strip_prefix('\'') {
            t = r;
        } else if let Some(r) = t.strip_prefix('’') {
            t = r;
        } else {
            break;
        }
    }
    loop {
        if let Some(r) = t.strip_suffix('\'') {
            t = r;
        } else if let Some(r) = t.strip_suffix('’') {
            t = r;
        } else {
            break;
        }
    }
    t
}

fn lower_into(tok: &str, buf: &mut String) {
    buf.clear();
    if tok.is_ascii() {
        buf.push_str(tok);
        buf.make_ascii_lowercase();
        return;
    }
    for c in tok.chars() {
        if c == '’' {
            buf.push('\'');
        } else if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
        } else {
            buf.extend(c.to_lowercase());
        }
    }
}

fn is_hiragana(c: char) -> bool {
    ('\u{3040}'..='\u{309f}').contains(&c)
}

fn is_kana(c: char) -> bool {
    ('\u{3040}'..='\u{30ff}').contains(&c)
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn density(sw: &StopWords, text: &str) -> f64 {
        let lang = sw.detect(text);
        let mut b = String::new();
        let c = sw.count(text, lang, &mut b);
        c.density()
    }

    /// The cuckoo table answers as a map of the same entries: every key its mask, anything
    /// else 0, however crowded (tables from 1 to 5,000 entries, keys that collide).
    #[test]
    fn short_table_is_a_map() {
        let mut st = 11u64;
        for n in [0usize, 1, 2, 7, 100, 1000, 5000] {
            let mut map = FxHashMap::default();
            while map.len() < n {
                let k = crate::dedup::sketch::splitmix(&mut st) >> (st % 40);
                if k != 0 {
                    map.insert(k, (st % 8191) as u32 + 1);
                }
            }
            let entries: Vec<(u64, u32)> = map.iter().map(|(&k, &m)| (k, m)).collect();
            let t = ShortTable::new(&entries);
            for (&k, &m) in &map {
                assert_eq!(t.mask(k), m);
            }
            for _ in 0..10_000 {
                let k = crate::dedup::sketch::splitmix(&mut st) >> (st % 40);
                assert_eq!(t.mask(k), map.get(&k).copied().unwrap_or(0));
            }
        }
        let sw = StopWords::builtin();
        let mut b = String::new();
        for w in ["the", "and", "der", "и", "le", "xyzzy", "of", "w", "że"] {
            assert_eq!(sw.mask(w, &mut b) != 0, w != "xyzzy", "{w}");
        }
    }

    #[test]
    fn detects_languages() {
        let sw = StopWords::builtin();
        let idx = |code: &str| LANGS.iter().position(|(c, _)| *c == code).unwrap();
        let cases = [
            ("en", "The minister said that the talks would continue on Monday and that he was hopeful about the outcome of it."),
            ("ru", "Министр заявил, что переговоры будут продолжены в понедельник, и он надеется на то, что это даст результат."),
            ("uk", "Міністр заявив, що переговори будуть продовжені в понеділок, і він сподівається, що це дасть результат, який усі чекають."),
            ("de", "Der Minister sagte, dass die Gespräche am Montag fortgesetzt werden und er sei zuversichtlich, was das Ergebnis angeht."),
            ("fr", "Le ministre a déclaré que les discussions se poursuivraient lundi et qu'il était optimiste quant au résultat de ces échanges."),
            ("es", "El ministro dijo que las conversaciones continuarán el lunes y que él es optimista sobre el resultado de las mismas."),
            ("it", "Il ministro ha detto che i colloqui continueranno lunedì e che lui è ottimista sul risultato della trattativa con gli alleati."),
            ("pt", "O ministro disse que as conversas vão continuar na segunda-feira e que ele está otimista com o resultado das negociações."),
            ("pl", "Minister powiedział, że rozmowy będą kontynuowane w poniedziałek i że jest on dobrej myśli, jeśli chodzi o ich wynik."),
            ("ar", "قال الوزير إن المحادثات ستستمر يوم الاثنين وإنه متفائل بشأن النتيجة التي قد تصل إليها في هذا الأسبوع من أجل السلام."),
        ];
        for (code, text) in cases {
            assert_eq!(sw.detect(text), Lang::Words(idx(code)), "{code}");
            assert!(
                density(&sw, text) > 0.2,
                "{code} density {}",
                density(&sw, text)
            );
        }
        assert_eq!(
            sw.detect("部长说，会谈将在星期一继续进行，他对会谈的结果持乐观态度。这是我们的新闻。"),
            Lang::Chinese
        );
        assert_eq!(
            sw.detect("大臣は月曜日に協議が続くと述べ、その結果については楽観的だと語った。"),
            Lang::Japanese
        );
    }

    #[test]
    fn menus_have_few_stop_words() {
        let sw = StopWords::builtin();
        let lang = sw.detect("The minister said that the talks would continue on Monday and that he was hopeful about it.");
        let mut b = String::new();
        let c = sw.count(
            "Politics Business Technology Science Health Sports Entertainment Video",
            lang,
            &mut b,
        );
        assert_eq!(c.stops, 0);
        assert_eq!(c.words, 8);
    }

    /// The tokenizer before the ASCII fast path: the definition `tokens` must agree with.
    fn tokens_reference(s: &str) -> impl Iterator<Item = &str> {
        s.split(|c: char| {
            !(if c.is_ascii() {
                c.is_ascii_alphanumeric() || c == '\''
            } else {
                c == '’' || c.is_alphanumeric()
            })
        })
        .map(|t| t.trim_matches(['\'', '’']))
        .filter(|t| !t.is_empty())
    }

    /// Random text over an alphabet of the characters the fast paths treat specially
    /// (apostrophes, case changes that alter byte length, CJK, separators), mixed with
    /// stop words in random case.
    pub(crate) fn random_texts(n: usize) -> Vec<String> {
        let alphabet: Vec<char> = "aZe tT'’.,1é É ßẞ\u{212A}İ ςΣ日の カ中的дДі\n\t\u{a0}-“”اـ'’x"
            .chars()
            .collect();
        let words: Vec<&str> = LANGS
            .iter()
            .flat_map(|(_, t)| {
                t.lines()
                    .filter(|l| !l.starts_with('#'))
                    .flat_map(|l| l.split_whitespace())
            })
            .collect();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                let mut s = String::new();
                let len = next() % 60;
                for _ in 0..len {
                    let r = next();
                    if r % 3 == 0 {
                        let w = words[(r / 3 % words.len() as u64) as usize];
                        match r / 7 % 4 {
                            0 => s.push_str(&w.to_uppercase()),
                            1 => {
                                let mut c = w.chars();
                                if let Some(f) = c.next() {
                                    s.extend(f.to_uppercase());
                                    s.push_str(c.as_str());
                                }
                            }
                            _ => s.push_str(w),
                        }
                        if r / 11 % 2 == 0 {
                            s.push(' ');
                        }
                    } else {
                        s.push(alphabet[(r / 3 % alphabet.len() as u64) as usize]);
                    }
                }
                s
            })
            .collect()
    }

    /// The stop-word table and lookups before packing: a `String` map and `lower_into`.
    struct Reference {
        words: std::collections::HashMap<String, u32>,
    }

    impl Reference {
        fn new() -> Reference {
            let mut words = std::collections::HashMap::new();
            for (i, (_, text)) in LANGS.iter().enumerate() {
                for line in text.lines() {
                    let line = line.split('#').next().unwrap_or("");
                    for w in line.split_whitespace() {
                        if i != ZH {
                            *words.entry(w.to_lowercase()).or_default() |= 1 << i;
                        }
                    }
                }
            }
            Reference { words }
        }

        fn mask(&self, tok: &str) -> u32 {
            let mut b = String::new();
            lower_into(tok, &mut b);
            self.words.get(b.as_str()).copied().unwrap_or(0)
        }

        fn detect(&self, sw: &StopWords, text: &str) -> Lang {
            let mut hits = [0u32; 32];
            let (mut cjk, mut kana, mut letters) = (0u32, 0u32, 0u32);
            const SAMPLE: usize = 8_000;
            let mut start = text.len().saturating_sub(SAMPLE) / 2;
            while !text.is_char_boundary(start) {
                start += 1;
            }
            let mut end = (start + SAMPLE).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let sample = &text[start..end];
            for c in sample.chars() {
                if c.is_ascii() {
                    letters += c.is_ascii_alphabetic() as u32;
                } else if c.is_alphabetic() {
                    letters += 1;
                    if is_kana(c) {
                        kana += 1;
                    } else if is_han(c) {
                        cjk += 1;
                    }
                }
            }
            if letters > 0 && (cjk + kana) * 3 > letters {
                return if kana * 5 > cjk {
                    Lang::Japanese
                } else {
                    Lang::Chinese
                };
            }
            let _ = sw;
            for tok in tokens_reference(sample) {
                let m = self.mask(tok);
                for (i, h) in hits.iter_mut().enumerate().take(LANGS.len()) {
                    if m & (1 << i) != 0 {
                        *h += 1;
                    }
                }
            }
            let (best, n) = hits
                .iter()
                .enumerate()
                .take(LANGS.len())
                .max_by_key(|(i, h)| (**h, usize::MAX - *i))
                .map(|(i, h)| (i, *h))
                .unwrap_or((0, 0));
            if n < 5 {
                Lang::Unknown
            } else {
                Lang::Words(best)
            }
        }

        /// (words, stops, sampled, cased, upper) as the old `count` and title-case loop had them.
        fn count(&self, sw: &StopWords, line: &str, lang: Lang) -> (u32, u32, u32, u32, u32) {
            let mut b = String::new();
            let c = {
                let (mut words, mut stops, mut sampled) = (0u32, 0u32, 0u32);
                match lang {
                    Lang::Words(i) => {
                        for tok in tokens_reference(line) {
                            words += 1;
                            if sampled >= SAMPLE_TOKENS {
                                continue;
                            }
                            sampled += 1;
                            if self.mask(tok) & (1 << i) != 0 {
                                stops += 1;
                            }
                        }
                    }
                    Lang::Chinese | Lang::Japanese => {
                        for tok in tokens_reference(line) {
                            let mut any = false;
                            for ch in tok.chars() {
                                if is_han(ch) || is_kana(ch) {
                                    any = true;
                                    words += 1;
                                    let stop = if lang == Lang::Chinese {
                                        sw.zh_chars.binary_search(&ch).is_ok()
                                    } else {
                                        is_hiragana(ch)
                                    };
                                    stops += stop as u32;
                                }
                            }
                            words += !any as u32;
                        }
                        sampled = words;
                    }
                    Lang::Unknown => {
                        words = tokens_reference(line).count() as u32;
                        sampled = words;
                    }
                }
                (words, stops, sampled)
            };
            b.clear();
            let (mut cased, mut upper) = (0u32, 0u32);
            for w in tokens_reference(line) {
                let mut ch = w.chars();
                if let Some(f) = ch.next() {
                    if (f.is_uppercase() || f.is_lowercase()) && w.chars().count() >= 4 {
                        cased += 1;
                        if f.is_uppercase() {
                            upper += 1;
                        }
                    }
                }
            }
            (c.0, c.1, c.2, cased, upper)
        }
    }

    #[test]
    fn token_bytes_marks_exactly_the_token_bytes() {
        for w in 0..=255u8 {
            for lane in 0..8 {
                let mut bytes = [b'\'', b'a', 0x80, b' ', b'0', b'\'', 0x27 ^ 0x80, b'&'];
                bytes[lane] = w;
                let m = token_bytes(u64::from_le_bytes(bytes));
                for (k, &x) in bytes.iter().enumerate() {
                    let want = x < 0x80 && TOKEN_BYTE[x as usize];
                    assert_eq!(m >> (8 * k) & 0x80 != 0, want, "byte {x:#x} in lane {k}");
                }
            }
        }
    }

    #[test]
    fn fast_tokens_masks_detect_and_counts_agree_with_the_reference() {
        let sw = StopWords::builtin();
        let r = Reference::new();
        let mut texts = random_texts(4000);
        // long texts: the detection sample is cut from the middle
        texts.push(texts.concat());
        texts.push("部长说，会谈将在星期一继续进行，他对会谈的结果持乐观态度。".repeat(400));
        texts.push("The minister said that the talks would continue. ".repeat(300));
        let mut buf = String::new();
        for t in &texts {
            let fast: Vec<&str> = tokens(t).collect();
            let slow: Vec<&str> = tokens_reference(t).collect();
            assert_eq!(fast, slow, "{t:?}");
            for tok in &fast {
                assert_eq!(sw.mask(tok, &mut buf), r.mask(tok), "{tok:?}");
            }
            assert_eq!(sw.detect(t), r.detect(&sw, t), "{t:?}");
            for lang in [
                Lang::Words(0),
                Lang::Words(1),
                Lang::Words(3),
                Lang::Chinese,
                Lang::Japanese,
                Lang::Unknown,
            ] {
                let c = sw.count(t, lang, &mut buf);
                assert_eq!(
                    (c.words, c.stops, c.sampled, c.cased, c.upper),
                    r.count(&sw, t, lang),
                    "{t:?} {lang:?}"
                );
            }
        }
        // the one-pass tally of the lines agrees with detect + count on short texts
        for t in &texts {
            if !StopWords::can_tally(t) {
                continue;
            }
            let mut hits = [0u32; 32];
            let tallies: Vec<LineTally> = t
                .split('\n')
                .map(|l| sw.tally(l.trim(), &mut hits, &mut buf))
                .collect();
            let lang = lang_of_hits(&hits);
            assert_eq!(lang, sw.detect(t), "{t:?}");
            for (l, ty) in t.split('\n').zip(&tallies) {
                let (a, b) = (ty.counts(lang), sw.count(l.trim(), lang, &mut buf));
                assert_eq!(
                    (a.words, a.stops, a.sampled, a.cased, a.upper),
                    (b.words, b.stops, b.sampled, b.cased, b.upper),
                    "{l:?}"
                );
            }
        }
        // every stop word, in three cases, is found
        for (w, &m) in &r.words {
            for v in [w.clone(), w.to_uppercase(), w.replace('\'', "’")] {
                assert_eq!(sw.mask(&v, &mut buf), r.mask(&v), "{v:?}");
                assert!(m != 0);
            }
        }
    }

    #[test]
    fn fast_tally_agrees_with_the_token_iterator() {
        let sw = StopWords::builtin();
        let mut buf = String::new();
        let words: Vec<&str> = LANGS
            .iter()
            .flat_map(|(_, t)| t.split_whitespace())
            .collect();
        // ASCII separators and token bytes, and non-ASCII letters, apostrophes and punctuation
        let alphabet: Vec<char> = "aZq'' .,;-\t09_()\"Txé’“”—üß中Ω".chars().collect();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for round in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // lengths around the 64-byte blocks and the fast path's limit
            let len = match round % 4 {
                0 => (x % 70) as usize,
                1 => 60 + (x % 10) as usize,
                2 => (x % 300) as usize,
                _ => TALLY_FAST_MAX - 8 + (x % 16) as usize,
            };
            let mut line = String::new();
            let mut y = x;
            while line.len() < len {
                y = y.rotate_left(11).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x55;
                if y.is_multiple_of(3) {
                    let w = words[(y / 3 % words.len() as u64) as usize];
                    line.push_str(&if y.is_multiple_of(2) {
                        w.to_uppercase()
                    } else {
                        w.to_string()
                    });
                } else {
                    let c = alphabet[(y / 5 % alphabet.len() as u64) as usize];
                    // a third of the lines all ASCII
                    line.push(if round % 3 == 0 && !c.is_ascii() {
                        ' '
                    } else {
                        c
                    });
                }
            }
            while line.len() > len {
                line.pop();
            }
            let mut hits = [0u32; 32];
            let fast = sw.tally(&line, &mut hits, &mut buf);
            // the same line through the general token iterator
            let mut want = LineTally::default();
            let mut want_hits = [0u32; 32];
            let mut c = LineCounts::default();
            for tok in tokens(&line) {
                title_case(tok, &mut c);
                want.add(sw.mask(tok, &mut buf), &mut want_hits);
            }
            assert_eq!(
                (fast.words, fast.cased, fast.upper, fast.stops, hits),
                (want.words, c.cased, c.upper, want.stops, want_hits),
                "{line:?}"
            );
        }
    }

    /// [`pack`] as it was: byte by byte.
    fn pack_reference(b: &[u8], lower: bool) -> u128 {
        let (mut lo, mut hi) = (0u64, 0u64);
        for (i, &c) in b.iter().enumerate().take(16) {
            let c = if lower { c.to_ascii_lowercase() } else { c } as u64;
            if i < 8 {
                lo |= c << (8 * i);
            } else {
                hi |= c << (8 * (i - 8));
            }
        }
        (hi as u128) << 64 | lo as u128
    }

    #[test]
    fn word_packing_agrees_with_the_byte_loop() {
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for round in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 21) as usize;
            let bytes: Vec<u8> = (0..n)
                .map(|i| (x.rotate_left(i as u32 * 7) >> 3) as u8)
                .collect();
            let ascii: Vec<u8> = bytes
                .iter()
                .map(|b| {
                    if round % 2 == 0 {
                        b & 0x7f
                    } else {
                        b"@AZ[`az{09'_"[(*b as usize) % 12]
                    }
                })
                .collect();
            assert_eq!(
                pack(&bytes, false),
                pack_reference(&bytes, false),
                "{bytes:?}"
            );
            assert_eq!(
                pack(&ascii, true),
                pack_reference(&ascii, true),
                "{ascii:?}"
            );
            assert_eq!(
                pack(&ascii, false),
                pack_reference(&ascii, false),
                "{ascii:?}"
            );
        }
        for b in 0..0x80u8 {
            assert_eq!(
                lower_ascii(b as u64 * 0x0101_0101_0101_0101),
                b.to_ascii_lowercase() as u64 * 0x0101_0101_0101_0101,
                "{b}"
            );
        }
    }

    #[test]
    fn count_bytes_counts_every_match() {
        let b: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 256) as u8).collect();
        for f in [|x: u8| x == 0xE5, |x: u8| x.is_ascii_alphabetic(), |_| true] {
            for n in [0, 1, 254, 255, 256, 1000, 3000] {
                let want = b[..n].iter().filter(|&&x| f(x)).count();
                assert_eq!(count_bytes(&b[..n], f), want);
            }
        }
    }

    #[test]
    fn chinese_counts_characters() {
        let sw = StopWords::builtin();
        let mut b = String::new();
        let c = sw.count("他说的是对的", Lang::Chinese, &mut b);
        assert_eq!(c.words, 6);
        assert!(c.stops >= 4);
    }
}
