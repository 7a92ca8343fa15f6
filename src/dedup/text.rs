//! Text side of dedup: normalised tokens, repeated lines inside one document, and the choice
//! of the lines whose shingles describe a document.
//!
//! Normalisation is deliberately blunt so that the noise of republished copies does not
//! change a token: case is folded, punctuation, quotes and spacing are ignored, apostrophes
//! inside words vanish (`can't` = `cant`, `world’s` = `worlds`) and separators inside
//! numbers are dropped (`1,000` = `1000`, `1.5` = `1,5`). A token is identified by a 64-bit
//! hash of its lower-cased bytes (plain ASCII words hashed where they are in the text); a
//! document becomes one flat `Vec<u64>` of token hashes with a range per line, so nothing is
//! allocated per line.

use std::collections::HashMap;
use xxhash_rust::xxh3::xxh3_64;

/// Token hashes of a text, with the token range of every line (`\n`-separated).
#[derive(Debug, Default)]
pub struct Tokens {
    pub hashes: Vec<u64>,
    /// `(start, end)` into `hashes` for every line of the text, in order.
    pub lines: Vec<(u32, u32)>,
    /// `(start, end)` byte range of every line in the text (without its `\n`).
    pub spans: Vec<(usize, usize)>,
    // Scratch of `tokenize_into`: the byte masks and a token's bytes.
    masks: ByteMasks,
    buf: Vec<u8>,
}

impl Tokens {
    pub fn line(&self, i: usize) -> &[u64] {
        let (a, b) = self.lines[i];
        &self.hashes[a as usize..b as usize]
    }

    /// Number of tokens of line `i`.
    #[inline]
    pub fn line_len(&self, i: usize) -> usize {
        let (a, b) = self.lines[i];
        (b - a) as usize
    }

    /// Line `i` of the text these tokens were made from.
    pub fn text_line<'t>(&self, text: &'t str, i: usize) -> &'t str {
        let (a, b) = self.spans[i];
        &text[a..b]
    }
}

/// `c.is_alphanumeric()`, answered without the Unicode tables for the non-ASCII characters
/// news text is full of: Latin-1 signs and letters, Latin Extended-A, General Punctuation
/// (quotes, dashes, bullets).
#[inline]
fn is_alnum_char(c: char) -> bool {
    match c as u32 {
        0..=0x7F => c.is_ascii_alphanumeric(),
        0xA0..=0xBF => LATIN1_SIGNS_ALNUM >> (c as u32 - 0xA0) & 1 == 1,
        0xC0..=0x17F => c != '×' && c != '÷',
        0x2000..=0x206F => false,
        _ => c.is_alphanumeric(),
    }
}

/// Of U+00A0..U+00BF, the letters and numbers: ª ² ³ µ ¹ º ¼ ½ ¾.
const LATIN1_SIGNS_ALNUM: u32 =
    1 << 10 | 1 << 18 | 1 << 19 | 1 << 21 | 1 << 25 | 1 << 26 | 1 << 28 | 1 << 29 | 1 << 30;

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`')
}

/// Tokenise `text` line by line (in one pass over the whole text: a `\n` ends a token like
/// any other separator, and closes a line).
pub fn tokenize(text: &str) -> Tokens {
    let mut out = Tokens::default();
    tokenize_into(text, &mut out);
    out
}

/// [`tokenize`] into `out` (reusing its buffers).
///
/// Two levels. Bit masks of the text, 64 bytes per word (ASCII letters and digits, `\n`,
/// non-ASCII bytes), give the tokens of plain ASCII words directly: the starts and ends of
/// the runs of set bits, taken lowest first (one bit operation per token, so the scan does
/// not wait on one token to find the next), each hashed where it is (a word running into the
/// next 64 bytes is finished by a search for its end). A word whose end could join it to more
/// (an apostrophe, a separator between digits, a non-ASCII letter) and a non-ASCII letter go
/// to [`general_token`], which implements the whole rule; the scan goes on after it.
pub fn tokenize_into(text: &str, out: &mut Tokens) {
    out.hashes.clear();
    out.lines.clear();
    out.spans.clear();
    out.hashes.reserve(text.len() / 5);
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut masks = std::mem::take(&mut out.masks);
    byte_masks(bytes, &mut masks);
    let ByteMasks { alnum, hi, nl } = &masks;
    let mut buf = std::mem::take(&mut out.buf);
    let mut line = (0usize, 0u32);
    let mut i = 0;
    'words: while i < n {
        let (w, lo) = (i / 64, i % 64);
        let base = w * 64;
        let keep = u64::MAX << lo;
        let (a, h, mut newlines) = (alnum[w] & keep, hi[w] & keep, nl[w] & keep);
        let next_a0 = alnum.get(w + 1).map_or(0, |x| x & 1);
        // Bits `lo..` only: the bytes before `i` are done (and `i` is never inside a run).
        let starts = a & !(a << 1);
        let mut ends = a & !((a >> 1) | (next_a0 << 63));
        let mut events = starts | (h & !(h << 1));
        while events != 0 {
            let p = events.trailing_zeros() as usize;
            let before = newlines & ((1u64 << p) - 1);
            if before != 0 {
                push_lines(before, base, out, &mut line);
                newlines &= !before;
            }
            let at = base + p;
            if starts >> p & 1 == 0 {
                // Non-ASCII characters (no `\n` among them before an ASCII byte).
                i = non_ascii_at(text, at, &mut out.hashes, &mut buf);
                continue 'words;
            }
            let end_bits = ends & (u64::MAX << p);
            if end_bits == 0 {
                // The word runs into the next 64 bytes (no `\n` left in these).
                let end = next_bit(alnum, at, false).unwrap_or(n).min(n);
                i = if word_ends_at(bytes, end) {
                    out.hashes.push(hash_ascii_lower(bytes, at, end, &mut buf));
                    end
                } else {
                    general_token(text, at, &mut out.hashes, &mut buf)
                };
                continue 'words;
            }
            let end = base + end_bits.trailing_zeros() as usize + 1;
            if !word_ends_at(bytes, end) {
                i = general_token(text, at, &mut out.hashes, &mut buf);
                continue 'words;
            }
            out.hashes.push(hash_ascii_lower(bytes, at, end, &mut buf));
            ends &= ends - 1;
            events &= events - 1;
        }
        push_lines(newlines, base, out, &mut line);
        i = base + 64;
    }
    out.lines.push((line.1, out.hashes.len() as u32));
    out.spans.push((line.0, n));
    (out.masks, out.buf) = (masks, buf);
}

/// Close a line at every `\n` of `bits` (bit `k`: byte `base + k`); `line` is the start of
/// the current line (byte, token).
fn push_lines(mut bits: u64, base: usize, out: &mut Tokens, line: &mut (usize, u32)) {
    while bits != 0 {
        let at = base + bits.trailing_zeros() as usize;
        let end = out.hashes.len() as u32;
        out.lines.push((line.1, end));
        out.spans.push((line.0, at));
        *line = (at + 1, end);
        bits &= bits - 1;
    }
}

/// From `at` (a non-ASCII byte starting a character): skip separators up to the next ASCII
/// byte; a letter or digit among them starts a token ([`general_token`]). Returns where the
/// scan goes on.
fn non_ascii_at(text: &str, mut at: usize, hashes: &mut Vec<u64>, buf: &mut Vec<u8>) -> usize {
    let bytes = text.as_bytes();
    while bytes.get(at).is_some_and(|&b| b >= 0x80) {
        match text.get(at..).and_then(|t| t.chars().next()) {
            Some(c) if is_alnum_char(c) => return general_token(text, at, hashes, buf),
            Some(c) => at += c.len_utf8(),
            None => at += 1,
        }
    }
    at
}

/// One token from `i` (where a letter or digit starts) by the whole rule: any alphanumeric
/// character, lower-cased; an apostrophe between two of them and a `,` or `.` between two
/// ASCII digits vanish. Pushes its hash; returns the position after it (a separator not
/// needed to tell where the token ends is left for the caller).
fn general_token(text: &str, mut i: usize, hashes: &mut Vec<u64>, buf: &mut Vec<u8>) -> usize {
    let bytes = text.as_bytes();
    let alnum_at = |j: usize| match bytes.get(j) {
        Some(&c) if c < 0x80 => c.is_ascii_alphanumeric(),
        Some(_) => text
            .get(j..)
            .and_then(|t| t.chars().next())
            .is_some_and(is_alnum_char),
        None => false,
    };
    buf.clear();
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                let start = i;
                i = alnum_run_end(bytes, i);
                buf.extend(bytes[start..i].iter().map(u8::to_ascii_lowercase));
                continue;
            }
            let joins = (matches!(b, b'\'' | b'`') && alnum_at(i + 1))
                || (matches!(b, b',' | b'.')
                    && buf.last().is_some_and(u8::is_ascii_digit)
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
            if !joins {
                break;
            }
            i += 1;
            continue;
        }
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if is_alnum_char(c) {
            let mut tmp = [0u8; 4];
            for l in c.to_lowercase() {
                buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
            }
        } else if !(is_apostrophe(c) && alnum_at(i)) {
            break;
        }
    }
    if !buf.is_empty() {
        hashes.push(token_hash(buf));
        buf.clear();
    }
    i
}

/// Does the run of ASCII letters and digits ending at `i` end a token (nothing after it can
/// join it to more)?
#[inline(always)]
fn word_ends_at(bytes: &[u8], i: usize) -> bool {
    let Some(&c) = bytes.get(i) else { return true };
    match c {
        b'\'' | b'`' => bytes
            .get(i + 1)
            .is_none_or(|&d| d < 0x80 && !d.is_ascii_alphanumeric()),
        b',' | b'.' => {
            !(i > 0
                && bytes[i - 1].is_ascii_digit()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        }
        _ => c < 0x80,
    }
}

/// Position of the first byte at or after `i` whose bit in `masks` is `set` (bit `j % 64` of
/// word `j / 64` is byte `j`); `None` past the last word.
#[inline(always)]
pub(crate) fn next_bit(masks: &[u64], i: usize, set: bool) -> Option<usize> {
    let mut w = i / 64;
    let flip = if set { 0 } else { u64::MAX };
    let mut word = (*masks.get(w)? ^ flip) & (u64::MAX << (i % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        word = *masks.get(w)? ^ flip;
    }
}

/// Bit masks of a text, one bit per byte, 64 bytes per word (the last one padded with
/// spaces): ASCII letters and digits, non-ASCII bytes, `\n`.
#[derive(Debug, Default)]
struct ByteMasks {
    alnum: Vec<u64>,
    hi: Vec<u64>,
    nl: Vec<u64>,
}

fn byte_masks(bytes: &[u8], m: &mut ByteMasks) {
    m.alnum.clear();
    m.hi.clear();
    m.nl.clear();
    let mut push = |c: &[u8; 64]| {
        let (a, h, l) = masks64(c);
        m.alnum.push(a);
        m.hi.push(h);
        m.nl.push(l);
    };
    let mut chunks = bytes.chunks_exact(64);
    for c in &mut chunks {
        push(c.try_into().unwrap_or(&[b' '; 64]));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut pad = [b' '; 64];
        pad[..rest.len()].copy_from_slice(rest);
        push(&pad);
    }
}

/// The three masks of 64 bytes (SSE2, which every x86-64 has: signed byte compares leave the
/// non-ASCII bytes, negative, out of every range).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks64(c: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    let (mut alnum, mut hi, mut nl) = (0u64, 0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is part of x86-64; the load reads bytes 16k..16k+16 of a 64-byte array.
        unsafe {
            let v = _mm_loadu_si128(c.as_ptr().add(16 * k) as *const __m128i);
            let line = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
            alnum |= (_mm_movemask_epi8(alnum16(v)) as u32 as u64) << (16 * k);
            hi |= (_mm_movemask_epi8(v) as u32 as u64) << (16 * k);
            nl |= (_mm_movemask_epi8(line) as u32 as u64) << (16 * k);
        }
    }
    (alnum, hi, nl)
}

/// `0xFF` in every lane of `v` that is an ASCII letter or digit (SSE2: signed compares leave
/// the non-ASCII bytes, negative, out of every range).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn alnum16(v: std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86-64; these take and return registers only.
    unsafe {
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
        );
        let l = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let alpha = _mm_and_si128(
            _mm_cmpgt_epi8(l, _mm_set1_epi8(b'a' as i8 - 1)),
            _mm_cmplt_epi8(l, _mm_set1_epi8(b'z' as i8 + 1)),
        );
        _mm_or_si128(digit, alpha)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn masks64(c: &[u8; 64]) -> (u64, u64, u64) {
    let (mut alnum, mut hi, mut nl) = (0u64, 0u64, 0u64);
    for (j, &b) in c.iter().enumerate() {
        alnum |= (b.is_ascii_alphanumeric() as u64) << j;
        hi |= ((b >= 0x80) as u64) << j;
        nl |= ((b == b'\n') as u64) << j;
    }
    (alnum, hi, nl)
}

/// End of the run of ASCII letters and digits starting at `i` (8 bytes at a time).
#[inline]
fn alnum_run_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(w) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        let other = !alnum_mask(w) & 0x8080_8080_8080_8080;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    i
}

/// `0x80` in every byte of `w` that is an ASCII letter or digit (no carries cross bytes:
/// every sum below stays under 0x100 for 7-bit bytes).
#[inline(always)]
pub(crate) fn alnum_mask(w: u64) -> u64 {
    const L: u64 = 0x0101_0101_0101_0101;
    let high = w & (0x80 * L);
    let x = w & (0x7F * L);
    let digit = (x + (0x80 - 0x30) * L) & !(x + (0x80 - 0x3A) * L);
    let l = x | (0x20 * L);
    let alpha = (l + (0x80 - 0x61) * L) & !(l + (0x80 - 0x7B) * L);
    (digit | alpha) & !high & (0x80 * L)
}

/// Hash of a token given as lower-case UTF-8 bytes. Up to 16 bytes (nearly every word): the
/// bytes zero-padded to two 64-bit words, keyed, multiplied to 128 bits and folded (xxh3's
/// mixing of short inputs without its final avalanche: the same few instructions for every
/// length, no branch on it; the shingle hash mixes again); longer ones xxh3.
#[inline]
fn token_hash(t: &[u8]) -> u64 {
    let n = t.len();
    if n > 16 {
        return xxh3_64(t);
    }
    let mut w = [0u8; 16];
    w[..n].copy_from_slice(t);
    let (lo, hi) = words16(&w);
    mix16(lo, hi, n)
}

/// [`token_hash`] of the lower-cased bytes `bytes[start..end]`, all ASCII letters and digits,
/// read straight from the text (`| 0x20` lower-cases an ASCII letter and leaves a digit as it
/// is) without copying the token; a token longer than 16 bytes is lower-cased into `buf`.
#[inline(always)]
fn hash_ascii_lower(bytes: &[u8], start: usize, end: usize, buf: &mut Vec<u8>) -> u64 {
    const LOWER: u64 = 0x2020_2020_2020_2020;
    let n = end - start;
    if n > 16 {
        buf.clear();
        buf.extend(bytes[start..end].iter().map(u8::to_ascii_lowercase));
        let h = token_hash(buf);
        buf.clear();
        return h;
    }
    let (lo, hi) = match bytes.get(start..start + 16) {
        Some(w) => words16(w.try_into().unwrap_or(&[0; 16])),
        None => {
            let mut w = [0u8; 16];
            w[..n].copy_from_slice(&bytes[start..end]);
            words16(&w)
        }
    };
    let (ml, mh) = KEEP[n];
    mix16((lo | LOWER) & ml, (hi | LOWER) & mh, n)
}

#[inline(always)]
fn words16(w: &[u8; 16]) -> (u64, u64) {
    let (a, b) = w.split_at(8);
    (
        u64::from_le_bytes(a.try_into().unwrap_or([0; 8])),
        u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
    )
}

/// `KEEP[n]`: masks of the first `n` bytes of 16, as two 64-bit words.
const KEEP: [(u64, u64); 17] = {
    let mut m = [(0u64, 0u64); 17];
    let mut n = 0;
    while n <= 16 {
        let lo = if n >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        };
        let hi = if n >= 16 {
            u64::MAX
        } else if n <= 8 {
            0
        } else {
            (1u64 << (8 * (n - 8))) - 1
        };
        m[n] = (lo, hi);
        n += 1;
    }
    m
};

/// Keys with a byte >= 0x80, which no word of ASCII bytes equals: `lo ^ K_LO` and
/// `hi ^ K_HI` are never zero for an ASCII token (a zero factor would make the product
/// ignore the other word).
const K_LO: u64 = 0xBE4B_A423_396C_FEB8;
const K_HI: u64 = 0xDB97_9083_E96D_D4DE;

/// The length is keyed in so that a word and the same word with zero bytes after it differ.
#[inline(always)]
fn mix16(lo: u64, hi: u64, n: usize) -> u64 {
    let m = (lo ^ K_LO) as u128 * (hi ^ K_HI ^ n as u64) as u128;
    m as u64 ^ (m >> 64) as u64
}

/// Does a line end like a sentence (so it is not a cut-off fragment)?
pub fn ends_sentence(line: &str) -> bool {
    line.trim_end()
        .ends_with(['.', '!', '?', '"', '”', '»', '…', '。', '！', '？', ')'])
}

/// Options of the in-document pass.
#[derive(Debug, Clone)]
pub struct IntraOptions {
    /// Lines shorter than this (in tokens) are never compared (short labels repeat legitimately).
    pub min_words: usize,
    /// A line contained in another (e.g. the lead behind a dateline) is a repeat when it covers
    /// at least this share of the other's tokens.
    pub containment: f64,
    /// Two lines of similar length are a repeat when this share of their tokens agree (typos).
    pub similarity: f64,
    /// Drop a first paragraph that repeats the document's title.
    pub title: bool,
}

/// What to do with each line of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFate {
    Keep,
    Drop,
    /// Keep this position but with the text of that (fuller) later line.
    ReplaceWith(usize),
}

/// Is `short` a contiguous run inside `long`?
fn contains_run(long: &[u64], short: &[u64]) -> bool {
    if short.is_empty() || short.len() > long.len() {
        return false;
    }
    let first = short[0];
    (0..=long.len() - short.len()).any(|i| long[i] == first && &long[i..i + short.len()] == short)
}

/// Share of tokens two lines have in common (multiset, from their sorted tokens), over the
/// longer line.
fn token_overlap(sa: &[u64], sb: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < sa.len() && j < sb.len() {
        match sa[i].cmp(&sb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / sa.len().max(sb.len()).max(1) as f64
}

/// How two lines relate: `None` if different; `Some(true)` if `b` repeats `a` and is the
/// fuller of the two, `Some(false)` if it repeats `a` and `a` is at least as full.
/// `overlap` gives [`token_overlap`] of the two lines (only called for the typo test).
fn repeat_of(
    a: &[u64],
    b: &[u64],
    a_ends: bool,
    b_ends: bool,
    o: &IntraOptions,
    overlap: impl FnOnce() -> f64,
) -> Option<bool> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() < o.min_words {
        return None;
    }
    if a == b {
        return Some(b_ends && !a_ends);
    }
    if short.len() as f64 >= o.containment * long.len() as f64 && contains_run(long, short) {
        return Some(b.len() > a.len());
    }
    // Typos and small edits: similar length, nearly the same tokens.
    if short.len() >= 8
        && short.len() as f64 >= 0.85 * long.len() as f64
        && overlap() >= o.similarity
    {
        return Some(b.len() > a.len() || (b.len() == a.len() && b_ends && !a_ends));
    }
    None
}

/// Bit set of a line's tokens (one bit per token, by hash).
fn mask(tokens: &[u64]) -> u64 {
    tokens.iter().fold(0, |m, &t| m | 1 << (t >> 58))
}

/// Cheap necessary condition for [`repeat_of`] from the lengths and token bit sets: equal
/// or contained lines have the shorter's bits inside the longer's, and a near repeat leaves
/// at most its unmatched tokens' bits outside.
fn may_repeat(la: usize, lb: usize, ma: u64, mb: u64, o: &IntraOptions) -> bool {
    let (short, long, ms, ml) = if la <= lb {
        (la, lb, ma, mb)
    } else {
        (lb, la, mb, ma)
    };
    if short < o.min_words {
        return false;
    }
    let outside = (ms & !ml).count_ones() as f64;
    if outside == 0.0 && short as f64 >= o.containment * long as f64 {
        return true;
    }
    short >= 8
        && short as f64 >= 0.85 * long as f64
        && outside <= short as f64 - o.similarity * long as f64 + 1e-9
}

/// Decide the fate of every line: repeats of an earlier line (exact or near) are dropped;
/// when the repeat is the fuller one (e.g. the lead again behind a dateline, or with its
/// final period), its text takes the place of the first occurrence.
pub fn intra_fates(
    text: &str,
    toks: &Tokens,
    title: Option<&[u64]>,
    o: &IntraOptions,
) -> Vec<LineFate> {
    let n_lines = toks.lines.len();
    let mut fates = vec![LineFate::Keep; n_lines];
    // Sorted tokens of a line (for the typo test), made when first needed.
    let mut sorted: Vec<Option<Vec<u64>>> = Vec::new();
    let mut sorted_line = |i: usize| -> Vec<u64> {
        if sorted.is_empty() {
            sorted.resize(n_lines, None);
        }
        sorted[i]
            .get_or_insert_with(|| {
                let mut v = toks.line(i).to_vec();
                v.sort_unstable();
                v
            })
            .clone()
    };
    // A 64-bit set of each line's tokens: most pairs of lines are told apart by it alone.
    let masks: Vec<u64> = toks
        .lines
        .iter()
        .map(|&(a, b)| mask(&toks.hashes[a as usize..b as usize]))
        .collect();
    // `may_repeat` needs the shorter line's bits outside the longer's to be at most
    // `short * (1 - similarity)` (none for a containment): in 64ths, rounded up, a test in
    // integers that turns away almost every pair before it.
    let slack = ((1.0 - o.similarity).clamp(0.0, 1.0) * 64.0).ceil() as usize + 1;
    let min_words = o.min_words.max(1);
    let line_text = |i: usize| toks.text_line(text, i);
    // Earlier kept units: (line index of the position, line index of the current text).
    let mut kept: Vec<(usize, usize)> = Vec::new();
    // Past `NEAR_WINDOW` kept units (a book, a whole dump in one file), a line is compared
    // with the last `NEAR_WINDOW` of them and, through this map of the units' token lists,
    // with an exact repeat of any earlier one: every pair is quadratic (a 20 MB text of
    // 160,000 lines took 8.8 s). Built when the window is first outgrown, so shorter texts
    // never pay.
    let mut exact: Option<HashMap<u64, usize>> = None;
    let mut first_unit = true;
    for i in 0..n_lines {
        let t = toks.line(i);
        if t.is_empty() {
            continue;
        }
        if first_unit {
            first_unit = false;
            if let Some(title) = title {
                let overlap = || {
                    let mut ts = title.to_vec();
                    ts.sort_unstable();
                    token_overlap(&ts, &sorted_line(i))
                };
                if !title.is_empty()
                    && (t == title || repeat_of(title, t, true, true, o, overlap).is_some())
                {
                    fates[i] = LineFate::Drop;
                    continue;
                }
            }
        }
        if t.len() < o.min_words {
            continue;
        }
        let b_ends = ends_sentence(line_text(i));
        let mut verdict = None;
        let (lb, mb) = (t.len(), masks[i]);
        let window = kept.len().saturating_sub(NEAR_WINDOW);
        let far = exact
            .as_ref()
            .and_then(|m| m.get(&tokens_key(t)).copied())
            .filter(|&k| k < window);
        for k in far.into_iter().chain(window..kept.len()) {
            let (pos, cur) = kept[k];
            let (la, ma) = (toks.line_len(cur), masks[cur]);
            let (short, ms, ml) = if la <= lb { (la, ma, mb) } else { (lb, mb, ma) };
            if short < min_words
                || (ms & !ml).count_ones() as usize * 64 > short * slack
                || !may_repeat(la, lb, ma, mb, o)
            {
                continue;
            }
            let a = toks.line(cur);
            let overlap = || token_overlap(&sorted_line(cur), &sorted_line(i));
            if let Some(fuller) = repeat_of(a, t, ends_sentence(line_text(cur)), b_ends, o, overlap)
            {
                verdict = Some((k, pos, fuller));
                break;
            }
        }
        match verdict {
            None => {
                kept.push((i, i));
                if let Some(m) = exact.as_mut() {
                    m.insert(tokens_key(t), kept.len() - 1);
                } else if kept.len() > NEAR_WINDOW {
                    let m = kept.iter().enumerate();
                    exact = Some(
                        m.map(|(k, &(_, cur))| (tokens_key(toks.line(cur)), k))
                            .collect(),
                    );
                }
            }
            Some((k, pos, fuller)) => {
                fates[i] = LineFate::Drop;
                if fuller {
                    fates[pos] = LineFate::ReplaceWith(i);
                    kept[k].1 = i;
                    if let Some(m) = exact.as_mut() {
                        m.insert(tokens_key(t), k);
                    }
                }
            }
        }
    }
    fates
}

/// How many of the latest kept lines of a document [`intra_fates`] compares a line with
/// (near repeats); exact repeats are found at any distance.
const NEAR_WINDOW: usize = 1024;

/// A key of a line's token hashes (a collision only costs a comparison).
fn tokens_key(tokens: &[u64]) -> u64 {
    tokens.iter().fold(tokens.len() as u64, |h, &t| {
        (h ^ t).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(27)
    })
}

/// Rebuild a text of `len` bytes whose line `i` is `line(i)` from the fates: dropped lines
/// go, blank-line runs left behind collapse.
pub fn apply_fates<'t>(fates: &[LineFate], line: impl Fn(usize) -> &'t str, len: usize) -> String {
    let mut out = crate::document::TextBuilder::with_capacity(len);
    for (i, f) in fates.iter().enumerate() {
        match *f {
            LineFate::Keep => out.line(line(i)),
            LineFate::Drop => {}
            LineFate::ReplaceWith(j) => out.line(line(j)),
        }
    }
    out.finish()
}

/// A navigation or legal line: several menu separators, a run of capitalised words set
/// apart by wide spaces, or a copyright sign. Such lines never describe a story.
pub fn is_chrome_line(line: &str) -> bool {
    use memchr::memmem::Finder;
    use once_cell::sync::Lazy;
    static WIDE: Lazy<Finder<'static>> = Lazy::new(|| Finder::new("  "));
    static SLASH: Lazy<Finder<'static>> = Lazy::new(|| Finder::new(" / "));
    // Menu separators `|` `•` `·` `»` and " / ", runs of two spaces (each counted without
    // overlap), and the copyright sign.
    let b = line.as_bytes();
    let mut seps = 0usize;
    for i in memchr::memchr3_iter(b'|', 0xC2, 0xE2, b) {
        match b[i] {
            b'|' => seps += 1,
            0xC2 => match b.get(i + 1) {
                Some(0xA9) => return true,
                Some(0xB7 | 0xBB) => seps += 1,
                _ => {}
            },
            _ => seps += usize::from(b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA2)),
        }
    }
    if seps >= 2 {
        return true;
    }
    seps += SLASH.find_iter(b).take(2).count();
    if seps >= 2 {
        return true;
    }
    if WIDE.find_iter(b).take(2).count() >= 2 && !ends_sentence(line) {
        // "Business  Opinion  Markets": every word capitalised.
        return line
            .split_whitespace()
            .all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()));
    }
    false
}

/// Which lines carry content for the cross-document signature: sentence-like lines of at
/// least `min_words` tokens (ending like a sentence, or long, or continuing a content line:
/// hard-wrapped paragraphs), plus the short tail of a wrapped paragraph. Menus, labels,
/// headlines, copyright lines and bylines are left out, so site chrome left in the text
/// weighs little.
///
/// Works on the text as it was tokenised, following the `fates` of the in-document pass
/// when given (so the text need not be tokenised again); returns line indices of `toks`.
pub fn content_lines(
    text: &str,
    toks: &Tokens,
    fates: Option<&[LineFate]>,
    min_words: usize,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev_content = false;
    for i in 0..toks.lines.len() {
        let i = match fates.map(|f| f[i]) {
            Some(LineFate::Drop) => continue,
            Some(LineFate::ReplaceWith(j)) => j,
            _ => i,
        };
        let line = toks.text_line(text, i);
        let n = toks.line(i).len();
        // A hard-wrapped paragraph goes on, in lower case, on the next line.
        let wraps = || {
            (i + 1 < toks.spans.len())
                && toks
                    .text_line(text, i + 1)
                    .trim_start()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase())
        };
        let is_content = if n >= min_words {
            !is_chrome_line(line)
                && (prev_content || n >= 2 * min_words || ends_sentence(line) || wraps())
        } else {
            prev_content && n >= 2 && ends_sentence(line)
        };
        if is_content {
            out.push(i);
        }
        prev_content = is_content;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokeniser as it was, line by line (the reference for the one-pass version).
    fn tokenize_line(line: &str, buf: &mut Vec<u8>, out: &mut Vec<u64>) {
        buf.clear();
        let bytes = line.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                if b.is_ascii_alphanumeric() {
                    let start = i;
                    while i < n && bytes[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    buf.extend(bytes[start..i].iter().map(u8::to_ascii_lowercase));
                    continue;
                }
                if !buf.is_empty() {
                    let next_alnum = || match bytes.get(i + 1) {
                        Some(&c) if c < 0x80 => c.is_ascii_alphanumeric(),
                        Some(_) => line[i + 1..]
                            .chars()
                            .next()
                            .is_some_and(char::is_alphanumeric),
                        None => false,
                    };
                    let keep_going = (matches!(b, b'\'' | b'`') && next_alnum())
                        || (matches!(b, b',' | b'.')
                            && buf.last().is_some_and(u8::is_ascii_digit)
                            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
                    if !keep_going {
                        out.push(token_hash(buf));
                        buf.clear();
                    }
                }
                i += 1;
                continue;
            }
            let Some(c) = line[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if c.is_alphanumeric() {
                let mut tmp = [0u8; 4];
                for l in c.to_lowercase() {
                    buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
                }
                continue;
            }
            if !buf.is_empty() {
                if is_apostrophe(c)
                    && line[i..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_alphanumeric())
                {
                    continue;
                }
                out.push(token_hash(buf));
                buf.clear();
            }
        }
        if !buf.is_empty() {
            out.push(token_hash(buf));
            buf.clear();
        }
    }

    #[test]
    fn one_pass_tokens_equal_the_line_by_line_reference() {
        let pieces = [
            "a",
            "Word",
            "WORD",
            "x1",
            "2024",
            "1,000",
            "1.5",
            ",",
            ".",
            "'",
            "’",
            "`",
            " ",
            "  ",
            "\n",
            "\r\n",
            "can't",
            "it’s",
            "Ünïcödé",
            "Президент",
            "東京",
            "—",
            "“",
            "”",
            "©",
            "|",
            "·",
            "•",
            "\u{a0}",
            "verylongwordthatgoesonandonforeverandever",
            "Élan",
            "ß",
            "İ",
            "3.",
            ".5",
            "x'",
            "'y",
            "ǅ",
            "sixteen_letters_",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "7",
            "'",
            "9,",
            "café",
            "naïve",
            "٣",
            "x’",
            "Ⅻ",
        ];
        let mut st = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..4000 {
            let mut text = String::new();
            // Some texts long enough to cross many 64-byte words of the masks.
            let n = (st % if round % 8 == 0 { 400 } else { 40 }) as usize;
            for _ in 0..n {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                text.push_str(pieces[(st % pieces.len() as u64) as usize]);
            }
            let t = tokenize(&text);
            let mut want = Vec::new();
            let mut buf = Vec::new();
            for (i, line) in text.split('\n').enumerate() {
                let a = want.len();
                tokenize_line(line, &mut buf, &mut want);
                assert_eq!(t.lines[i], (a as u32, want.len() as u32), "{text:?}");
                assert_eq!(t.text_line(&text, i), line);
            }
            assert_eq!(t.hashes, want, "{text:?}");
            assert_eq!(t.lines.len(), text.split('\n').count());
        }
    }

    fn opts() -> IntraOptions {
        IntraOptions {
            min_words: 4,
            containment: 0.6,
            similarity: 0.9,
            title: true,
        }
    }

    fn dedup(text: &str, title: Option<&str>) -> String {
        let toks = tokenize(text);
        let title_toks = title.map(|t| tokenize(t).hashes);
        let fates = intra_fates(text, &toks, title_toks.as_deref(), &opts());
        apply_fates(&fates, |i| toks.text_line(text, i), text.len())
    }

    #[test]
    fn long_texts_find_exact_repeats_at_any_distance_and_near_ones_in_the_window() {
        let line =
            |k: usize| format!("Paragraph {k} of the record is here, with words w{k} x{k} y{k}.");
        let mut lines: Vec<String> = (0..NEAR_WINDOW + 50).map(line).collect();
        lines.push(line(3)); // exact, far back: dropped
        lines.push(line(7).replace("record", "recrod")); // near, far back: kept
        lines.push(line(NEAR_WINDOW + 40)); // exact, in the window: dropped
        lines.push(line(NEAR_WINDOW + 45).replace("record", "recrod")); // near, in the window: dropped
        let text = lines.join("\n");
        let out = dedup(&text, None);
        let n = NEAR_WINDOW + 50;
        assert_eq!(out.lines().count(), n + 1, "{:?}", &out[out.len() - 300..]);
        assert!(out.ends_with(&lines[n + 1]));
        // a short text: every pair is compared, as ever
        let short = format!("{}\n{}", line(7), line(7).replace("record", "recrod"));
        assert_eq!(dedup(&short, None).lines().count(), 1);
    }

    #[test]
    fn tokens_ignore_case_punctuation_apostrophes_and_number_separators() {
        let a = tokenize("The World’s  biggest firm, said: \"1,000 jobs\"").hashes;
        let b = tokenize("the worlds biggest firm said 1000 JOBS.").hashes;
        assert_eq!(a, b);
        assert_eq!(a.len(), 7);
        assert_ne!(tokenize("one two").hashes, tokenize("one three").hashes);
    }

    #[test]
    fn in_place_hash_of_ascii_words_is_the_hash_of_the_lower_case() {
        let mut st = 0x1234_5678_9ABC_DEF0u64;
        let alphabet = b"abcxyzABCXYZ0189qQ";
        let mut seen = std::collections::HashMap::new();
        for n in 0..80 {
            for _ in 0..200 {
                let w: Vec<u8> = (0..n)
                    .map(|_| {
                        st ^= st << 13;
                        st ^= st >> 7;
                        st ^= st << 17;
                        alphabet[(st % alphabet.len() as u64) as usize]
                    })
                    .collect();
                let lower = w.to_ascii_lowercase();
                let h = token_hash(&lower);
                // In the middle of a text and at its very end (fewer than 16 bytes after it).
                let mut text = b"  ".to_vec();
                text.extend_from_slice(&w);
                text.extend_from_slice(b" tail of the text");
                assert_eq!(
                    hash_ascii_lower(&text, 2, 2 + n, &mut Vec::new()),
                    h,
                    "{}",
                    String::from_utf8_lossy(&w)
                );
                assert_eq!(
                    hash_ascii_lower(&text[..2 + n], 2, 2 + n, &mut Vec::new()),
                    h
                );
                // Different words, different hashes.
                assert_eq!(*seen.entry(h).or_insert_with(|| lower.clone()), lower);
            }
        }
        // Every bit of the hash is set about half the time.
        for bit in 0..64 {
            let ones = seen.keys().filter(|h| *h >> bit & 1 == 1).count();
            let share = ones as f64 / seen.len() as f64;
            assert!((0.45..0.55).contains(&share), "bit {bit}: {share}");
        }
        for w in 0..=255u8 {
            let m = alnum_mask(u64::from_le_bytes([
                w, b'a', 0x80, b'Z', b'0', b'9', b'@', b'[',
            ]));
            let want = [
                w.is_ascii_alphanumeric(),
                true,
                false,
                true,
                true,
                true,
                false,
                false,
            ];
            for (k, &x) in want.iter().enumerate() {
                assert_eq!(m >> (8 * k) & 0x80 != 0, x, "byte {w:#x} lane {k}");
            }
        }
    }

    #[test]
    fn alnum_shortcut_agrees_with_unicode() {
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            assert_eq!(
                is_alnum_char(c),
                c.is_alphanumeric(),
                "{c:?} U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn byte_masks_mark_every_byte_value_at_every_position() {
        for b in 0..=255u8 {
            for at in [0, 1, 15, 16, 31, 47, 63, 64, 70] {
                let mut text = vec![b' '; 71];
                text[at] = b;
                let mut m = ByteMasks::default();
                byte_masks(&text, &mut m);
                let bit = |v: &[u64]| v[at / 64] >> (at % 64) & 1 == 1;
                assert_eq!(
                    bit(&m.alnum),
                    b.is_ascii_alphanumeric(),
                    "byte {b:#x} at {at}"
                );
                assert_eq!(bit(&m.hi), b >= 0x80, "byte {b:#x} at {at}");
                assert_eq!(bit(&m.nl), b == b'\n', "byte {b:#x} at {at}");
                let ones = |v: &[u64]| v.iter().map(|w| w.count_ones()).sum::<u32>();
                assert_eq!(
                    ones(&m.alnum) + ones(&m.hi) + ones(&m.nl),
                    u32::from(b.is_ascii_alphanumeric() || b >= 0x80 || b == b'\n')
                );
            }
        }
        assert_eq!(next_bit(&[0, 1 << 3], 0, true), Some(67));
        assert_eq!(next_bit(&[u64::MAX, u64::MAX], 5, false), None);
        assert_eq!(next_bit(&[u64::MAX, !1], 5, false), Some(64));
    }

    #[test]
    fn line_ranges_and_spans() {
        let text = "One two\n\nthree, four's 1,5\nfünf\n";
        let t = tokenize(text);
        assert_eq!(t.lines.len(), 5);
        assert_eq!(t.spans.len(), 5);
        let lines: Vec<&str> = crate::document::split_lines(text).collect();
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(t.text_line(text, i), *l);
            let mut buf = Vec::new();
            let mut one = Vec::new();
            tokenize_line(l, &mut buf, &mut one);
            assert_eq!(t.line(i), &one[..], "line {i}");
        }
    }

    #[test]
    fn tokens_of_other_scripts() {
        let t = tokenize("Президент России заявил, что");
        assert_eq!(t.hashes.len(), 4);
        assert_eq!(
            tokenize("ПРЕЗИДЕНТ").hashes[0],
            tokenize("президент").hashes[0]
        );
    }

    #[test]
    fn repeated_headline_and_lead_behind_dateline_kept_once() {
        let text = "Minister Resigns Over Budget Row\n\nMinister resigns over budget row\n\nThe finance minister resigned on Monday after a row over the budget with the prime minister\n\nLONDON (Agency - 3 May) The finance minister resigned on Monday after a row over the budget with the prime minister.\n\nHe said he had no regrets.";
        let out = dedup(text, None);
        assert_eq!(
            out,
            "Minister Resigns Over Budget Row\n\nLONDON (Agency - 3 May) The finance minister resigned on Monday after a row over the budget with the prime minister.\n\nHe said he had no regrets."
        );
    }

    #[test]
    fn missing_final_period_keeps_the_punctuated_copy_in_first_position() {
        let text = "Alpha beta gamma delta epsilon zeta\nSomething else in between here\nAlpha beta gamma delta epsilon zeta.";
        assert_eq!(
            dedup(text, None),
            "Alpha beta gamma delta epsilon zeta.\nSomething else in between here"
        );
    }

    #[test]
    fn near_repeat_with_typo_dropped() {
        let text = "The council approved the new housing plan for the old harbour district on Tuesday.\n\nThe council aproved the new housing plan for the old harbour district on Tuesday.";
        assert_eq!(
            dedup(text, None),
            "The council approved the new housing plan for the old harbour district on Tuesday."
        );
    }

    #[test]
    fn short_labels_and_distinct_paragraphs_stay() {
        let text = "Share\n\nThe talks ended without a deal, officials said.\n\nShare\n\nThe talks will resume next week, officials said.";
        assert_eq!(dedup(text, None), text);
        // A subhead whose words occur in a later paragraph is not a repeat of it.
        let text = "Avoid the error of 2014\n\nOfficials said they wanted to avoid the error of 2014 when the crisis began and nobody acted.";
        assert_eq!(dedup(text, None), text);
    }

    #[test]
    fn first_paragraph_equal_to_title_dropped() {
        let text = "Storm Hits Coast\n\nA storm hit the coast on Friday, cutting power to thousands of homes.";
        assert_eq!(
            dedup(text, Some("Storm hits coast")),
            "A storm hit the coast on Friday, cutting power to thousands of homes."
        );
        // Only the first paragraph, and only when it is the title.
        let text = "A storm hit the coast on Friday.\n\nStorm Hits Coast";
        assert_eq!(dedup(text, Some("Storm hits coast")), text);
    }

    /// The byte loop `is_chrome_line` was.
    fn is_chrome_line_reference(line: &str) -> bool {
        let b = line.as_bytes();
        let (mut seps, mut wide) = (0usize, 0usize);
        let (mut wide_from, mut slash_from) = (0usize, 0usize);
        for i in 0..b.len() {
            match b[i] {
                b'|' => seps += 1,
                b' ' => {
                    if i >= wide_from && b.get(i + 1) == Some(&b' ') {
                        wide += 1;
                        wide_from = i + 2;
                    }
                    if i >= slash_from && b.get(i + 1) == Some(&b'/') && b.get(i + 2) == Some(&b' ')
                    {
                        seps += 1;
                        slash_from = i + 3;
                    }
                }
                0xC2 => match b.get(i + 1) {
                    Some(0xA9) => return true,
                    Some(0xB7 | 0xBB) => seps += 1,
                    _ => {}
                },
                0xE2 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA2) => seps += 1,
                _ => {}
            }
        }
        if seps >= 2 {
            return true;
        }
        if wide >= 2 && !ends_sentence(line) {
            return line
                .split_whitespace()
                .all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()));
        }
        false
    }

    #[test]
    fn chrome_test_equals_the_byte_loop() {
        let pieces = [
            "a", "Word", " ", "  ", "   ", " / ", "/", " /", "|", "·", "»", "•", "©", "’", ".",
            "Ab", "x y", "\u{a0}",
        ];
        let mut st = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20000 {
            let mut line = String::new();
            for _ in 0..(st % 16) {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                line.push_str(pieces[(st % pieces.len() as u64) as usize]);
            }
            assert_eq!(
                is_chrome_line(&line),
                is_chrome_line_reference(&line),
                "{line:?}"
            );
        }
    }

    #[test]
    fn content_lines_skip_chrome_and_keep_wrapped_tails() {
        let text = "Home | News | Sport\nThe committee met on Thursday to discuss the plan and\nvoted it down.\nLog in";
        let toks = tokenize(text);
        assert_eq!(content_lines(text, &toks, None, 6), vec![1, 2]);
        let text = "Privacy Policy | Terms of Use | Cookie Settings\nBusiness  Opinion  Markets  Live  Politics  Health\n© 2005 The Daily Example. All rights reserved today.\nThe  talks  ended without a deal on Friday, officials said.";
        let toks = tokenize(text);
        assert_eq!(content_lines(text, &toks, None, 6), vec![3]);
    }
}
