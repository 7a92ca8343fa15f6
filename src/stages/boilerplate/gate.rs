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
//! * **last byte**: the same at the end for a pattern anchored with `$`; and as every
//!   character beyond ASCII ends with a continuation byte, for a line that ends beyond ASCII
//!   (a closing quote, a Cyrillic letter) the **last character** against the characters a
//!   match can end with;
//! * **body bytes**: for a pattern anchored at both ends (`^…$`) the match is the whole
//!   haystack, so every byte of it (after the first character, when the pattern starts with
//!   a one-character class such as `\S`) must be one the rest of the pattern can produce: a
//!   breadcrumb pattern built of `[^.!?]` runs cannot match a line with a full stop after its
//!   first character, whatever the lazy DFA would otherwise explore first;
//! * **required literal**: a set of strings one of which every match contains (e.g. one of
//!   the separators of a breadcrumb, or the words a caption credit must end in), looked up
//!   with a multi-pattern searcher, ASCII case-insensitively (a superset of the exact
//!   literals). They are searched after the byte gates, whenever the set is selective
//!   enough (a rough cost of how common its literals are): the search costs a few tens of
//!   nanoseconds, while even an anchored regex that fails within the first words costs a
//!   hundred or more (an author-bio pattern, `^(?:\p{Lu}\S+\s){1,3}(?:is|was)…writer`, on
//!   every capitalised line).
//!
//! The byte sets are computed from the parsed pattern (`regex-syntax`, the parser `regex`
//! uses, with the same defaults), over-approximated where exactness would be costly (a
//! Unicode range contributes every UTF-8 lead byte between those of its ends): a gate may let
//! a line through that the regex then rejects, never the other way round. A pattern the
//! analysis cannot use gets a gate that lets everything through.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteSet([u64; 4]);

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
    pub fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
}

/// First byte of the UTF-8 encoding of `c`.
fn lead_byte(c: char) -> u8 {
    let mut b = [0u8; 4];
    c.encode_utf8(&mut b);
    b[0]
}

/// Which end of a match [`edge_bytes`] looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edge {
    First,
    Last,
}

/// The bytes a non-empty match of `h` can start with.
fn first_bytes(h: &Hir) -> (ByteSet, bool) {
    edge_bytes(h, Edge::First)
}

/// The bytes a non-empty match of `h` can end with.
fn last_bytes(h: &Hir) -> (ByteSet, bool) {
    edge_bytes(h, Edge::Last)
}

/// The bytes a non-empty match of `h` can start (or end) with, and whether `h` can match the
/// empty string. UTF-8 lead bytes grow with the code point, so a range of characters starts
/// with a byte between the lead bytes of its ends; a character beyond ASCII ends with a
/// continuation byte (0x80..=0xBF).
fn edge_bytes(h: &Hir, edge: Edge) -> (ByteSet, bool) {
    let mut s = ByteSet::default();
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (s, true),
        HirKind::Literal(l) => match if edge == Edge::First {
            l.0.first()
        } else {
            l.0.last()
        } {
            Some(&b) => {
                s.insert(b);
                (s, false)
            }
            None => (s, true),
        },
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                if edge == Edge::First {
                    s.insert_range(lead_byte(r.start()), lead_byte(r.end()));
                    continue;
                }
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
            let (a, n) = edge_bytes(&r.sub, edge);
            (a, n || r.min == 0)
        }
        HirKind::Capture(c) => edge_bytes(&c.sub, edge),
        HirKind::Concat(v) => {
            let parts: Box<dyn Iterator<Item = &Hir>> = if edge == Edge::First {
                Box::new(v.iter())
            } else {
                Box::new(v.iter().rev())
            };
            for x in parts {
                let (a, n) = edge_bytes(x, edge);
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
                let (a, n) = edge_bytes(x, edge);
                s.union(&a);
                nullable |= n;
            }
            (s, nullable)
        }
    }
}

/// The characters a non-empty match of `h` can end with (as a Unicode class), and whether
/// `h` can match the empty string; `None` when a byte class (not UTF-8 aware) is in the way.
/// Why beside [`last_bytes`]: every character beyond ASCII ends with a continuation byte, so
/// the last-byte gate lets any line ending in a closing quote, a dash or a Cyrillic letter
/// through to a pattern that ends in `\)\s*$`.
fn last_chars(h: &Hir) -> Option<(ClassUnicode, bool)> {
    let mut s = ClassUnicode::empty();
    Some(match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (s, true),
        HirKind::Literal(l) => match std::str::from_utf8(&l.0).ok()?.chars().next_back() {
            Some(c) => (ClassUnicode::new([ClassUnicodeRange::new(c, c)]), false),
            None => (s, true),
        },
        HirKind::Class(Class::Unicode(c)) => (c.clone(), false),
        HirKind::Class(Class::Bytes(_)) => return None,
        HirKind::Repetition(r) => {
            let (a, n) = last_chars(&r.sub)?;
            (a, n || r.min == 0)
        }
        HirKind::Capture(c) => last_chars(&c.sub)?,
        HirKind::Concat(v) => {
            for x in v.iter().rev() {
                let (a, n) = last_chars(x)?;
                s.union(&a);
                if !n {
                    return Some((s, false));
                }
            }
            (s, true)
        }
        HirKind::Alternation(v) => {
            let mut nullable = false;
            for x in v {
                let (a, n) = last_chars(x)?;
                s.union(&a);
                nullable |= n;
            }
            (s, nullable)
        }
    })
}

/// How many characters lie beyond ASCII (the surrogates are not characters).
const ALL_WIDE: u32 = 0x110000 - 0x80 - 0x800;

/// The ranges of `c` beyond ASCII, as code points.
fn wide_ranges(c: &ClassUnicode) -> Box<[(u32, u32)]> {
    c.ranges()
        .iter()
        .map(|r| ((r.start() as u32).max(0x80), r.end() as u32))
        .filter(|(a, b)| a <= b)
        .collect()
}

/// Every byte a match of `h` can contain: exact for ASCII (a Unicode class adds the ASCII
/// characters it has), all of 0x80..=0xFF for anything beyond ASCII (an over-approximation,
/// so the body gate only ever rejects on ASCII bytes).
fn body_bytes(h: &Hir, s: &mut ByteSet) {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => l.0.iter().for_each(|&b| s.insert(b)),
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                let (a, b) = (r.start() as u32, r.end() as u32);
                if a < 0x80 {
                    s.insert_range(a as u8, b.min(0x7f) as u8);
                }
                if b >= 0x80 {
                    s.insert_range(0x80, 0xff);
                }
            }
        }
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .for_each(|r| s.insert_range(r.start(), r.end())),
        HirKind::Repetition(r) => body_bytes(&r.sub, s),
        HirKind::Capture(c) => body_bytes(&c.sub, s),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().for_each(|x| body_bytes(x, s)),
    }
}

/// The body gate of a pattern that is a concatenation anchored at both ends (`^`, `$`, not
/// multi-line): whether the first character of a haystack is skipped (the pattern starts
/// with a one-character class, which takes exactly the first character of every match) and
/// the bytes the rest of every match consists of. `None` when the pattern is not of that
/// shape, or when the set leaves out no ASCII byte (the gate could never reject).
fn body_gate(h: &Hir) -> Option<(bool, ByteSet)> {
    let HirKind::Concat(v) = h.kind() else {
        return None;
    };
    let is = |x: &Hir, l: Look| matches!(x.kind(), HirKind::Look(k) if *k == l);
    let start = v
        .iter()
        .take_while(|x| matches!(x.kind(), HirKind::Look(_)))
        .count();
    let end = v.len()
        - v.iter()
            .rev()
            .take_while(|x| matches!(x.kind(), HirKind::Look(_)))
            .count();
    if start >= end
        || !v[..start].iter().any(|x| is(x, Look::Start))
        || !v[end..].iter().any(|x| is(x, Look::End))
    {
        return None;
    }
    let skip_first = matches!(v[start].kind(), HirKind::Class(_));
    let mut s = ByteSet::default();
    for x in &v[start + skip_first as usize..end] {
        body_bytes(x, &mut s);
    }
    (0..0x80u8)
        .any(|b| !s.contains(b))
        .then_some((skip_first, s))
}

/// Deepest nesting at which literal prefixes are extracted.
const MAX_TAIL_DEPTH: u32 = 1;

/// Classes of at most this many characters are expanded into literals.
const MAX_CLASS_CHARS: u32 = 8;
/// A required-literal set larger than this is not used.
const MAX_REQUIRED: usize = 64;

/// Strings of which every match of `h` contains at least one (`None`: no such set found),
/// ASCII lower-cased (see [`lower_set`]). Literal prefixes (the costly part: the extractor
/// expands case-insensitive classes) are taken of `h` and of the tails of concatenations
/// down to depth [`MAX_TAIL_DEPTH`].
fn required(h: &Hir, depth: u32) -> Option<Vec<Vec<u8>>> {
    let own = match h.kind() {
        HirKind::Literal(l) if !l.0.is_empty() => Some(vec![l.0.to_vec()]),
        HirKind::Class(Class::Unicode(c)) => {
            let n: u32 = c
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
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
            let n: u32 = c
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if n == 0 || n > MAX_CLASS_CHARS {
                return None;
            }
            Some(
                c.ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).map(|b| vec![b]))
                    .collect(),
            )
        }
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub, depth + 1),
        HirKind::Capture(c) => required(&c.sub, depth),
        HirKind::Concat(v) => {
            // any element's set will do; so will the literal prefixes of any tail of the
            // concatenation (a match of the whole contains a match of the tail, which
            // starts with one of them): those catch words under (?i), which are
            // concatenations of two-letter classes
            let mut best = v
                .iter()
                .filter_map(|x| required(x, depth + 1))
                .min_by_key(|s| cost(s));
            for i in (0..v.len()).filter(|_| depth <= MAX_TAIL_DEPTH) {
                if let Some(lits) = prefix_literals(&Hir::concat(v[i..].to_vec())) {
                    if best.as_ref().is_none_or(|b| cost(&lits) < cost(b)) {
                        best = Some(lits);
                    }
                }
            }
            best
        }
        HirKind::Alternation(v) => {
            let mut out: Vec<Vec<u8>> = Vec::new();
            for x in v {
                for l in required(x, depth + 1)? {
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
            }
            (out.len() <= MAX_REQUIRED).then_some(out)
        }
        _ => None,
    };
    let own = own.map(|s| lower_set(&s));
    if depth > MAX_TAIL_DEPTH {
        return own;
    }
    match (own, prefix_literals(h)) {
        (Some(a), Some(b)) => Some(if cost(&b) < cost(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The literal prefixes of `h` (every match starts with one of them), ASCII lower-cased;
/// `None` when there are too many to list or one is empty.
fn prefix_literals(h: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut e = Extractor::new();
    e.kind(ExtractKind::Prefix);
    let seq = e.extract(h);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    let set = lower_set(
        &lits
            .iter()
            .map(|l| l.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    );
    (set.len() <= MAX_REQUIRED).then_some(set)
}

/// ASCII lower-cased and deduplicated: a haystack containing a literal of `set` contains
/// its lower-cased form ASCII case-insensitively, which is how the sets are searched.
fn lower_set(set: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for l in set {
        let l = l.to_ascii_lowercase();
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// How often a line contains one of `set`, roughly (lower is more selective): one common
/// byte (a letter, a digit, a space, `.` or `,`) or a two-byte word is in almost every
/// line, longer literals are rarer.
fn cost(set: &[Vec<u8>]) -> u32 {
    set.iter()
        .map(|l| match l.as_slice() {
            [b] if b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b',') => 30,
            [_] => 8,
            // one character beyond ASCII: a letter (Cyrillic, Greek...) is as common as a
            // two-byte word, a sign (a guillemet, an arrow) is as rare as an ASCII one
            x if one_char(x).is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace()) => 8,
            [_, _] => 30,
            [_, _, _] => 10,
            [_, _, _, _] => 3,
            _ => 1,
        })
        .sum()
}

/// The character `l` is, if it is exactly one.
fn one_char(l: &[u8]) -> Option<char> {
    let mut it = std::str::from_utf8(l).ok()?.chars();
    it.next().filter(|_| it.next().is_none())
}

/// A required-literal set is used only when at most this costly.
const MAX_COST: u32 = 60;

/// A searcher for ASCII lower-cased literal sets, to run on ASCII lower-cased haystacks
/// ([`ascii_lower`]). Why not aho-corasick's own `ascii_case_insensitive`: with it the
/// searcher loses its vectorised prefilter on sets of ordinary words (an author-bio
/// pattern's `writer|reporter|editor…`: 330 ns a line against about 40 for lower-casing the
/// line and the exact search).
pub fn literal_searcher<I, P>(pats: I) -> Option<AhoCorasick>
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(pats)
        .ok()
}

/// `hay` with its ASCII letters lower-cased, in a buffer of this thread.
pub fn ascii_lower<R>(hay: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|b| {
        b.clear();
        b.extend_from_slice(hay.as_bytes());
        b.make_ascii_lowercase();
        f(b)
    })
}

/// Necessary conditions for a match of one regex.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub min_len: usize,
    pub first: Option<ByteSet>,
    pub last: Option<ByteSet>,
    /// Literals one of which every match contains (ASCII lower-cased).
    pub required: Option<Vec<Vec<u8>>>,
    /// Searcher for `required`.
    search: Option<AhoCorasick>,
    /// With a last-byte gate: the characters beyond ASCII a match can end with, as sorted
    /// inclusive ranges of code points (the last byte only tells that such a line ends
    /// beyond ASCII).
    pub last_wide: Option<Box<[(u32, u32)]>>,
    /// Body gate ([`body_gate`]): skip the first character, then every byte must be in the set.
    pub body: Option<(bool, ByteSet)>,
}

impl Gate {
    /// The gate of `pattern` (as `Regex::new` would parse it); a pattern that does not
    /// parse gets the open gate.
    pub fn new(pattern: &str) -> Gate {
        Gate::parse(pattern).unwrap_or_default()
    }

    /// The gate of `pattern`, or why it does not parse.
    pub fn parse(pattern: &str) -> Result<Gate, Box<regex_syntax::Error>> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .map(|h| Gate::of(&h))
            .map_err(Box::new)
    }

    fn of(h: &Hir) -> Gate {
        let p = h.properties();
        let mut g = Gate {
            min_len: p.minimum_len().unwrap_or(0),
            ..Gate::default()
        };
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
                g.last_wide = last_chars(h)
                    .filter(|(_, nullable)| !nullable)
                    .map(|(c, _)| wide_ranges(&c))
                    .filter(|r| r.iter().map(|(a, b)| b - a + 1).sum::<u32>() < ALL_WIDE);
            }
        }
        g.body = body_gate(h);
        g.required = required(h, 0).filter(|s| cost(s) <= MAX_COST);
        g.search = g.required.as_ref().and_then(literal_searcher);
        g
    }

    /// The length and byte gates (what [`Gate::may_match`] checks but the literals).
    #[inline]
    pub fn bytes_may_match(&self, b: &[u8]) -> bool {
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
        true
    }

    /// With a last-character gate and `hay` ending beyond ASCII: whether its last character
    /// is one a match can end with.
    #[inline]
    pub fn last_char_may_match(&self, hay: &str) -> bool {
        let Some(r) = &self.last_wide else {
            return true;
        };
        if hay.as_bytes().last().is_none_or(|&b| b < 0x80) {
            return true;
        }
        let c = hay.chars().next_back().map_or(0, |c| c as u32);
        let i = r.partition_point(|&(_, end)| end < c);
        i < r.len() && r[i].0 <= c
    }

    /// False only if the regex cannot match `hay`.
    #[inline]
    pub fn may_match(&self, hay: &str) -> bool {
        self.bytes_may_match(hay.as_bytes())
            && self.last_char_may_match(hay)
            && self.body_may_match(hay)
            && self.literals_may_match(hay)
    }

    /// The body part of [`Gate::may_match`]: with a body gate, every byte of `hay` (after its
    /// first character, if the gate skips it) is one a match can contain.
    #[inline]
    pub fn body_may_match(&self, hay: &str) -> bool {
        let Some((skip_first, set)) = &self.body else {
            return true;
        };
        let skip = if *skip_first {
            hay.chars().next().map_or(0, char::len_utf8)
        } else {
            0
        };
        hay.as_bytes()[skip..].iter().all(|&b| set.contains(b))
    }

    /// The required-literal part of [`Gate::may_match`].
    #[inline]
    pub fn literals_may_match(&self, hay: &str) -> bool {
        self.search
            .as_ref()
            .is_none_or(|ac| ascii_lower(hay, |l| ac.is_match(l)))
    }

    /// [`Gate::literals_may_match`] on a haystack already ASCII lower-cased.
    #[inline]
    pub fn literals_may_match_lower(&self, lower: &[u8]) -> bool {
        self.search.as_ref().is_none_or(|ac| ac.is_match(lower))
    }

    /// Whether the gate has required literals to search.
    #[inline]
    pub fn searches(&self) -> bool {
        self.search.is_some()
    }

    /// [`Gate::may_match`] with the required literals always searched (for tests).
    #[cfg(test)]
    pub fn may_match_all(&self, hay: &str) -> bool {
        self.bytes_may_match(hay.as_bytes())
            && self.last_char_may_match(hay)
            && self.body_may_match(hay)
            && self
                .required
                .as_ref()
                .is_none_or(|r| ascii_lower(hay, |l| literal_searcher(r).unwrap().is_match(l)))
    }
}

/// Memory for each regex's lazy DFA (per thread), instead of `regex`'s 2 MiB.
///
/// Why: the breadcrumb and author-bio patterns (Unicode classes under counted repeats) have
/// many DFA states; with 2 MiB the cache filled and was cleared again and again on every
/// few hundred lines, and rebuilding the same states (determinisation) was most of the
/// time spent in regexes. The states a run needs fit in a few MiB and then stay; the limit
/// is a ceiling, memory is only taken as states are built. Same matches either way.
pub const DFA_SIZE_LIMIT: usize = 16 << 20;

/// A regex behind its [`Gate`].
#[derive(Debug, Clone)]
pub struct GatedRegex {
    pub re: Regex,
    pub gate: Gate,
}

impl GatedRegex {
    pub fn new(pattern: &str) -> Result<GatedRegex, regex::Error> {
        GatedRegex::with_gate(pattern, Gate::new(pattern))
    }

    /// The regex of `pattern` behind `gate`, which must be `Gate::new(pattern)` (computed
    /// before, not again).
    pub fn with_gate(pattern: &str, gate: Gate) -> Result<GatedRegex, regex::Error> {
        let re = regex::RegexBuilder::new(pattern)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .build()?;
        Ok(GatedRegex { re, gate })
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
pub(crate) mod tests {
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
        // words under (?i) are found as literals, case-insensitively
        let g = Gate::new(r"(?i)\(photo: \w+\)");
        assert!(
            g.required.as_ref().unwrap().iter().all(|l| l.len() >= 3),
            "{:?}",
            g.required
        );
        assert!(g.may_match_all("x (PHOTO: y)") && !g.may_match_all("x (phot: y)"));
        let g = Gate::new(r"(?i)\s(?:kelvin|sun)\s");
        assert!(g.may_match_all("a \u{212A}elvin b") && g.may_match_all("a \u{17F}un b"));
        // (?m) anchors are line anchors: no gate from them
        assert!(Gate::new(r"(?m)^x").first.is_none());
        assert!(Gate::new("(").may_match(""));
    }

    #[test]
    fn last_character_gates() {
        // the last byte of a line ending beyond ASCII is a continuation byte whatever the
        // character: the last character tells a closing quote from a space
        let g = Gate::new(r"\(\w+\)\s*$");
        assert!(g.last_wide.is_some());
        assert!(g.may_match("x (a)") && g.may_match("x (a)\u{3000}"));
        assert!(!g.may_match("x (a) ”") && !g.may_match("x (a) я"));
        let g = Gate::new(r"^a\p{L}$");
        assert!(g.may_match("aя") && !g.may_match("a→"));
        // a class taking every character beyond ASCII gives no such gate
        assert!(Gate::new(r"^a[^x]$").last_wide.is_none());
        // nor does an end that can be empty, or a byte class
        assert!(Gate::new(r"a?\s*$").last_wide.is_none());
        assert!(Gate::new(r"(?-u)a\xFF$").last_wide.is_none());
        check_gate(
            r"(?i)[.)]\s*(?:photo|фото)s?\s*:\s*\(?[^()]{1,60}\)?\s*$",
            &sample_hays(),
        );
    }

    #[test]
    fn literal_sets_are_searched_whatever_the_first_byte_gate() {
        // a strong enough first-byte gate used to skip the search: the author-bio patterns
        // then ran their lazy DFA on every capitalised line
        let g = Gate::new(r"^(?:\p{Lu}\w+\s){1,3}(?:is|was)\s+(?:an?\s+)?(?:writer|reporter)");
        assert!(g.first.is_some() && g.searches());
        assert!(!g.may_match("Jane Doe is a doctor") && g.may_match("Jane Doe is a writer"));
        // single signs beyond ASCII are as rare as ASCII ones: the breadcrumb separators
        // make a usable set
        let g = Gate::new(r"^\S[^.!?]{0,40}(?:\s+(?:>|»|›|/|→|\|)\s+[^.!?]{1,60}){2,}$");
        assert!(g.searches() && !g.may_match("Home and World and Europe"));
        assert!(g.may_match("Home » World » Europe"));
        // a class of letters beyond ASCII is not
        assert!(cost(&[b"\xd0\xb0".to_vec()]) > cost(&[b"\xc2\xbb".to_vec()]));
        // the literals are searched ASCII case-insensitively
        let g = Gate::new(r"(?i)\bcookies\b");
        assert!(g.may_match("We use COOKIES") && g.literals_may_match_lower(b"we use cookies"));
    }

    #[test]
    fn body_gates() {
        // breadcrumb shape: `\S` then runs without sentence punctuation
        let g = Gate::new(r"^\S[^.!?]{0,40}(?:\s+(?:>|»|›|/|→|\|)\s+[^.!?]{1,60}){2,}$");
        let (skip, set) = g.body.unwrap();
        assert!(skip && !set.contains(b'.') && set.contains(b'>') && set.contains(0xc2));
        assert!(
            g.body_may_match("Home > World > Europe")
                && g.body_may_match(".Home > a > b")
                && g.body_may_match("«Home » a » b")
        );
        assert!(
            !g.body_may_match("Home > World. Europe")
                && !g.body_may_match("Home > World > Europe!")
        );
        // the first character is skipped only after a one-character class
        let g = Gate::new(r"^[a-z]+$");
        assert_eq!(g.body.map(|b| b.0), Some(false));
        assert!(!g.may_match("a.b") && g.may_match("ab"));
        // `.` leaves out only the line feed
        assert!(Gate::new(r"(?s)^.+$").body.is_none() && !Gate::new(r"^.+$").may_match("a\nb"));
        assert!(
            Gate::new(r"^[a-z]+").body.is_none()
                && Gate::new(r"[a-z]+$").body.is_none()
                && Gate::new(r"(?m)^[a-z]+$").body.is_none()
        );
        assert!(Gate::new(r"^a$|^b$").body.is_none());
        // a non-ASCII first character is skipped whole
        check_gate(
            r"^\S[a-z ]*$",
            &[
                "é ab".to_string(),
                "日x".to_string(),
                "x.".to_string(),
                ".ab".to_string(),
            ],
        );
    }

    /// A gate never rejects what its regex matches: every built-in rule and field regex, on
    /// random lines over an alphabet of the bytes the patterns care about, and on the lines
    /// the rule tests use.
    pub(crate) fn check_gate(pattern: &str, hays: &[String]) {
        let re = Regex::new(pattern).unwrap();
        let g = Gate::new(pattern);
        for h in hays {
            if re.is_match(h) {
                assert!(
                    g.may_match(h) && g.may_match_all(h),
                    "gate of {pattern:?} rejects {h:?}"
                );
            }
        }
    }

    pub(crate) fn sample_hays() -> Vec<String> {
        let mut v: Vec<String> = crate::stages::boilerplate::lang::tests::random_texts(3000);
        let pieces = [
            "Advertisement",
            "- Ad -",
            "ADVERT",
            "Facebook",
            " Twitter | Email",
            "jane says:",
            "12 comments",
            "34 responses to ",
            "(3 replies)",
            "RU UA EN",
            "English | Deutsch",
            "Home > World > Europe",
            " » ",
            "you are here:",
            "ugc_banner",
            "main img",
            "648x415",
            "1200×800 a",
            "photo.jpg",
            "IMG-1.png!",
            "/ AFP",
            "(Reuters)",
            "Photo: x",
            "(AP Photo/Jane Doe)",
            ". Photograph:(Reuters)",
            "Watch: A b",
            "play video",
            "Jane Doe is a writer",
            "Max Muster ist Redakteur",
            "Иван — журналист",
            "5 min read",
            "Reading time: 3",
            "By Jane Doe",
            "Автор: Иван",
            "Jane Doe, AP",
            "LONDON (Reuters) - The",
            "12.03.2021",
            "2021-03-12",
            " ",
            "\u{a0}",
            "\u{3000}",
            "”",
            "я",
            "→",
            "’",
            "K",
            "\u{212A}",
            "ſ",
            "İ",
            ":",
            "é",
            "日本語",
            "x",
            "/",
            "|",
            "—",
            "–",
            "-",
            "(",
            ")",
            "[",
            "]",
            "1",
            "22",
            "a",
            "Z",
            ".",
            "!",
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
