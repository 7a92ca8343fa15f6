//! Text side of dedup: normalised tokens, repeated lines inside one document, and the choice
//! of the lines whose shingles describe a document.
//!
//! Normalisation is deliberately blunt so that the noise of republished copies does not
//! change a token: case is folded, punctuation, quotes and spacing are ignored, apostrophes
//! inside words vanish (`can't` = `cant`, `world’s` = `worlds`) and separators inside
//! numbers are dropped (`1,000` = `1000`, `1.5` = `1,5`). A token is identified by the xxh3
//! hash of its lower-cased bytes (plain ASCII words hashed from a stack copy); a
//! document becomes one flat `Vec<u64>` of token hashes with a range per line, so nothing is
//! allocated per line.

use xxhash_rust::xxh3::xxh3_64;

/// Token hashes of a text, with the token range of every line (`\n`-separated).
#[derive(Debug, Default)]
pub struct Tokens {
    pub hashes: Vec<u64>,
    /// `(start, end)` into `hashes` for every line of the text, in order.
    pub lines: Vec<(u32, u32)>,
}

impl Tokens {
    pub fn line(&self, i: usize) -> &[u64] {
        let (a, b) = self.lines[i];
        &self.hashes[a as usize..b as usize]
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`')
}

/// Tokenise `text` line by line.
pub fn tokenize(text: &str) -> Tokens {
    let mut out = Tokens { hashes: Vec::with_capacity(text.len() / 5), lines: Vec::with_capacity(text.len() / 64 + 1) };
    let mut buf = Vec::with_capacity(64);
    for line in text.split('\n') {
        let start = out.hashes.len() as u32;
        tokenize_line(line, &mut buf, &mut out.hashes);
        out.lines.push((start, out.hashes.len() as u32));
    }
    out
}

/// Hash of a token given as lower-case bytes.
#[inline]
fn token_hash(t: &[u8]) -> u64 {
    xxh3_64(t)
}

/// [`token_hash`] of the lower-cased form of ASCII letters and digits, without touching `buf`
/// for the usual short word.
#[inline]
fn hash_ascii_lower(t: &[u8], buf: &mut Vec<u8>) -> u64 {
    let mut w = [0u8; 32];
    if t.len() <= w.len() {
        for (d, &c) in w.iter_mut().zip(t) {
            // `| 0x20` lower-cases an ASCII letter and leaves a digit as it is.
            *d = c | 0x20;
        }
        return xxh3_64(&w[..t.len()]);
    }
    buf.clear();
    buf.extend(t.iter().map(u8::to_ascii_lowercase));
    let h = xxh3_64(buf);
    buf.clear();
    h
}

/// Push the token hashes of one line onto `out` (`buf` is scratch space for the lower-cased
/// token being read; runs of ASCII letters and digits are copied in one go).
pub fn tokenize_line(line: &str, buf: &mut Vec<u8>, out: &mut Vec<u64>) {
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
                // Fast path: a whole token of ASCII letters and digits, hashed in place.
                let ends = match bytes.get(i) {
                    None => true,
                    Some(&c) => c < 0x80 && !matches!(c, b'\'' | b'`' | b',' | b'.'),
                };
                if buf.is_empty() && ends {
                    out.push(hash_ascii_lower(&bytes[start..i], buf));
                } else {
                    buf.extend(bytes[start..i].iter().map(u8::to_ascii_lowercase));
                }
                continue;
            }
            if !buf.is_empty() {
                let next_alnum = || match bytes.get(i + 1) {
                    Some(&c) if c < 0x80 => c.is_ascii_alphanumeric(),
                    Some(_) => line[i + 1..].chars().next().is_some_and(char::is_alphanumeric),
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
        let Some(c) = line[i..].chars().next() else { break };
        i += c.len_utf8();
        if c.is_alphanumeric() {
            let mut tmp = [0u8; 4];
            for l in c.to_lowercase() {
                buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
            }
            continue;
        }
        if !buf.is_empty() {
            if is_apostrophe(c) && line[i..].chars().next().is_some_and(|n| n.is_alphanumeric()) {
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

/// Does a line end like a sentence (so it is not a cut-off fragment)?
pub fn ends_sentence(line: &str) -> bool {
    line.trim_end().ends_with(['.', '!', '?', '"', '”', '»', '…', '。', '！', '？', ')'])
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
fn repeat_of(a: &[u64], b: &[u64], a_ends: bool, b_ends: bool, o: &IntraOptions, sa: &[u64], sb: &[u64]) -> Option<bool> {
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
    if short.len() >= 8 && short.len() as f64 >= 0.85 * long.len() as f64 && token_overlap(sa, sb) >= o.similarity {
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
    let (short, long, ms, ml) = if la <= lb { (la, lb, ma, mb) } else { (lb, la, mb, ma) };
    if short < o.min_words {
        return false;
    }
    let outside = (ms & !ml).count_ones() as f64;
    if outside == 0.0 && short as f64 >= o.containment * long as f64 {
        return true;
    }
    short >= 8 && short as f64 >= 0.85 * long as f64 && outside <= short as f64 - o.similarity * long as f64 + 1e-9
}

/// Decide the fate of every line: repeats of an earlier line (exact or near) are dropped;
/// when the repeat is the fuller one (e.g. the lead again behind a dateline, or with its
/// final period), its text takes the place of the first occurrence.
pub fn intra_fates(text: &str, toks: &Tokens, title: Option<&[u64]>, o: &IntraOptions) -> Vec<LineFate> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut fates = vec![LineFate::Keep; lines.len()];
    // Sorted tokens of every line, same ranges as `toks.lines` (for the typo test).
    let mut sorted = toks.hashes.clone();
    for &(a, b) in &toks.lines {
        sorted[a as usize..b as usize].sort_unstable();
    }
    // A 64-bit set of each line's tokens: most pairs of lines are told apart by it alone.
    let masks: Vec<u64> = toks.lines.iter().map(|&(a, b)| mask(&toks.hashes[a as usize..b as usize])).collect();
    let sorted_line = |i: usize| {
        let (a, b) = toks.lines[i];
        &sorted[a as usize..b as usize]
    };
    let title_sorted: Vec<u64> = title.map(|t| {
        let mut v = t.to_vec();
        v.sort_unstable();
        v
    }).unwrap_or_default();
    // Earlier kept units: (line index of the position, line index of the current text).
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut first_unit = true;
    for i in 0..lines.len() {
        let t = toks.line(i);
        if t.is_empty() {
            continue;
        }
        if first_unit {
            first_unit = false;
            if let Some(title) = title {
                if !title.is_empty() && (t == title || repeat_of(title, t, true, true, o, &title_sorted, sorted_line(i)).is_some()) {
                    fates[i] = LineFate::Drop;
                    continue;
                }
            }
        }
        if t.len() < o.min_words {
            continue;
        }
        let b_ends = ends_sentence(lines[i]);
        let mut verdict = None;
        for (k, &(pos, cur)) in kept.iter().enumerate() {
            let a = toks.line(cur);
            if !may_repeat(a.len(), t.len(), masks[cur], masks[i], o) {
                continue;
            }
            if let Some(fuller) = repeat_of(a, t, ends_sentence(lines[cur]), b_ends, o, sorted_line(cur), sorted_line(i)) {
                verdict = Some((k, pos, fuller));
                break;
            }
        }
        match verdict {
            None => kept.push((i, i)),
            Some((k, pos, fuller)) => {
                fates[i] = LineFate::Drop;
                if fuller {
                    fates[pos] = LineFate::ReplaceWith(i);
                    kept[k].1 = i;
                }
            }
        }
    }
    fates
}

/// Rebuild the text from the fates: dropped lines go, blank-line runs left behind collapse.
pub fn apply_fates(text: &str, fates: &[LineFate]) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = crate::document::TextBuilder::with_capacity(text.len());
    for (i, f) in fates.iter().enumerate() {
        match *f {
            LineFate::Keep => out.line(lines[i]),
            LineFate::Drop => {}
            LineFate::ReplaceWith(j) => out.line(lines[j]),
        }
    }
    out.finish()
}

/// A navigation or legal line: several menu separators, a run of capitalised words set
/// apart by wide spaces, or a copyright sign. Such lines never describe a story.
pub fn is_chrome_line(line: &str) -> bool {
    // One pass over the bytes: menu separators `|` `•` `·` `»` and " / ", runs of two
    // spaces (each counted without overlap), and the copyright sign.
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
                if i >= slash_from && b.get(i + 1) == Some(&b'/') && b.get(i + 2) == Some(&b' ') {
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
        // "Business  Opinion  Markets": every word capitalised.
        return line.split_whitespace().all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()));
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
pub fn content_lines(text: &str, toks: &Tokens, fates: Option<&[LineFate]>, min_words: usize) -> Vec<usize> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    let mut prev_content = false;
    for i in 0..lines.len() {
        let i = match fates.map(|f| f[i]) {
            Some(LineFate::Drop) => continue,
            Some(LineFate::ReplaceWith(j)) => j,
            _ => i,
        };
        let line = lines[i];
        let n = toks.line(i).len();
        // A hard-wrapped paragraph goes on, in lower case, on the next line.
        let wraps = || lines.get(i + 1).and_then(|l| l.trim_start().chars().next()).is_some_and(|c| c.is_lowercase());
        let is_content = if n >= min_words {
            !is_chrome_line(line) && (prev_content || n >= 2 * min_words || ends_sentence(line) || wraps())
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

    fn opts() -> IntraOptions {
        IntraOptions { min_words: 4, containment: 0.6, similarity: 0.9, title: true }
    }

    fn dedup(text: &str, title: Option<&str>) -> String {
        let toks = tokenize(text);
        let title_toks = title.map(|t| tokenize(t).hashes);
        let fates = intra_fates(text, &toks, title_toks.as_deref(), &opts());
        apply_fates(text, &fates)
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
    fn tokens_of_other_scripts() {
        let t = tokenize("Президент России заявил, что");
        assert_eq!(t.hashes.len(), 4);
        assert_eq!(tokenize("ПРЕЗИДЕНТ").hashes[0], tokenize("президент").hashes[0]);
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
        assert_eq!(dedup(text, None), "Alpha beta gamma delta epsilon zeta.\nSomething else in between here");
    }

    #[test]
    fn near_repeat_with_typo_dropped() {
        let text = "The council approved the new housing plan for the old harbour district on Tuesday.\n\nThe council aproved the new housing plan for the old harbour district on Tuesday.";
        assert_eq!(dedup(text, None), "The council approved the new housing plan for the old harbour district on Tuesday.");
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
        assert_eq!(dedup(text, Some("Storm hits coast")), "A storm hit the coast on Friday, cutting power to thousands of homes.");
        // Only the first paragraph, and only when it is the title.
        let text = "A storm hit the coast on Friday.\n\nStorm Hits Coast";
        assert_eq!(dedup(text, Some("Storm hits coast")), text);
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
