//! Cheap necessary conditions in front of a regex ([`GatedRegex`]).
//!
//! Why: the rule packs and the field detectors try some 30 regexes on most lines, and most
//! lines match none of them. A `Regex::is_match` call costs 100-200 ns even when the lazy DFA
//! dies on the first byte (cache pool, search setup), and a few patterns (breadcrumbs) scan
//! whole lines. A gate derived from the pattern itself rejects almost every line for a few
//! nanoseconds, and never rejects a line the regex would match:
//!
//! * **length**: a haystack shorter than the pattern's shortest match;
//! * **first byte**: for a pattern anchored at the start (`^`) that cannot match the empty
//!   string, every match starts at byte 0 with one of the bytes that can begin it;
//! * **last byte**: the same at the end for a pattern anchored with `$`;
//! * **required literal**: a set of strings one of which every match contains (e.g. one of
//!   the separators of a breadcrumb), looked up with a multi-pattern searcher.
//!
//! The byte sets are computed from the parsed pattern (`regex-syntax`, the parser `regex`
//! uses, with the same defaults), over-approximated where exactness would be costly (a
//! Unicode range contributes every UTF-8 lead byte between those of its ends): a gate may let
//! a line through that the regex then rejects, never the other way round. A pattern the
//! analysis cannot use gets a gate that lets everything through.

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }

    fn insert_range(&mut self, a: u8, b: u8) {
        for x in a..=b {
            self.insert(x);
        }
    }

    fn union(&mut self, o: &ByteSet) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a |= b;
        }
    }

    #[inline]
    fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
}

/// First byte of the UTF-8 encoding of `c`.
fn lead_byte(c: char) -> u8 {
    let mut b = [0u8; 4];
    c.encode_utf8(&mut b);
    b[0]
}

/// The bytes a non-empty match of `h` can start with, and whether `h` can match the empty
/// string. UTF-8 lead bytes grow with the code point, so a range of characters starts with
/// a byte between the lead bytes of its ends.
fn first_bytes(h: &Hir) -> (ByteSet, bool) {
    let mut s = ByteSet::default();
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (s, true),
        HirKind::Literal(l) => match l.0.first() {
            Some(&b) => {
                s.insert(b);
                (s, false)
            }
            None => (s, true),
        },
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                s.insert_range(lead_byte(r.start()), lead_byte(r.end()));
            }
            (s, false)
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                s.insert_range(r.start(), r.end());
            }
            (s, false)
        }
        HirKind::Repetition(r) => {
            let (a, n) = first_bytes(&r.sub);
            (a, n || r.min == 0)
        }
        HirKind::Capture(c) => first_bytes(&c.sub),
        HirKind::Concat(v) => {
            for x in v {
                let (a, n) = first_bytes(x);
                s.union(&a);
                if !n {
                    return (s, false);
                }
            }
            (s, true)
        }
        HirKind::Alternation(v) => {
            let mut nullable = false;
            for x in v {
                let (a, n) = first_bytes(x);
                s.union(&a);
                nullable |= n;
            }
            (s, nullable)
        }
    }
}

/// The bytes a non-empty match of `h` can end with, and whether `h` can match the empty
/// string. A character beyond ASCII ends with a continuation byte (0x80..=0xBF).
fn last_bytes(h: &Hir) -> (ByteSet, bool) {
    let mut s = ByteSet::default();
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (s, true),
        HirKind::Literal(l) => match l.0.last() {
            Some(&b) => {
                s.insert(b);
                (s, false)
            }
            None => (s, true),
        },
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                let (a, b) = (r.start() as u32, r.end() as u32);
                if a < 0x80 {
                    s.insert_range(a as u8, b.min(0x7f) as u8);
                }
                if b >= 0x80 {
                    s.insert_range(0x80, 0xbf);
                }
            }
            (s, false)
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                s.insert_range(r.start(), r.end());
            }
            (s, false)
        }
        HirKind::Repetition(r) => {
            let (a, n) = last_bytes(&r.sub);
            (a, n || r.min == 0)
        }
        HirKind::Capture(c) => last_bytes(&c.sub),
        HirKind::Concat(v) => {
            for x in v.iter().rev() {
                let (a, n) = last_bytes(x);
                s.union(&a);
                if !n {
                    return (s, false);
                }
            }
            (s, true)
        }
        HirKind::Alternation(v) => {
            let mut nullable = false;
            for x in v {
                let (a, n) = last_bytes(x);
                s.union(&a);
                nullable |= n;
            }
            (s, nullable)
        }
    }
}

/// Classes of at most this many characters are expanded into literals.
const MAX_CLASS_CHARS: u32 = 8;
/// A required-literal set larger than this is not used.
const MAX_REQUIRED: usize = 32;

/// Strings of which every match of `h` contains at least one (`None`: no such set found).
fn required(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) if !l.0.is_empty() => Some(vec![l.0.to_vec()]),
        HirKind::Class(Class::Unicode(c)) => {
            let n: u32 = c.ranges().iter().map(|r| r.end() as u32 - r.start() as u32 + 1).sum();
            if n == 0 || n > MAX_CLASS_CHARS {
                return None;
            }
            let mut out = Vec::new();
            for r in c.ranges() {
                for cp in r.start() as u32..=r.end() as u32 {
                    let ch = char::from_u32(cp)?;
                    out.push(ch.to_string().into_bytes());
                }
            }
            Some(out)
        }
        HirKind::Class(Class::Bytes(c)) => {
            let n: u32 = c.ranges().iter().map(|r| r.end() as u32 - r.start() as u32 + 1).sum();
            if n == 0 || n > MAX_CLASS_CHARS {
                return None;
            }
            Some(c.ranges().iter().flat_map(|r| (r.start()..=r.end()).map(|b| vec![b])).collect())
        }
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Concat(v) => v.iter().filter_map(required).min_by_key(|s| cost(s)),
        HirKind::Alternation(v) => {
            let mut out: Vec<Vec<u8>> = Vec::new();
            for x in v {
                for l in required(x)? {
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
            }
            (out.len() <= MAX_REQUIRED).then_some(out)
        }
        _ => None,
    }
}

/// How often a line contains one of `set`, roughly (lower is more selective): longer
/// literals are rare, one common byte (a letter, a digit, a space, `.` or `,`) is in
/// almost every line.
fn cost(set: &[Vec<u8>]) -> u32 {
    set.iter()
        .map(|l| match l.as_slice() {
            [b] if b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b',') => 30,
            [b] if b.is_ascii() => 8,
            [_] | [_, _] => 4,
            _ => 1,
        })
        .sum()
}

/// A required-literal set is used only when at most this costly.
const MAX_COST: u32 = 60;

/// Necessary conditions for a match of one regex.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    min_len: usize,
    first: Option<ByteSet>,
    last: Option<ByteSet>,
    required: Option<AhoCorasick>,
}

impl Gate {
    /// The gate of `pattern` (as `Regex::new` would parse it); a pattern that does not
    /// parse gets the open gate.
    pub fn new(pattern: &str) -> Gate {
        match regex_syntax::ParserBuilder::new().build().parse(pattern) {
            Ok(h) => Gate::of(&h),
            Err(_) => Gate::default(),
        }
    }

    fn of(h: &Hir) -> Gate {
        let p = h.properties();
        let mut g = Gate { min_len: p.minimum_len().unwrap_or(0), ..Gate::default() };
        if p.look_set_prefix().contains(Look::Start) {
            let (s, nullable) = first_bytes(h);
            if !nullable {
                g.first = Some(s);
            }
        }
        if p.look_set_suffix().contains(Look::End) {
            let (s, nullable) = last_bytes(h);
            if !nullable {
                g.last = Some(s);
            }
        }
        if let Some(set) = required(h).filter(|s| cost(s) <= MAX_COST) {
            g.required = AhoCorasick::new(&set).ok();
        }
        g
    }

    /// False only if the regex cannot match `hay`.
    #[inline]
    pub fn may_match(&self, hay: &str) -> bool {
        let b = hay.as_bytes();
        if b.len() < self.min_len {
            return false;
        }
        if let Some(f) = &self.first {
            match b.first() {
                Some(&x) if f.contains(x) => {}
                _ => return false,
            }
        }
        if let Some(l) = &self.last {
            match b.last() {
                Some(&x) if l.contains(x) => {}
                _ => return false,
            }
        }
        if let Some(ac) = &self.required {
            if !ac.is_match(hay) {
                return false;
            }
        }
        true
    }
}

/// A regex behind its [`Gate`].
#[derive(Debug, Clone)]
pub struct GatedRegex {
    re: Regex,
    gate: Gate,
}

impl GatedRegex {
    pub fn new(pattern: &str) -> Result<GatedRegex, regex::Error> {
        let re = Regex::new(pattern)?;
        Ok(GatedRegex { re, gate: Gate::new(pattern) })
    }

    #[inline]
    pub fn is_match(&self, hay: &str) -> bool {
        self.gate.may_match(hay) && self.re.is_match(hay)
    }

    #[inline]
    pub fn captures<'h>(&self, hay: &'h str) -> Option<Captures<'h>> {
        if self.gate.may_match(hay) {
            self.re.captures(hay)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_of_simple_patterns() {
        let g = Gate::new(r"(?i)^ad\d+$");
        let f = g.first.unwrap();
        assert!(f.contains(b'a') && f.contains(b'A') && !f.contains(b'b'));
        let l = g.last.unwrap();
        assert!(l.contains(b'7') && l.contains(0x80) && !l.contains(b'x'));
        assert_eq!(g.min_len, 3);
        // can match the empty string: no byte gate
        assert!(Gate::new(r"^a*$").first.is_none());
        // not anchored: no byte gate, a required literal instead
        let g = Gate::new(r"\w+ / \w+");
        assert!(g.first.is_none() && g.last.is_none() && g.required.is_some());
        assert!(g.may_match("a / b") && !g.may_match("a b"));
        // (?m) anchors are line anchors: no gate from them
        assert!(Gate::new(r"(?m)^x").first.is_none());
        assert!(Gate::new("(").may_match(""));
    }

    /// A gate never rejects what its regex matches: every built-in rule and field regex, on
    /// random lines over an alphabet of the bytes the patterns care about, and on the lines
    /// the rule tests use.
    pub(crate) fn check_gate(pattern: &str, hays: &[String]) {
        let re = Regex::new(pattern).unwrap();
        let g = Gate::new(pattern);
        for h in hays {
            if re.is_match(h) {
                assert!(g.may_match(h), "gate of {pattern:?} rejects {h:?}");
            }
        }
    }

    pub(crate) fn sample_hays() -> Vec<String> {
        let mut v: Vec<String> = crate::stages::boilerplate::lang::tests::random_texts(3000);
        let pieces = [
            "Advertisement", "- Ad -", "ADVERT", "Facebook", " Twitter | Email", "jane says:", "12 comments", "34 responses to ", "(3 replies)",
            "RU UA EN", "English | Deutsch", "Home > World > Europe", " » ", "you are here:", "ugc_banner", "main img", "648x415", "1200×800 a",
            "photo.jpg", "IMG-1.png!", "/ AFP", "(Reuters)", "Photo: x", "(AP Photo/Jane Doe)", ". Photograph:(Reuters)", "Watch: A b",
            "play video", "Jane Doe is a writer", "Max Muster ist Redakteur", "Иван — журналист", "5 min read", "Reading time: 3",
            "By Jane Doe", "Автор: Иван", "Jane Doe, AP", "LONDON (Reuters) - The", "12.03.2021", "2021-03-12", " ", "\u{a0}", "’", "K", "\u{212A}",
            "ſ", "İ", ":", "é", "日本語", "x", "/", "|", "—", "–", "-", "(", ")", "[", "]", "1", "22", "a", "Z", ".", "!",
        ];
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for _ in 0..20000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x % 6 + 1;
            for k in 0..n {
                let r = x.rotate_left(k as u32 * 9);
                s.push_str(pieces[(r % pieces.len() as u64) as usize]);
                if r & 64 != 0 {
                    s.push(' ');
                }
            }
            v.push(s.trim().to_string());
        }
        v
    }

    #[test]
    fn gates_never_reject_a_match_of_the_builtin_patterns() {
        let hays = sample_hays();
        let specs = crate::stages::boilerplate::rules::builtin_rules().unwrap();
        let mut n = 0;
        for s in &specs {
            for p in &s.regex {
                check_gate(p, &hays);
                n += 1;
            }
        }
        assert!(n >= 20);
    }
}
