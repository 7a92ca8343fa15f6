//! `repair` stage: undo damage done to text by wrong decoding and by HTML, without touching
//! anything that is right.
//!
//! Fixers, in the order they run (each one counted per document under its name):
//! - `html-entity`: character references left in text (`&amp;`, `&#8217;`, `&eacute;`,
//!   double-escaped `&amp;amp;`); see [`entities`].
//! - `mojibake`: UTF-8 that was decoded as windows-1252, latin-1, windows-1250/1251/1257,
//!   ISO-8859-2, MacRoman or cp437, one or more times, repaired line by line (so one broken
//!   paragraph of a clean report is repaired alone); see [`mojibake`].
//! - `c1-control`: C1 control characters left over (bytes of windows-1252 punctuation read as
//!   latin-1: `parlé\x85` is `parlé…`); a C1 inside a word that is a MacRoman letter is read so.
//! - `control-char`: C0 controls other than tab, line feed and carriage return, DEL, the
//!   interlinear annotation and object replacement characters, deprecated format characters.
//! - `invisible`: zero-width space, word joiner, invisible operators, stray BOMs, and bidi
//!   controls in text without right-to-left script. ZWJ and ZWNJ stay (emoji, Indic, Persian).
//! - `nfc`: Unicode normalisation form C.
//!
//! NBSP, soft hyphens, quote style, ligatures and full-width forms are left to `typography`.
//!
//! ```toml
//! [stages.repair]
//! mojibake = true   # repair text decoded with the wrong code page
//! entities = true   # decode HTML character references
//! controls = true   # repair C1 controls, drop other control characters
//! invisible = true  # drop zero-width and (outside RTL text) bidi control characters
//! nfc = true        # normalise to NFC
//! ```

use std::borrow::Cow;

use crate::document::{Document, Reject};
use crate::error::ConfigError;
use crate::stages::{BatchState, DocStage};

pub mod codepages;
pub mod entities;
pub mod mojibake;

/// `[stages.repair]` options.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Repair mojibake (UTF-8 decoded with a wrong single-byte code page, one or more times).
    pub mojibake: bool,
    /// Decode HTML character references (`&amp;`, `&#8217;`, `&eacute;`).
    pub entities: bool,
    /// Repair C1 control characters and drop other control characters.
    pub controls: bool,
    /// Drop zero-width characters, stray BOMs and (outside right-to-left text) bidi controls.
    pub invisible: bool,
    /// Normalise to Unicode NFC.
    pub nfc: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mojibake: true,
            entities: true,
            controls: true,
            invisible: true,
            nfc: true,
        }
    }
}

/// The options of the pure [`repair`] function (the validated form of [`Config`]).
pub type Options = Config;

impl Config {
    pub fn build(&self) -> Result<Stage, ConfigError> {
        Ok(Stage { opts: self.clone() })
    }
}

/// What [`repair`] did, per fixer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairCounts {
    pub mojibake: u64,
    pub html_entity: u64,
    pub c1_control: u64,
    pub control_char: u64,
    pub invisible: u64,
    pub nfc: u64,
}

impl RepairCounts {
    /// `(rule name, count)` pairs, as logged.
    pub fn named(&self) -> [(&'static str, u64); 6] {
        [
            ("mojibake", self.mojibake),
            ("html-entity", self.html_entity),
            ("c1-control", self.c1_control),
            ("control-char", self.control_char),
            ("invisible", self.invisible),
            ("nfc", self.nfc),
        ]
    }
}

pub struct Stage {
    opts: Options,
}

impl DocStage for Stage {
    fn name(&self) -> &'static str {
        "repair"
    }

    fn apply(&self, doc: &mut Document, _batch: Option<&BatchState>) -> Result<(), Reject> {
        let (text, mut counts) = repair(&doc.text, &self.opts);
        if let Cow::Owned(t) = text {
            doc.text = t;
        }
        if let Some(title) = &doc.title {
            let (t, c) = repair(title, &self.opts);
            if let Cow::Owned(t) = t {
                doc.title = Some(t);
            }
            counts = RepairCounts {
                mojibake: counts.mojibake + c.mojibake,
                html_entity: counts.html_entity + c.html_entity,
                c1_control: counts.c1_control + c.c1_control,
                control_char: counts.control_char + c.control_char,
                invisible: counts.invisible + c.invisible,
                nfc: counts.nfc + c.nfc,
            };
        }
        for (rule, n) in counts.named() {
            doc.log.count("repair", rule, n);
        }
        Ok(())
    }
}

/// Repair `text`. Clean text comes back borrowed, untouched.
pub fn repair<'a>(text: &'a str, opts: &Options) -> (Cow<'a, str>, RepairCounts) {
    let mut counts = RepairCounts::default();
    let bytes = text.as_bytes();
    // Fast path: plain ASCII prose without `&` or controls has nothing to repair.
    let special = first_special(bytes, 0);
    let ascii = bytes.is_ascii();
    if ascii && special.is_none() && memchr::memchr(b'&', bytes).is_none() {
        return (Cow::Borrowed(text), counts);
    }
    let mut cur: Cow<'a, str> = Cow::Borrowed(text);
    if opts.entities && memchr::memchr(b'&', bytes).is_some() {
        if let Some((t, n)) = entities::unescape(&cur) {
            counts.html_entity += n;
            cur = Cow::Owned(t);
        }
    }
    // `special` stays valid for `text` as long as no fixer replaced it.
    let mut special = Some(special);
    if opts.mojibake && !(matches!(cur, Cow::Borrowed(_)) && ascii) && !cur.is_ascii() {
        if let Some((t, n)) = fix_mojibake_lines(&cur) {
            counts.mojibake += n;
            cur = Cow::Owned(t);
            special = None;
        }
    }
    if matches!(cur, Cow::Owned(_)) {
        special = None;
    }
    if opts.controls || opts.invisible {
        let first = match special {
            Some(s) => s,
            None => first_special(cur.as_bytes(), 0),
        };
        if let Some(t) = first.and_then(|f| clean_chars(&cur, f, opts, &mut counts)) {
            cur = Cow::Owned(t);
        }
    }
    if opts.nfc && !cur.is_ascii() && !nfc_quick_yes(&cur) {
        // CJK compatibility ideographs are distinct characters to their writers (names,
        // variants): NFC would replace them, so they are kept and the runs between them
        // normalised.
        let n = nfc_keeping_cjk_compat(&cur);
        if n != *cur {
            counts.nfc += 1;
            cur = Cow::Owned(n);
        }
    }
    (cur, counts)
}

fn is_cjk_compat(c: char) -> bool {
    matches!(c as u32, 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// NFC, except that CJK compatibility ideographs stay as they are.
fn nfc_keeping_cjk_compat(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, c) in text.char_indices().filter(|&(_, c)| is_cjk_compat(c)) {
        out.extend(text[last..i].nfc());
        out.push(c);
        last = i + c.len_utf8();
    }
    out.extend(text[last..].nfc());
    out
}

/// Mojibake repair, one line (paragraph or block) at a time. Only lines holding a non-ASCII
/// byte can be mojibake: the scan jumps from one such byte to the next, never splitting
/// the ASCII lines in between.
fn fix_mojibake_lines(text: &str) -> Option<(String, u64)> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut total = 0;
    let mut pos = 0;
    while let Some(p) = mojibake::next_non_ascii(b, pos) {
        // `start` and `end` sit next to a '\n' (or at the ends): char boundaries.
        let start = memchr::memrchr(b'\n', &b[..p]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i);
        if let Some((fixed, n)) = mojibake::fix_segment(&text[start..end]) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(&fixed);
            copied = end;
            total += n;
        }
        pos = end;
    }
    if let Some(o) = out.as_mut() {
        o.push_str(&text[copied..]);
    }
    let mut out = out?;
    // A document with several broken segments is known to have been mis-decoded: there a
    // segment with a single broken word (weak evidence on its own) is repaired too.
    if total >= 2 {
        let mut second = String::with_capacity(out.len());
        for (i, line) in crate::document::split_lines(&out).enumerate() {
            if i > 0 {
                second.push('\n');
            }
            match mojibake::fix_segment_with_gain(line, 1) {
                Some((fixed, n)) => {
                    second.push_str(&fixed);
                    total += n;
                }
                None => second.push_str(line),
            }
        }
        out = second;
    }
    Some((out, total))
}

/// What to do with one character in [`clean_chars`].
enum Action {
    Keep,
    Drop(Counter),
    Replace(char, Counter),
}

#[derive(Clone, Copy)]
enum Counter {
    C1,
    Control,
    Invisible,
}

fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character [`clean_chars`] looks at.
#[inline]
fn needs_cleaning(c: char) -> bool {
    let u = c as u32;
    u < 0x20 && !matches!(c, '\n' | '\r' | '\t')
        || (0x7F..=0x9F).contains(&u)
        || matches!(u, 0x200B | 0x200E | 0x200F | 0x061C | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFC)
}

/// Bytes that start a character [`needs_cleaning`] may accept: C0 controls other than tab,
/// LF and CR, DEL, and the UTF-8 lead bytes of U+0080..U+009F (C2), U+061C (D8),
/// U+200B..U+206F (E2) and U+FEFF/U+FFF9..U+FFFC (EF).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = !matches!(b as u8, b'\n' | b'\r' | b'\t');
        b += 1;
    }
    t[0x7F] = true;
    t[0xC2] = true;
    t[0xD8] = true;
    t[0xE2] = true;
    t[0xEF] = true;
    t
};

/// Byte offset of the first character at or after `from` (a char boundary) that
/// [`needs_cleaning`] accepts. Scans bytes in blocks with a table instead of decoding
/// characters: the clean-text fast path of every non-ASCII document.
fn first_special(b: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut i = from;
    while i < b.len() {
        if i + BLOCK <= b.len() {
            // Printable ASCII, tab, LF and CR pass; written as comparisons so it compiles to SIMD.
            let mut acc = false;
            for &x in &b[i..i + BLOCK] {
                acc |= ((x < 0x20) & (x != b'\n') & (x != b'\t') & (x != b'\r')) | (x >= 0x7F);
            }
            if !acc {
                i += BLOCK;
                continue;
            }
        }
        let end = (i + BLOCK).min(b.len());
        while i < end {
            if SPECIAL[b[i] as usize] {
                // A table byte is ASCII or a UTF-8 lead byte, so `i` is a char boundary.
                let c = decode_at(b, i);
                if needs_cleaning(c) {
                    return Some(i);
                }
            }
            i += 1;
        }
    }
    None
}

/// The character starting at byte `i` of valid UTF-8 (`i` on a char boundary).
#[inline]
fn decode_at(b: &[u8], i: usize) -> char {
    let rest = &b[i..b.len().min(i + 4)];
    let n = match rest[0] {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    };
    std::str::from_utf8(&rest[..n.min(rest.len())])
        .ok()
        .and_then(|s| s.chars().next())
        .unwrap_or('\0')
}

/// `is_nfc_quick(text) == Yes`, looking only at characters from U+0300 up: the ones below
/// are starters that NFC keeps in any context, so runs of them are skipped as bytes
/// (a lead byte >= 0xCC starts a character >= U+0300).
fn nfc_quick_yes(text: &str) -> bool {
    use unicode_normalization::char::canonical_combining_class;
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    let b = text.as_bytes();
    let mut last_cc = 0u8;
    let mut prev_end = usize::MAX;
    let mut i = 0;
    while i < b.len() {
        if i + 32 <= b.len() && b[i..i + 32].iter().fold(0u8, |a, &x| a.max(x)) < 0xCC {
            i += 32;
            continue;
        }
        if b[i] < 0xCC {
            i += 1;
            continue;
        }
        if i != prev_end {
            last_cc = 0;
        }
        let Some(c) = text.get(i..).and_then(|s| s.chars().next()) else {
            return false;
        };
        let cc = canonical_combining_class(c);
        if last_cc > cc && cc != 0 {
            return false;
        }
        if is_nfc_quick(std::iter::once(c)) != IsNormalized::Yes {
            return false;
        }
        last_cc = cc;
        i += c.len_utf8();
        prev_end = i;
    }
    true
}

/// C1 controls, other controls and invisible characters, in one pass from `first`, the
/// first character that needs cleaning (see [`first_special`]).
fn clean_chars(
    text: &str,
    first: usize,
    opts: &Options,
    counts: &mut RepairCounts,
) -> Option<String> {
    let keep_bidi = text.chars().any(is_rtl);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut changed = false;
    let mut prev = text[..first].chars().next_back().unwrap_or(' ');
    let mut it = text[first..].chars().peekable();
    while let Some(c) = it.next() {
        let u = c as u32;
        let action = if (0x80..=0x9F).contains(&u) {
            if opts.controls {
                let rest: String = it.clone().take(4).collect();
                c1_replacement(prev, c, &rest)
                    .map_or(Action::Keep, |r| Action::Replace(r, Counter::C1))
            } else {
                Action::Keep
            }
        } else if u < 0x20 && !matches!(c, '\n' | '\r' | '\t')
            || u == 0x7F
            || matches!(u, 0xFFF9..=0xFFFC | 0x206A..=0x206F)
        {
            if !opts.controls {
                Action::Keep
            } else if matches!(c, '\u{0B}' | '\u{0C}') {
                Action::Replace('\n', Counter::Control)
            } else {
                Action::Drop(Counter::Control)
            }
        } else if opts.invisible
            && (matches!(u, 0x200B | 0x2060..=0x2064 | 0xFEFF) || is_bidi_control(c) && !keep_bidi)
        {
            Action::Drop(Counter::Invisible)
        } else {
            Action::Keep
        };
        let bump = |k: Counter, counts: &mut RepairCounts| match k {
            Counter::C1 => counts.c1_control += 1,
            Counter::Control => counts.control_char += 1,
            Counter::Invisible => counts.invisible += 1,
        };
        match action {
            Action::Keep => {
                out.push(c);
                prev = c;
            }
            Action::Drop(k) => {
                bump(k, counts);
                changed = true;
            }
            Action::Replace(r, k) => {
                bump(k, counts);
                changed = true;
                out.push(r);
                prev = r;
            }
        }
    }
    changed.then_some(out)
}

/// What a left-over C1 control stood for: windows-1252 punctuation, except inside a word,
/// where windows-1252 has no letter but MacRoman does (`tur\x92stico` is `turístico`, while
/// `don\x92t` is `don’t`).
fn c1_replacement(prev: char, c: char, rest: &str) -> Option<char> {
    let b = c as u32 as u8;
    let w = codepages::WINDOWS_1252.decode(b);
    let next = rest.chars().next().unwrap_or(' ');
    if prev.is_lowercase() && next.is_lowercase() {
        let mac = codepages::MACINTOSH.decode(b);
        let contraction = w == '’' && {
            let word: String = rest.chars().take_while(|c| c.is_alphabetic()).collect();
            matches!(word.as_str(), "s" | "t" | "d" | "m" | "ll" | "re" | "ve")
        };
        if mac.is_alphabetic() && !w.is_alphabetic() && !contraction {
            return Some(mac);
        }
    }
    (w != c).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> String {
        repair(s, &Options::default()).0.into_owned()
    }

    #[test]
    fn fast_path_borrows() {
        let (t, c) = repair(
            "Plain ASCII news text.\n\nSecond paragraph.",
            &Options::default(),
        );
        assert!(matches!(t, Cow::Borrowed(_)));
        assert_eq!(c, RepairCounts::default());
        let clean = "Curly “quotes” – dashes… and Ελληνικά, Київ, 日本語 😀";
        assert!(matches!(
            repair(clean, &Options::default()).0,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn byte_scans_agree_with_char_scans() {
        use unicode_normalization::{is_nfc_quick, IsNormalized};
        let pieces = [
            "plain ", "\n", "\t", "\r", "\u{1}", "\u{7f}", "\u{85}", "\u{a0}", "é", "e\u{301}",
            "\u{301}", "\u{316}", "“", "—", "\u{200b}", "\u{200d}", "\u{200e}", "\u{202c}",
            "\u{2060}", "\u{2065}", "\u{206f}", "\u{61c}", "\u{60c}", "\u{feff}", "\u{fff9}",
            "\u{fffd}", "日本", "\u{f981}", "Київ", "😀", "\u{340}", "ǅ", "ˇ",
        ];
        // Deterministic pseudo-random strings of the pieces, long enough to use the blocks.
        let mut x = 12345u64;
        for _ in 0..3000 {
            let mut t = String::new();
            let len = (x % 40) as usize;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = (x >> 33) as usize % (pieces.len() + 6);
                t.push_str(if k < pieces.len() {
                    pieces[k]
                } else {
                    "abcdefghij"
                });
            }
            let want = t
                .char_indices()
                .find(|&(_, c)| needs_cleaning(c))
                .map(|p| p.0);
            assert_eq!(first_special(t.as_bytes(), 0), want, "{t:?}");
            assert_eq!(
                nfc_quick_yes(&t),
                is_nfc_quick(t.chars()) == IsNormalized::Yes,
                "{t:?}"
            );
        }
    }

    #[test]
    fn entities_then_mojibake() {
        assert_eq!(fix("10Î&frac14;s"), "10μs");
        assert_eq!(fix("Tom &amp; Jerry"), "Tom & Jerry");
        let (_, c) = repair("a &amp; b &lt; c", &Options::default());
        assert_eq!(c.html_entity, 2);
    }

    #[test]
    fn c1_controls() {
        assert_eq!(fix("parlé\u{85} Tu sais"), "parlé… Tu sais");
        assert_eq!(fix("\u{84}Handwerk\u{93}: Von"), "„Handwerk“: Von");
        assert_eq!(fix("don\u{92}t stop"), "don’t stop");
        assert_eq!(
            fix("barco tur\u{92}stico en Coatl\u{87}n"),
            "barco turístico en Coatlán"
        );
        assert_eq!(fix("broken\u{81}"), "broken\u{81}");
    }

    #[test]
    fn controls_and_invisibles() {
        assert_eq!(
            fix("\u{feff}Sometimes, \u{fffc}bad ideas \u{7f}\u{fffa}like these characters\u{fffb} \u{206a}get standardized.\r\n"),
            "Sometimes, bad ideas like these characters get standardized.\r\n"
        );
        assert_eq!(
            fix("zero\u{200b}width\u{2060}joiner\u{200e}"),
            "zerowidthjoiner"
        );
        assert_eq!(fix("a\u{0}b\u{1b}c\td"), "abc\td");
        // ZWJ emoji, ZWNJ in Persian, RLM in Hebrew text stay.
        for s in ["👩\u{200d}💻 coder", "می\u{200c}خواهم", "שלום\u{200f} עולם"] {
            assert_eq!(fix(s), s);
        }
        let (_, c) = repair("a\u{200b}b\u{1}c", &Options::default());
        assert_eq!((c.invisible, c.control_char), (1, 1));
    }

    #[test]
    fn nbsp_and_soft_hyphen_stay() {
        let s = "10\u{a0}km, Donau\u{ad}dampf\u{ad}schiff, 5\u{a0}€";
        assert_eq!(fix(s), s);
    }

    #[test]
    fn nfc() {
        assert_eq!(fix("cafe\u{301}"), "café");
        // CJK compatibility ideographs are not unified by repair.
        assert_eq!(fix("男\u{F981} cafe\u{301}"), "男\u{F981} café");
    }

    #[test]
    fn one_broken_paragraph_in_a_clean_report() {
        let text = "Le ministre a parlé à Paris.\n\nIl a dit : Â« la rÃ©forme est nÃ©cessaire Â».\n\nFin de l’article — “merci”.";
        assert_eq!(
            fix(text),
            "Le ministre a parlé à Paris.\n\nIl a dit : « la réforme est nécessaire ».\n\nFin de l’article — “merci”."
        );
    }

    #[test]
    fn options_turn_fixers_off() {
        let opts = Options {
            entities: false,
            ..Options::default()
        };
        assert_eq!(repair("a &amp; b", &opts).0, "a &amp; b");
        let opts = Options {
            mojibake: false,
            ..Options::default()
        };
        assert_eq!(repair("cafÃ©", &opts).0, "cafÃ©");
    }

    #[test]
    fn config_rejects_unknown_keys() {
        assert!(toml::from_str::<Config>("mojibake = false").is_ok());
        assert!(toml::from_str::<Config>("mojibak = false").is_err());
    }
}
