//! The pure typography function: a conservative byte scan that proves most clean texts clean
//! (and returns them borrowed), then a line-by-line rewrite for the rest.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::chars::{self, Class, Invisible};
use super::punct;
use super::{Options, QuotePolicy, TypoCounts};

/// Clean up the typography of `text` (see the module docs for the rules). Returns the text
/// borrowed when nothing changes, with the number of fixes per rule.
pub fn typography<'a>(text: &'a str, opts: &Options) -> (Cow<'a, str>, TypoCounts) {
    let mut counts = TypoCounts::default();
    if quick_clean(text, opts) {
        return (Cow::Borrowed(text), counts);
    }
    let out = rewrite(text, opts, &mut counts);
    if out == text {
        (Cow::Borrowed(text), TypoCounts::default())
    } else {
        (Cow::Owned(out), counts)
    }
}

/// Quick-scan byte classes: 0 = nothing to check.
const SPACE: u8 = 1;
const LF: u8 = 2;
const BAD: u8 = 3;
const NON_ASCII: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = SPACE;
    t[b'\n' as usize] = LF;
    t[b'\r' as usize] = BAD;
    t[b'\t' as usize] = BAD;
    t[0x0B] = BAD;
    t[0x0C] = BAD;
    let mut b = 0x80;
    while b < 256 {
        t[b] = NON_ASCII;
        b += 1;
    }
    t
};

/// Bytes that must not follow a space (or may start a rule: `,` `.` `)`...; 0xE2 is checked further).
static BAD_AFTER_SPACE: [bool; 256] = {
    let mut t = [false; 256];
    let bad = b" \n,;:!?).";
    let mut k = 0;
    while k < bad.len() {
        t[bad[k] as usize] = true;
        k += 1;
    }
    t[0xE2] = true;
    t
};

/// Bytes that must not precede a space (`(` and the last byte of `“`, checked further).
static BAD_BEFORE_SPACE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b'(' as usize] = true;
    t[0x9C] = true;
    t
};

/// The quick scan's block test for byte `c` between `p` and `n`:
/// `(CLASS[c] & !SPACE) != 0 || (c == ' ' && (BAD_AFTER_SPACE[n] || BAD_BEFORE_SPACE[p]))`,
/// written as the comparisons [`block_mask`] makes 16 bytes at a time (its reference).
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
fn block_flag(c: u8, n: u8, p: u8) -> bool {
    let after = (n == b' ')
        | (n == b'\n')
        | (n == b',')
        | (n == b';')
        | (n == b':')
        | (n == b'!')
        | (n == b'?')
        | (n == b')')
        | (n == b'.')
        | (n == 0xE2);
    let before = (p == b'\n') | (p == b'(') | (p == 0x9C);
    (c.wrapping_sub(0x09) < 5) | (c >= 0x80) | ((c == b' ') & (after | before))
}

/// Bytes of a quick-scan block.
const BLOCK: usize = 32;

/// [`block_flag`] of the [`BLOCK`] bytes from `i` as a bit mask (bit `k`: byte `i + k`);
/// needs a byte before `i` and one after the block. Why a mask: a block with one curly quote
/// or one line break was walked byte by byte before; now only its flagged bytes are.
#[inline]
fn block_mask(b: &[u8], i: usize) -> u32 {
    assert!(i >= 1 && i + BLOCK < b.len());
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let mut mask = 0u32;
        for h in 0..BLOCK / 16 {
            let at = i + 16 * h;
            // SAFETY: SSE2 is part of x86-64; the loads read bytes at - 1 .. at + 17, inside
            // `b` by the assertion above.
            unsafe {
                let load = |k: usize| _mm_loadu_si128(b.as_ptr().add(k) as *const __m128i);
                let is = |v: __m128i, x: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(x as i8));
                let (c, nx, pv) = (load(at), load(at + 1), load(at - 1));
                // 0x09..=0x0D: c - 9 <= 4, unsigned
                let d = _mm_sub_epi8(c, _mm_set1_epi8(9));
                let ctl = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(4)), d);
                let mut after = is(nx, b' ');
                for x in [b'\n', b',', b';', b':', b'!', b'?', b')', b'.', 0xE2] {
                    after = _mm_or_si128(after, is(nx, x));
                }
                let before = _mm_or_si128(_mm_or_si128(is(pv, b'\n'), is(pv, b'(')), is(pv, 0x9C));
                let space = _mm_and_si128(is(c, b' '), _mm_or_si128(after, before));
                // the sign bit of `c` itself marks the non-ASCII bytes
                let flag = _mm_or_si128(_mm_or_si128(ctl, space), c);
                mask |= (_mm_movemask_epi8(flag) as u32) << (16 * h);
            }
        }
        mask
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (0..BLOCK).fold(0, |m, k| {
            m | (block_flag(b[i + k], b[i + k + 1], b[i + k - 1]) as u32) << k
        })
    }
}

#[cfg(test)]
#[test]
fn block_mask_is_block_flag_of_each_byte() {
    let mut st = 3u64;
    let bytes = [
        b' ', b'\n', b',', b'(', b'a', 0x9C, 0xE2, 0x80, b'\t', 0x0D, 0x0E, 0x08, b')', b'.',
    ];
    for _ in 0..20000 {
        let b: Vec<u8> = (0..BLOCK + 2)
            .map(|_| bytes[(crate::dedup::sketch::splitmix(&mut st) % bytes.len() as u64) as usize])
            .collect();
        let want = (0..BLOCK).fold(0u32, |m, k| {
            m | (block_flag(b[k + 1], b[k + 2], b[k]) as u32) << k
        });
        assert_eq!(block_mask(&b, 1), want, "{b:?}");
    }
}

#[cfg(test)]
#[test]
fn block_flag_matches_the_tables() {
    for c in 0..=255u8 {
        for x in 0..=255u8 {
            for (n, p) in [(x, b'a'), (b'a', x), (x, x)] {
                let want = (CLASS[c as usize] & !SPACE) != 0
                    || (c == b' ' && (BAD_AFTER_SPACE[n as usize] || BAD_BEFORE_SPACE[p as usize]));
                assert_eq!(block_flag(c, n, p), want, "{c} {n} {p}");
            }
        }
    }
}

/// `true` only if no rule can change `text` (conservative: `false` means "look closer").
/// One pass over the bytes; whole documents of clean text come back without a copy.
pub fn quick_clean(text: &str, opts: &Options) -> bool {
    let b = text.as_bytes();
    let n = b.len();
    if n == 0 {
        return true;
    }
    if matches!(b[0], b'\n' | b' ') || matches!(b[n - 1], b'\n' | b' ') {
        return false;
    }
    let mut scan = Scan {
        text,
        straight: opts.quotes == QuotePolicy::Straight,
        nfc_checked_to: 0,
    };
    let Some(mut i) = scan.step(0) else {
        return false;
    };
    // Blocks of plain bytes (no control, no non-ASCII, no space next to something a rule
    // looks at) are skipped with a branch-free test; in the others only the bytes the test
    // flags are looked at, one by one.
    while i + BLOCK < n {
        let mut flags = block_mask(b, i);
        let end = i + BLOCK;
        while flags != 0 {
            let at = end - BLOCK + flags.trailing_zeros() as usize;
            flags &= flags - 1;
            if at < i {
                // a byte of a character already looked at
                continue;
            }
            i = at;
            if CLASS[b[i] as usize] == NON_ASCII {
                let skip = plain_letter_len(b, i);
                if skip > 0 {
                    i += skip;
                    continue;
                }
            }
            match scan.step(i) {
                Some(j) => i = j,
                None => return false,
            }
        }
        i = i.max(end);
    }
    while i < n {
        match scan.step(i) {
            Some(j) => i = j,
            None => return false,
        }
    }
    true
}

/// Length of the UTF-8 sequence at `i` if it is a letter that no rule touches and that is
/// NFC in any context (Latin, Cyrillic, kana, Hangul syllables, CJK ideographs), else 0.
/// The hot path of non-English text.
#[inline(always)]
fn plain_letter_len(b: &[u8], i: usize) -> usize {
    let c = b[i];
    let Some(&c1) = b.get(i + 1) else { return 0 };
    match c {
        // U+00C0..U+02FF, U+0400..U+047F, U+04C0..U+04FF; U+0480..U+04BF without U+0483..U+0489.
        0xC3..=0xCB | 0xD0 | 0xD1 | 0xD3 => 2,
        0xD2 if !(0x83..=0x89).contains(&c1) => 2,
        // Kana U+3040..U+30FF without the combining sound marks U+3099, U+309A.
        0xE3 if (c1 == 0x81
            || c1 == 0x83
            || (c1 == 0x82 && !matches!(b.get(i + 2), Some(0x99 | 0x9A)))) =>
        {
            3
        }
        // CJK U+5000..U+9FFF, Hangul syllables U+AC00..U+D77F.
        0xE5..=0xE9 | 0xEB | 0xEC => 3,
        0xEA if c1 >= 0xB0 => 3,
        0xED if c1 < 0x9E => 3,
        _ => 0,
    }
}

struct Scan<'a> {
    text: &'a str,
    straight: bool,
    /// Lines before this byte are known to be NFC.
    nfc_checked_to: usize,
}

impl Scan<'_> {
    /// Look at the char starting at byte `i` (a char boundary; never a space at 0 or at the
    /// end): `None` if a rule may apply, else the index of the next char.
    #[inline]
    fn step(&mut self, i: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let n = b.len();
        let c = b[i];
        match CLASS[c as usize] {
            0 => Some(i + 1),
            SPACE => {
                let nx = b[i + 1];
                let pv = b[i - 1];
                if BAD_AFTER_SPACE[nx as usize]
                    && (nx != 0xE2 || b.get(i + 2..i + 4) == Some(&[0x80, 0x9D]))
                {
                    return None;
                }
                if BAD_BEFORE_SPACE[pv as usize]
                    && (pv != 0x9C || (i >= 3 && b[i - 3..i - 1] == [0xE2, 0x80]))
                {
                    return None;
                }
                Some(i + 1)
            }
            LF => {
                if b.get(i + 1) == Some(&b'\n') && b.get(i + 2) == Some(&b'\n') {
                    return None;
                }
                Some(i + 1)
            }
            NON_ASCII => {
                // Fast lane for U+2010..U+2027 and U+2030..U+203F (quotes, dashes, ellipsis).
                if c == 0xE2 && i + 2 < n && b[i + 1] == 0x80 {
                    let t = b[i + 2];
                    if t < 0x90
                        || (0xA8..=0xAF).contains(&t)
                        || (self.straight && (0x98..=0x9F).contains(&t))
                    {
                        return None;
                    }
                    return Some(i + 3);
                }
                // Decode by hand (the text is valid UTF-8, `i` is a lead byte).
                let (ch, len) = if c < 0xE0 && i + 1 < n {
                    (((c as u32 & 0x1F) << 6) | (b[i + 1] as u32 & 0x3F), 2)
                } else if c < 0xF0 && i + 2 < n {
                    (
                        ((c as u32 & 0x0F) << 12)
                            | ((b[i + 1] as u32 & 0x3F) << 6)
                            | (b[i + 2] as u32 & 0x3F),
                        3,
                    )
                } else {
                    let ch = self.text.get(i..)?.chars().next()?;
                    (ch as u32, ch.len_utf8())
                };
                let ch = char::from_u32(ch)?;
                if chars::class(ch) != Class::Plain || (self.straight && is_curly_quote(ch)) {
                    return None;
                }
                if !chars::nfc_trivial(ch) && i >= self.nfc_checked_to {
                    // NFC is decided line by line (`\n` never composes): check this one once.
                    let start = memchr::memrchr(b'\n', &b[..i]).map_or(0, |p| p + 1);
                    let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |p| i + p);
                    if is_nfc_quick(self.text.get(start..end)?.chars()) != IsNormalized::Yes {
                        return None;
                    }
                    self.nfc_checked_to = end;
                }
                Some(i + len)
            }
            _ => None,
        }
    }
}

#[inline]
fn is_curly_quote(c: char) -> bool {
    matches!(c, '“' | '”' | '„' | '‟' | '‘' | '’' | '‚' | '‛')
}

/// Every line break made `\n`: CRLF, a lone CR, NEL and LINE SEPARATOR one `\n` each, a
/// PARAGRAPH SEPARATOR a blank line. Borrowed when there is none. Why bytes: their first
/// bytes (CR, 0xC2, 0xE2) are found by `memchr3` and the rest is copied in runs; looking for
/// the three characters as `char`s decoded every character of every text that took this path.
fn normalize_breaks<'a>(text: &'a str, counts: &mut TypoCounts) -> Cow<'a, str> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    // (no byte after the first of a break is one of the three: a match is never inside one)
    for i in memchr::memchr3_iter(b'\r', 0xC2, 0xE2, b) {
        let next = |k: usize| b.get(i + k).copied();
        let (with, len) = match (b[i], next(1), next(2)) {
            (b'\r', Some(b'\n'), _) => ("\n", 2),
            (b'\r', _, _) => ("\n", 1),
            (0xC2, Some(0x85), _) => ("\n", 2),
            (0xE2, Some(0x80), Some(0xA8)) => ("\n", 3),
            (0xE2, Some(0x80), Some(0xA9)) => ("\n\n", 3),
            _ => continue,
        };
        if b[i] == b'\r' {
            counts.crlf += 1;
        } else {
            counts.line_break += 1;
        }
        if last == 0 {
            out.reserve(text.len());
        }
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + len;
    }
    if last == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
#[test]
fn normalize_breaks_matches_a_char_by_char_reference() {
    fn reference(text: &str) -> (String, u64, u64) {
        let (mut out, mut crlf, mut other) = (String::new(), 0, 0);
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '\r' => {
                    if it.peek() == Some(&'\n') {
                        it.next();
                    }
                    crlf += 1;
                    out.push('\n');
                }
                '\u{85}' | '\u{2028}' => {
                    other += 1;
                    out.push('\n');
                }
                '\u{2029}' => {
                    other += 1;
                    out.push_str("\n\n");
                }
                c => out.push(c),
            }
        }
        (out, crlf, other)
    }
    let parts = [
        "\r", "\n", "\r\n", "\u{85}", "\u{2028}", "\u{2029}", "a", " ", "é", "“", "—", "\u{2027}",
        "\u{202A}", "\u{84}", "\u{C5}",
    ];
    let mut st = 7u64;
    for len in 0..2000 {
        let text: String = (0..len % 40)
            .map(|_| parts[(crate::dedup::sketch::splitmix(&mut st) % parts.len() as u64) as usize])
            .collect();
        let mut counts = TypoCounts::default();
        let got = normalize_breaks(&text, &mut counts);
        let (want, crlf, other) = reference(&text);
        assert_eq!(got, want, "{text:?}");
        assert_eq!((counts.crlf, counts.line_break), (crlf, other), "{text:?}");
        assert_eq!(matches!(got, Cow::Borrowed(_)), want == text, "{text:?}");
    }
}

/// Line structure: each line fixed on its own, blank-line runs made one paragraph break,
/// none at the start or the end.
fn rewrite(text: &str, opts: &Options, counts: &mut TypoCounts) -> String {
    let norm = normalize_breaks(text, counts);
    let mut doc = DocContext {
        text: &norm,
        cjk: None,
    };
    let mut out = String::with_capacity(text.len());
    let mut buf = String::new();
    let mut blank_run = 0u64;
    for line in crate::document::split_lines(&norm) {
        // Most lines of a text that failed the quick scan are clean themselves.
        let fixed = if quick_clean(line, opts) {
            Cow::Borrowed(line)
        } else {
            fix_line(line, &mut doc, opts, counts, &mut buf)
        };
        if fixed.is_empty() {
            blank_run += 1;
            continue;
        }
        if out.is_empty() {
            counts.blank_lines += blank_run;
        } else if blank_run > 0 {
            out.push_str("\n\n");
            counts.blank_lines += blank_run - 1;
        } else {
            out.push('\n');
        }
        out.push_str(&fixed);
        blank_run = 0;
    }
    counts.blank_lines += blank_run;
    out
}

/// What a decision about one line may need to know about the whole document.
struct DocContext<'a> {
    text: &'a str,
    /// Is the document as a whole CJK text? (computed on first need)
    cjk: Option<bool>,
}

impl DocContext<'_> {
    fn is_cjk(&mut self) -> bool {
        let text = self.text;
        *self.cjk.get_or_insert_with(|| {
            let (cjk, latin) = script_counts(text);
            cjk_majority(cjk, latin)
        })
    }
}

fn script_counts(s: &str) -> (usize, usize) {
    let mut cjk = 0;
    let mut latin = 0;
    for c in s.chars() {
        if chars::is_cjk(c) {
            cjk += 1;
        } else if chars::is_latin_letter(c) {
            latin += 1;
        } else {
            // Count ligatures and full-width letters as the letters they become, so that the
            // decision is the same before and after they are fixed.
            match chars::class(c) {
                Class::Ligature(s) => latin += s.len(),
                Class::FullWidth(a) if a.is_ascii_alphabetic() => latin += 1,
                _ => {}
            }
        }
    }
    (cjk, latin)
}

/// Words with at least two Latin letters (full-width letters count as the letters they are).
fn latin_words(line: &str) -> usize {
    line.split(char::is_whitespace)
        .filter(|w| {
            w.chars()
                .filter(|&c| {
                    chars::is_latin_letter(c)
                        || matches!(chars::class(c), Class::FullWidth(a) if a.is_ascii_alphabetic())
                })
                .nth(1)
                .is_some()
        })
        .count()
}

/// CJK characters carry about four times the information of a Latin letter.
#[inline]
fn cjk_majority(cjk: usize, latin: usize) -> bool {
    cjk > 0 && cjk * 4 >= latin
}

/// Per-line facts, computed on first need.
struct LineContext<'a> {
    line: &'a str,
    cjk: Option<bool>,
    rtl: Option<bool>,
}

impl LineContext<'_> {
    /// Full-width forms are normal typography in CJK text and noise in Latin-script text.
    fn is_cjk(&mut self, doc: &mut DocContext) -> bool {
        if let Some(v) = self.cjk {
            return v;
        }
        // One CJK character makes the line CJK text. A line without any follows the document,
        // unless it reads as a sentence of Latin words: a short line of a Japanese article (a
        // key combination, a name, a number) keeps its full-width forms, an English paragraph
        // quoted in it does not.
        let v =
            self.line.chars().any(chars::is_cjk) || (doc.is_cjk() && latin_words(self.line) < 4);
        self.cjk = Some(v);
        v
    }

    fn has_rtl(&mut self) -> bool {
        let line = self.line;
        *self
            .rtl
            .get_or_insert_with(|| line.chars().any(chars::is_rtl))
    }
}

/// Whether the invisible character `c` at byte `i` of the line does a job there.
fn keep_invisible(kind: Invisible, lc: &mut LineContext, i: usize, c: char) -> bool {
    let line = lc.line;
    let prev = line[..i].chars().next_back();
    let next = line[i + c.len_utf8()..].chars().next();
    let either = |f: fn(char) -> bool| prev.is_some_and(f) || next.is_some_and(f);
    match kind {
        Invisible::SoftHyphen | Invisible::Format => false,
        Invisible::Zwsp => either(chars::uses_zwsp),
        Invisible::Joiner => either(chars::needs_joiners) || either(chars::is_emoji_part),
        Invisible::Bidi => lc.has_rtl(),
        Invisible::Mvs => either(|c| ('\u{1800}'..='\u{18AF}').contains(&c)),
    }
}

/// Fix one line (no `\n` in it). Returns it borrowed when nothing changes.
fn fix_line<'a>(
    line: &'a str,
    doc: &mut DocContext,
    opts: &Options,
    counts: &mut TypoCounts,
    buf: &mut String,
) -> Cow<'a, str> {
    if line.is_empty() {
        return Cow::Borrowed(line);
    }
    let mut lc = LineContext {
        line,
        cjk: None,
        rtl: None,
    };
    buf.clear();
    // Whitespace characters seen since the last emitted character.
    let mut run = 0u32;
    let mut need_nfc = false;
    macro_rules! emit_space {
        () => {
            if run > 0 {
                if buf.is_empty() {
                    counts.trailing_space += 1;
                } else {
                    buf.push(' ');
                    if run > 1 {
                        counts.space_run += 1;
                    }
                }
                run = 0;
            }
        };
    }
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            match b {
                b' ' => {
                    run += 1;
                    i += 1;
                }
                b'\t' | 0x0B | 0x0C | b'\r' => {
                    counts.odd_space += 1;
                    run += 1;
                    i += 1;
                }
                _ => {
                    // A run of ASCII without whitespace is copied as it is.
                    let start = i;
                    while i < bytes.len() && bytes[i] > b' ' && bytes[i] < 0x80 {
                        i += 1;
                    }
                    if i == start {
                        // Another ASCII control character: not ours (`repair` handles them).
                        i += 1;
                    }
                    emit_space!();
                    buf.push_str(&line[start..i]);
                }
            }
            continue;
        }
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        match chars::class(c) {
            Class::Space => {
                run += 1;
            }
            Class::OddSpace | Class::LineBreak | Class::ParaBreak => {
                counts.odd_space += 1;
                run += 1;
            }
            Class::Invisible(kind) => {
                if keep_invisible(kind, &mut lc, i, c) {
                    emit_space!();
                    buf.push(c);
                } else {
                    match kind {
                        Invisible::SoftHyphen => counts.soft_hyphen += 1,
                        _ => counts.invisible += 1,
                    }
                }
            }
            Class::Ligature(s) if opts.ligatures => {
                emit_space!();
                buf.push_str(s);
                counts.ligature += 1;
            }
            Class::FullWidth(a) if opts.full_width && !lc.is_cjk(doc) => {
                emit_space!();
                buf.push(a);
                counts.full_width += 1;
            }
            _ => {
                emit_space!();
                if !chars::nfc_trivial(c) {
                    need_nfc = true;
                }
                buf.push(c);
            }
        }
        i += c.len_utf8();
    }
    if run > 0 && !buf.is_empty() {
        counts.trailing_space += 1;
    }
    let mut cur: Cow<str> = Cow::Borrowed(buf.as_str());
    // NFC first: the punctuation rules look at letters, which must be composed already.
    if need_nfc && is_nfc_quick(cur.chars()) != IsNormalized::Yes {
        let s: String = cur.nfc().collect();
        if s != *cur {
            counts.nfc += 1;
            cur = Cow::Owned(s);
        }
    }
    if opts.punct_spacing {
        if let Some(s) = punct::fix_punct(&cur, counts) {
            cur = Cow::Owned(s);
        }
    }
    if opts.quotes == QuotePolicy::Straight && cur.contains(is_curly_quote) {
        let s: String = cur
            .chars()
            .map(|c| match c {
                '“' | '”' | '„' | '‟' => {
                    counts.straight_quotes += 1;
                    '"'
                }
                '‘' | '’' | '‚' | '‛' => {
                    counts.straight_quotes += 1;
                    '\''
                }
                c => c,
            })
            .collect();
        cur = Cow::Owned(s);
    }
    if *cur == *line {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(cur.into_owned())
    }
}

/// The full rewrite without the quick scan (tests check the scan against it).
#[cfg(test)]
pub(crate) fn rewrite_for_tests(text: &str, opts: &Options) -> String {
    let mut counts = TypoCounts::default();
    rewrite(text, opts, &mut counts)
}
