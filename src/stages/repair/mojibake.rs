//! Mojibake: UTF-8 bytes that were decoded with a single-byte code page (`donâ€™t`,
//! `Ð¡Ñ‚Ð¾`), possibly several times over, and turned back into the text they were.
//!
//! The idea (after ftfy): mojibake has a recognisable *shape*. A UTF-8 lead byte read as
//! windows-1252 is an accented capital or lower-case letter (`Ã`, `â`, `Ð`), its continuation
//! bytes are symbols and punctuation (`©`, `€`, `™`, `¡`), so broken text has symbols glued
//! inside words, capitals after lower-case letters and C1 controls. [`weirdness`] scores that.
//! A segment (a line) is repaired only when re-encoding it with some code page gives bytes
//! that are valid UTF-8 and the decoded text scores clearly better; otherwise, in text that
//! mixes correct and broken parts, single UTF-8 sequences are repaired where their own
//! neighbourhood improves. Clean text has no such shape, so it is left byte-identical.

use super::codepages::{self, CodePage};
use crate::input::decode::language_fit;

/// Layers of mis-decoding undone at most.
const MAX_LAYERS: usize = 4;
/// A whole-segment repair must lower the weirdness by at least this much.
const MIN_GAIN: i32 = 2;
/// Marker for U+FFFD in the byte view (a byte lost by an earlier lossy decoding).
const WILD: u16 = 0x100;

/// Repair mojibake in one segment. Returns the repaired text and the number of repairs.
pub fn fix_segment(seg: &str) -> Option<(String, u64)> {
    fix_segment_with_gain(seg, MIN_GAIN)
}

/// [`fix_segment`] with a given minimum gain of weirdness per layer. A gain of 1 is enough
/// evidence only in a document whose other segments were already found broken.
pub fn fix_segment_with_gain(seg: &str, min_gain: i32) -> Option<(String, u64)> {
    if seg.is_ascii() {
        return None;
    }
    let w = weirdness(seg);
    if w == 0 {
        return None;
    }
    search(seg, w, MAX_LAYERS, min_gain).map(|(t, _, n)| (t, n))
}

/// Undo up to `depth` layers of mojibake of `text` (weirdness `w`). Each candidate layer is
/// judged by where it leads (the best text reachable from it), not by itself: `voilÃ\x83`
/// read back as MacRoman looks better after one step than as windows-1252, but only the
/// latter leads to `voilà`. Returns the text, its weirdness and the repairs made.
fn search(text: &str, w: i32, depth: usize, min_gain: i32) -> Option<(String, i32, u64)> {
    if depth == 0 || w == 0 {
        return None;
    }
    let mut best: Option<(String, i32, u64)> = None;
    for cp in codepages::all() {
        let Some((fixed, cost)) = decode_whole(text, cp) else {
            continue;
        };
        let wf = weirdness(&fixed) + cost;
        if w - wf < min_gain {
            continue;
        }
        let cand = match search(&fixed, wf, depth - 1, min_gain) {
            Some((t, wt, n)) => (t, wt, n + 1),
            None => (fixed, wf, 1),
        };
        // Equal weirdness (ISO-8859-2 vs windows-1250): the text that fits one language's
        // alphabet best wins.
        let better = match &best {
            None => true,
            Some(b) => {
                cand.1 < b.1 || (cand.1 == b.1 && language_fit(&cand.0) > language_fit(&b.0))
            }
        };
        if better {
            best = Some(cand);
        }
    }
    if best.is_some() {
        return best;
    }
    for cp in [&*codepages::WINDOWS_1252, &*codepages::WINDOWS_1251] {
        if let Some((fixed, n)) = decode_pieces(text, cp) {
            let wf = weirdness(&fixed);
            if wf < w {
                return Some(match search(&fixed, wf, depth - 1, min_gain) {
                    Some((t, wt, m)) => (t, wt, n + m),
                    None => (fixed, wf, n),
                });
            }
        }
    }
    None
}

/// Re-encode the whole segment with `cp` and decode the bytes as UTF-8 (with the usual damage
/// of such text undone: a NBSP byte that became a space, bytes lost to `?`/U+FFFD, CESU-8).
fn decode_whole(text: &str, cp: &CodePage) -> Option<(String, i32)> {
    let mut units: Vec<u16> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{FFFD}' {
            units.push(WILD);
        } else {
            units.push(cp.encode(c)? as u16);
        }
    }
    let (s, nseq, guesses) = decode_units(&units, true)?;
    (nseq > 0).then_some((s, 2 * guesses as i32))
}

fn unit_at(units: &[u16], i: usize) -> Option<u16> {
    units.get(i).copied()
}

/// Lenient UTF-8 decoding of the byte view. `None` if some byte cannot be part of UTF-8.
/// Returns the text, the number of multi-byte sequences and the number of guessed bytes.
/// `a_grave_words`: the text was read as windows-1252, where `Ã ` followed by a word is the
/// word "à" (French, Portuguese) whose NBSP byte became the separating space.
fn decode_units(units: &[u16], a_grave_words: bool) -> Option<(String, usize, usize)> {
    let mut out = String::with_capacity(units.len());
    let mut nseq = 0usize;
    let mut guesses = 0usize;
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        if u == WILD {
            out.push('\u{FFFD}');
            i += 1;
            continue;
        }
        let b = u as u8;
        if b < 0x80 {
            out.push(b as char);
            i += 1;
            continue;
        }
        // "Ã " is "à" whose NBSP byte became a plain space: the space also separated words
        // unless the next word is glued to it ("Ã s" = "às", Portuguese contractions).
        if b == 0xC3
            && unit_at(units, i + 1) == Some(0x20)
            && (a_grave_words || !matches!(unit_at(units, i + 2), Some(0x20) | None))
        {
            out.push('à');
            nseq += 1;
            i += 2;
            let rest = |k: usize| unit_at(units, i + k).map(|u| u as u8);
            // A single letter after it is glued to it ("Ã s" = "às", "hĂ i" = "hài").
            let glued_letter = rest(0).is_some_and(|c| c.is_ascii_lowercase())
                && rest(1).is_none_or(|c| !c.is_ascii_alphanumeric() && c != b'\'' && c != 0x92);
            let glued_quel = rest(0) == Some(b'q') && rest(1) == Some(b'u');
            if !(glued_letter || glued_quel) {
                out.push(' ');
            }
            continue;
        }
        let need = match b {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => return None,
        };
        let mut seq = [b, 0, 0, 0];
        let mut lossy = false;
        // `j` places the byte in `seq` and finds its unit: an index reads best.
        #[allow(clippy::needless_range_loop)]
        for j in 1..=need {
            let v = unit_at(units, i + j)?;
            if (0x80..=0xBF).contains(&v) {
                seq[j] = v as u8;
            } else if v == WILD || v == b'?' as u16 {
                lossy = true;
                seq[j] = 0x80;
            } else if v == 0x20 {
                // A NBSP byte turned into a space. At the edge of the mojibake this is a guess:
                // it costs weirdness.
                if !(j < need || unit_at(units, i + j + 1).is_some_and(|n| n >= 0x80)) {
                    guesses += 1;
                }
                seq[j] = 0xA0;
            } else {
                return None;
            }
        }
        if lossy {
            out.push('\u{FFFD}');
        } else if let Ok(s) = std::str::from_utf8(&seq[..=need]) {
            out.push_str(s);
        } else if b == 0xED && need == 2 && (0xA0..=0xAF).contains(&seq[1]) {
            // CESU-8: a UTF-16 surrogate pair encoded as two 3-byte sequences.
            let lo = [
                unit_at(units, i + 3)?,
                unit_at(units, i + 4)?,
                unit_at(units, i + 5)?,
            ];
            if lo[0] != 0xED || !(0xB0..=0xBF).contains(&lo[1]) || !(0x80..=0xBF).contains(&lo[2]) {
                return None;
            }
            let hi = 0xD000 | ((seq[1] as u32 & 0x3F) << 6) | (seq[2] as u32 & 0x3F);
            let lo = 0xD000 | ((lo[1] as u32 & 0x3F) << 6) | (lo[2] as u32 & 0x3F);
            let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
            out.push(c);
            nseq += 1;
            i += 6;
            continue;
        } else {
            return None;
        }
        nseq += 1;
        i += need + 1;
    }
    Some((out, nseq, guesses))
}

/// Repair single UTF-8 sequences inside otherwise correct text, each only where its own
/// neighbourhood gets less weird. Returns the text and the number of sequences repaired.
fn decode_pieces(text: &str, cp: &CodePage) -> Option<(String, u64)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut last = 0usize; // byte offset copied up to
    let mut n = 0u64;
    let mut i = 0;
    while i < chars.len() {
        let (off, c) = chars[i];
        let Some(b) = cp.encode(c).filter(|&b| (0xC2..=0xF4).contains(&b)) else {
            i += 1;
            continue;
        };
        let need = match b {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            _ => 3,
        };
        let mut seq = [b, 0, 0, 0];
        let mut ok = i + need < chars.len();
        if ok {
            for j in 1..=need {
                match cp.encode(chars[i + j].1) {
                    Some(v) if (0x80..=0xBF).contains(&v) => seq[j] = v,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
        }
        let mut end_idx = i + need + 1;
        let decoded = if ok {
            std::str::from_utf8(&seq[..=need]).ok()
        } else if c == 'Ã' && chars.get(i + 1).is_some_and(|&(_, n)| n == ' ') {
            let next = chars.get(i + 2).map_or(' ', |&(_, n)| n);
            let after = chars.get(i + 3).map_or(' ', |&(_, n)| n);
            let glued = next.is_ascii_lowercase()
                && !after.is_alphanumeric()
                && after != '\''
                && after != '’';
            // "Ã s" is "às"; before any other word the space also separates words.
            end_idx = i + if glued { 2 } else { 1 };
            Some("à")
        } else {
            None
        };
        let Some(decoded) = decoded else {
            i += 1;
            continue;
        };
        let end_off = chars.get(end_idx).map_or(text.len(), |&(o, _)| o);
        let win_start = chars[i.saturating_sub(2)].0;
        let win_end = chars.get(end_idx + 2).map_or(text.len(), |&(o, _)| o);
        let before = &text[win_start..win_end];
        let after = format!(
            "{}{}{}",
            &text[win_start..off],
            decoded,
            &text[end_off..win_end]
        );
        if weirdness(before) - weirdness(&after) >= MIN_GAIN {
            out.push_str(&text[last..off]);
            out.push_str(decoded);
            last = end_off;
            n += 1;
            i = end_idx;
        } else {
            i += 1;
        }
    }
    if n == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some((out, n))
}

/// Symbols that UTF-8 continuation bytes become and that do not sit right after a letter in
/// correct text.
fn is_strong_symbol(c: char) -> bool {
    matches!(
        c,
        '€' | '‚'
            | 'ƒ'
            | '„'
            | '†'
            | '‡'
            | 'ˆ'
            | '‰'
            | '‹'
            | '›'
            | '•'
            | '˜'
            | '¡'
            | '¢'
            | '£'
            | '¤'
            | '¥'
            | '¦'
            | '§'
            | '¨'
            | '©'
            | '¬'
            | '¯'
            | '±'
            | '²'
            | '³'
            | '´'
            | '¶'
            | '·'
            | '¸'
            | '¹'
            | '¼'
            | '½'
            | '¾'
            | '¿'
            | '«'
            | '»'
            | 'ˇ'
            | '˘'
            | '˛'
            | '˝'
            | '˙'
            | '√'
            | '∞'
            | '≠'
            | '≤'
            | '≥'
            | '∂'
            | '∑'
            | '∏'
            | '∫'
            | '◊'
            | '≈'
            | '∆'
            | 'µ'
    )
}

/// Punctuation a continuation byte becomes that is also common in correct text.
fn is_weak_symbol(c: char) -> bool {
    matches!(
        c,
        '‘' | '’' | '“' | '”' | '–' | '—' | '…' | '™' | '®' | '°' | 'ª' | 'º'
    )
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9F}').contains(&c)
}

/// Latin-1 letters that UTF-8 lead bytes (0xC2..0xF4) become.
fn is_latin1_lead(c: char) -> bool {
    ('\u{C2}'..='\u{F4}').contains(&c) && c != '÷'
}

/// Characters that are very rare in real text but common in what wrong repairs produce.
fn is_rare(c: char) -> bool {
    matches!(c as u32,
        0x017F            // long s
        | 0x0250..=0x02AF // IPA
        | 0x0530..=0x058F // Armenian
        | 0x0591..=0x05C7 // Hebrew points
        | 0x0600..=0x061A // Arabic signs
        | 0x0700..=0x08FF // Syriac .. Arabic extended
        | 0xE000..=0xF8FF // private use
    )
}

/// CJK ideographs and Hangul syllables (never glued to a Latin lower-case letter).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7A3)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
    Hebrew,
    Arabic,
}

fn script(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x370..=0x3FF => Script::Greek,
        0x400..=0x52F => Script::Cyrillic,
        0x530..=0x58F => Script::Armenian,
        0x590..=0x5FF => Script::Hebrew,
        0x600..=0x6FF => Script::Arabic,
        _ => return None,
    })
}

/// Cyrillic characters that follow `Р`/`С` only in UTF-8 read as windows-1251.
fn is_cp1251_cont(c: char) -> bool {
    matches!(
        c,
        'Ђ' | 'Ѓ'
            | 'ѓ'
            | 'Љ'
            | 'Њ'
            | 'Ќ'
            | 'Ћ'
            | 'Џ'
            | 'ђ'
            | 'љ'
            | 'њ'
            | 'ќ'
            | 'ћ'
            | 'џ'
            | 'Ѕ'
            | 'ѕ'
            | '№'
            | '‚'
            | '„'
            | '…'
            | '†'
            | '‡'
            | '€'
            | '‰'
            | '‹'
            | '›'
            | '•'
            | '™'
            | '¤'
            | '¦'
            | '§'
            | '©'
            | '«'
            | '¬'
            | '®'
            | '°'
            | '±'
            | 'µ'
            | '¶'
            | '·'
            | '»'
            | '\u{A0}'
            | '‘'
            | '’'
            | '“'
            | '”'
            | '–'
            | '—'
    )
}

/// How much `text` looks like mojibake (0 for ordinary text of any language).
///
/// Only a non-ASCII character, or the character right after one, can score, so the scan
/// jumps over ASCII runs a word at a time: news text is mostly ASCII with a few quotes and
/// dashes, and this runs on every line that has any. Equal to [`weirdness_by_chars`].
pub fn weirdness(text: &str) -> i32 {
    let b = text.as_bytes();
    let mut w = 0i32;
    let mut from = 0;
    while let Some(j) = next_non_ascii(b, from) {
        // `j` starts a run of non-ASCII characters; the byte before it (if any) is ASCII.
        let mut prev = if j == 0 { ' ' } else { b[j - 1] as char };
        let mut it = text[j..].char_indices();
        let Some((mut at, mut c)) = it.next() else {
            break;
        };
        loop {
            let next_opt = it.next();
            let next = next_opt.map_or(' ', |(_, n)| n);
            w += char_weirdness(prev, c, next, &mut it.as_str().chars());
            match next_opt {
                // The ASCII character after the run was the last one that could score.
                _ if c.is_ascii() => break,
                Some((k, n)) => {
                    prev = c;
                    (at, c) = (k, n);
                }
                None => return w,
            }
        }
        from = j + at + 1;
    }
    w
}

/// First byte at or after `from` that is not ASCII, testing 16 bytes at a time.
pub(crate) fn next_non_ascii(b: &[u8], mut from: usize) -> Option<usize> {
    const HIGH: u128 = u128::from_ne_bytes([0x80; 16]);
    while from + 16 <= b.len() {
        let chunk = u128::from_ne_bytes(b[from..from + 16].try_into().ok()?);
        if chunk & HIGH != 0 {
            break;
        }
        from += 16;
    }
    b[from..].iter().position(|&x| x >= 0x80).map(|k| from + k)
}

/// [`weirdness`] the plain way: every character with its neighbours (the reference the fast
/// scan is tested against).
#[cfg(test)]
fn weirdness_by_chars(text: &str) -> i32 {
    let mut w = 0i32;
    let mut it = text.chars();
    let mut prev = ' ';
    let Some(mut c) = it.next() else { return 0 };
    loop {
        let next_opt = it.next();
        let next = next_opt.unwrap_or(' ');
        if !c.is_ascii() || !prev.is_ascii() {
            w += char_weirdness(prev, c, next, &mut it.clone());
        }
        match next_opt {
            Some(n) => {
                prev = c;
                c = n;
            }
            None => break,
        }
    }
    w
}

/// A letter, or `×` (the Hebrew UTF-8 lead byte 0xD7 read as windows-1252).
fn letterish(c: char) -> bool {
    c.is_alphabetic() || c == '×'
}

/// A character windows-1252 reads a UTF-8 continuation byte (0x80..0xBF) as.
fn is_cp1252_cont(c: char) -> bool {
    !c.is_ascii()
        && codepages::WINDOWS_1252
            .encode(c)
            .is_some_and(|b| (0x80..=0xBF).contains(&b))
}

fn char_weirdness(prev: char, c: char, next: char, rest: &mut std::str::Chars<'_>) -> i32 {
    let mut w = 0;
    if is_c1(c) {
        return 3;
    }
    if is_rare(c) {
        w += 2;
    }
    if ('\u{300}'..='\u{36F}').contains(&c)
        && (!prev.is_alphabetic()
            || (prev.is_ascii() && unicode_normalization::char::compose(prev, c).is_none()))
    {
        w += 2;
    }
    // A three-byte lead (à..ï) followed by two continuation characters: `â€™`, `âœ”`.
    if ('\u{E0}'..='\u{EF}').contains(&prev) && is_cp1252_cont(c) && is_cp1252_cont(next) {
        w += 3;
    }
    if is_cjk(c) && (script(prev) == Some(Script::Latin) || ('\u{300}'..='\u{36F}').contains(&prev))
    {
        w += 2;
    }
    if letterish(prev) {
        if is_strong_symbol(c) {
            w += if letterish(next) || is_strong_symbol(next) || is_weak_symbol(next) || is_c1(next)
            {
                3
            } else {
                1
            };
        } else if is_weak_symbol(c)
            && is_latin1_lead(prev)
            && (letterish(next) || is_strong_symbol(next) || is_weak_symbol(next) || is_c1(next))
        {
            w += 2;
        }
        if prev.is_lowercase() && c.is_uppercase() && !c.is_ascii() {
            w += 1;
        }
        if let (Some(a), Some(b)) = (script(prev), script(c)) {
            if a != b && c.is_alphabetic() && !prev.is_ascii() && !c.is_ascii() {
                w += 2;
            }
        }
    }
    if is_cjk(prev) && c.is_lowercase() && script(c) == Some(Script::Latin) {
        w += 2;
    }
    match c {
        'Ã' => {
            if is_cp1252_cont(next) && next != '\u{A0}' || is_c1(next) {
                w += 3;
            } else if next == '\u{A0}' {
                let after = rest.next().unwrap_or(' ');
                if !(prev.is_uppercase() && (after.is_uppercase() || after == ' ')) {
                    w += 3;
                }
            } else if next == ' ' && !prev.is_uppercase() {
                let after = rest.next().unwrap_or(' ');
                if after.is_lowercase() {
                    w += 2;
                }
            }
            if prev.is_lowercase() {
                w += 1;
            }
        }
        'Â' => {
            if is_strong_symbol(next) {
                w += 2;
            } else if next == '\u{A0}' {
                w += 1;
            }
        }
        // A continuation that is punctuation (`»`, `”`, `…`) only counts inside a word: a word
        // in capitals ending in Р or С before a closing quote (`«УДАР»`) is correct text.
        'Р' | 'С'
            if is_cp1251_cont(next)
                && (next.is_alphabetic() || rest.next().is_some_and(|a| a.is_alphabetic())) =>
        {
            w += 2;
        }
        _ => {}
    }
    w
}

#[cfg(test)]
mod weirdness_tests {
    use super::*;

    #[test]
    fn fast_scan_equals_the_plain_one() {
        let samples = [
            "",
            "a",
            "é",
            "Ã©",
            "donâ€™t",
            "plain ascii only",
            "Ð¡Ñ‚Ð¾Ð»Ñ‚ÐµÐ½Ð±ÐµÑ€Ð³",
            "РЎС‚РѕР»",
            "a “quoted” word — and an ellipsis…",
            "voilÃ\u{83} end",
            "ends with Ã",
            "Ã starts",
            "×‘×¨",
            "日本語のテキスト and ASCII",
            "emoji 😀 here ✓",
            "x\u{a0}y\u{ad}z",
        ];
        for s in samples {
            assert_eq!(weirdness(s), weirdness_by_chars(s), "{s:?}");
        }
        // Random mixes of ASCII runs of every length and mojibake-prone characters.
        let pool: Vec<char> = "aZ .,'\"Ã©â€™Ð¡Ñ‚РЎС‚“”—…é×😀日\u{a0}Â".chars().collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 60) as usize;
            for k in 0..len {
                let r = state.rotate_left(k as u32 * 7);
                if r.is_multiple_of(3) {
                    s.push(pool[(r >> 8) as usize % pool.len()]);
                } else {
                    s.push_str(&"ascii text ".repeat((r >> 16) as usize % 4));
                }
            }
            assert_eq!(weirdness(&s), weirdness_by_chars(&s), "{s:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> String {
        fix_segment(s).map_or_else(|| s.to_string(), |(t, _)| t)
    }

    #[test]
    fn windows_1252_layers() {
        assert_eq!(fix("donâ€™t"), "don’t");
        assert_eq!(
            fix("Iggy Pop (nÃƒÂ© Jim Osterberg)"),
            "Iggy Pop (né Jim Osterberg)"
        );
        assert_eq!(fix("Le cafÃ© est chaud."), "Le café est chaud.");
    }

    #[test]
    fn other_code_pages() {
        assert_eq!(fix("Ð¡Ñ‚Ð¾Ð»Ð¸Ñ†Ð°"), "Столица");
        assert_eq!(fix("РїСЂРёРІРµС‚ РјРёСЂ"), "привет мир");
        assert_eq!(fix("Î•Î»Î»Î·Î½Î¹ÎºÎ¬"), "Ελληνικά");
        assert_eq!(fix("g√¢teaux et r√©gime"), "gâteaux et régime");
        assert_eq!(fix("Å veices baÅ†Ä·ieri"), "Šveices baņķieri");
    }

    #[test]
    fn mixed_segment_repaired_piecewise() {
        assert_eq!(fix("l’Ã©valuation du barÃ¨me"), "l’évaluation du barème");
    }

    #[test]
    fn a_grave_with_lost_nbsp() {
        assert_eq!(fix("voilÃ le travail"), "voilà le travail");
        assert_eq!(fix("atenÃ§Ã£o Ã s crianÃ§as"), "atenção às crianças");
    }

    #[test]
    fn cesu8_emoji() {
        assert_eq!(fix("Hi guys í\u{a0}½í¸\u{8d}"), "Hi guys 😍");
    }

    #[test]
    fn capitals_before_closing_guillemet_untouched() {
        for s in [
            "а «УДАР» і ВО «Свобода» взагалі",
            "партія «СОЮЗ» і «ДНІПРОВСЬКИЙ ПРАПОР»",
            "«ЦСКА» — «ДИНАМО»",
        ] {
            assert_eq!(fix_segment(s), None, "{s}");
        }
        // while real windows-1251 mojibake of the same words is still repaired
        assert_eq!(fix("РЈРєСЂР°С—РЅР°"), "Україна");
    }

    #[test]
    fn clean_text_untouched() {
        for s in [
            "HUHLL Õ…",
            "C O N C L U S Ã O",
            "SELKÄ\u{a0}EDELLÄ\u{a0}MAAHAN",
            "Join ZZAJÉ’s list",
            "AHÅ™, the new sofa",
            "a radius of 10 Å—",
            "MISUTÂ\u{a0}AJIKKO",
            "ESSE CARA AI QUEM É¿",
            "Offering 5×£35 pin ups",
            "4288×…",
            "( o¬ô )",
            "├┤a┼┐a┼┐a┼┐a",
            "(-1/2)! = √π",
            "ПоздравЂаво",
            "SENSЕ - Oleg",
            "L’épisode 8",
            "NICIODATĂ™",
            "TRANSFORMATORIŲ™",
            "Ελληνικά «εισαγωγικά»",
            "Київ, Україна — СІЧЕНЬ",
            "日本語のテキスト (´・ω・`)",
            "SÃO PAULO — A ELEIÇÃO",
            "Crème brûlée, naïve café, Ørsted, Łódź",
        ] {
            assert_eq!(fix(s), s, "{s}");
        }
    }
}
