//! Named rule packs: phrases and patterns that mark a line as boilerplate.
//!
//! The packs are TOML data files (`rules/*.toml`) compiled into the binary; `pipeline.toml`
//! can disable rules by name, add rules, or extend/replace a built-in rule (same name).
//! A rule matches a *line* in one of four ways, checked on the normalised line (lower case,
//! outer punctuation, dashes and bullets trimmed, whitespace runs collapsed):
//! `lines` (equal to a phrase), `prefixes` (starts with a phrase), `contains` (has a phrase
//! anywhere), or `regex` (on the trimmed original line). Every rule has `max_chars`: longer
//! lines are never matched, so prose that merely mentions "advertisement" stays.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, Input, MatchKind, StartKind};
use rustc_hash::FxHashMap;

use super::gate::{Gate, GatedRegex};
use crate::error::ConfigError;

/// The built-in packs, in the order their rules are tried.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("ads", include_str!("rules/ads.toml")),
    ("consent", include_str!("rules/consent.toml")),
    ("newsletter", include_str!("rules/newsletter.toml")),
    ("social", include_str!("rules/social.toml")),
    ("comments", include_str!("rules/comments.toml")),
    ("related", include_str!("rules/related.toml")),
    ("chrome", include_str!("rules/chrome.toml")),
    ("media", include_str!("rules/media.toml")),
];

const DEFAULT_MAX_CHARS: usize = 120;

/// One rule as written in a pack or in `[[stages.boilerplate.extra_rules]]`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name, reported with every removal it makes.
    pub name: String,
    /// The normalised line equals one of these phrases.
    pub lines: Vec<String>,
    /// The normalised line starts with one of these phrases.
    pub prefixes: Vec<String>,
    /// The normalised line contains one of these phrases.
    pub contains: Vec<String>,
    /// Regular expressions (Rust syntax) tried on the trimmed original line.
    pub regex: Vec<String>,
    /// Lines longer than this (in characters) are never matched by the rule (default 120).
    pub max_chars: Option<usize>,
    /// In `extra_rules`: replace the built-in rule of the same name instead of extending it.
    pub replace: bool,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    rule: Vec<RuleSpec>,
}

/// Parse the built-in packs.
pub fn builtin_rules() -> Result<Vec<RuleSpec>, ConfigError> {
    let mut out = Vec::new();
    for (pack, text) in BUILTIN_PACKS {
        let file: PackFile = toml::from_str(text).map_err(|e| {
            ConfigError::invalid(
                "stages.boilerplate",
                format!("built-in rule pack {pack}: {e}"),
            )
        })?;
        out.extend(file.rule);
    }
    Ok(out)
}

/// Merge built-ins with the config's extra rules and drop disabled ones.
pub fn merge_rules(
    mut base: Vec<RuleSpec>,
    extra: &[RuleSpec],
    disable: &[String],
) -> Result<Vec<RuleSpec>, ConfigError> {
    for e in extra {
        if e.name.trim().is_empty() {
            return Err(ConfigError::invalid(
                "stages.boilerplate.extra_rules",
                "every rule needs a `name`",
            ));
        }
        match base.iter_mut().find(|r| r.name == e.name) {
            Some(r) if e.replace => *r = e.clone(),
            Some(r) => {
                r.lines.extend(e.lines.iter().cloned());
                r.prefixes.extend(e.prefixes.iter().cloned());
                r.contains.extend(e.contains.iter().cloned());
                r.regex.extend(e.regex.iter().cloned());
                if e.max_chars.is_some() {
                    r.max_chars = e.max_chars;
                }
            }
            None => base.push(e.clone()),
        }
    }
    base.retain(|r| !disable.iter().any(|d| d == &r.name));
    Ok(base)
}

/// Whether `b` has more than `max` ASCII letters and digits. Its normalised form keeps each
/// of them as one byte, so it is then longer than `max` bytes: a cheap (vectorised) way to
/// tell that a prose line is no whole-line phrase before normalising it.
fn ascii_alnum_over(b: &[u8], max: usize) -> bool {
    let mut n = 0usize;
    for chunk in b.chunks(128) {
        // summed in a `u8` (at most 128 per chunk), which LLVM vectorises 32 bytes a step
        n += chunk
            .iter()
            .map(|&x| x.is_ascii_alphanumeric() as u8)
            .fold(0u8, u8::wrapping_add) as usize;
        if n > max {
            return true;
        }
    }
    false
}

/// Lower-case `line`, trim outer punctuation/symbols, collapse whitespace, into `out`.
pub fn normalise_into(line: &str, out: &mut String) {
    normalise_bounded(line, out, usize::MAX);
}

/// [`normalise_into`] that gives up (returns false, `out` unfinished) as soon as the output
/// is longer than `max` bytes. Why: the normalised line is only compared with whole-line
/// phrases, none longer than a few dozen bytes, and the output only grows; prose lines are
/// mostly longer, so they stop after `max` bytes instead of being lower-cased whole. ASCII
/// bytes are handled without decoding characters.
pub fn normalise_bounded(line: &str, out: &mut String, max: usize) -> bool {
    out.clear();
    let t =
        line.trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, '©' | '@' | '(' | ')'));
    let t = t
        .trim_start_matches(['(', ')'])
        .trim_end_matches(['(', ')']);
    let b = t.as_bytes();
    let mut space = false;
    let mut i = 0;
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            i += 1;
            if (x as char).is_whitespace() {
                space = true;
                continue;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(x.to_ascii_lowercase() as char);
        } else {
            let Some(c) = t[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        }
        if out.len() > max {
            return false;
        }
    }
    true
}

fn normalise(s: &str) -> String {
    let mut o = String::new();
    normalise_into(s, &mut o);
    o
}

/// Scratch buffers of [`RuleSet::matches`], reused from line to line.
#[derive(Debug, Default)]
pub struct Scratch {
    norm: String,
    lower: String,
    /// The trimmed line ASCII lower-cased, for the regexes' literal gates.
    ascii: Vec<u8>,
}

/// Compiled rules: one hash map for whole-line phrases, two automata, gated regexes.
///
/// Every part knows the longest line (`max_chars`) any of its rules accepts, so a line that
/// no rule of a part could take skips that part; the results are those of trying everything.
#[derive(Debug)]
pub struct RuleSet {
    names: Vec<&'static str>,
    max_chars: Vec<usize>,
    lines: FxHashMap<String, Vec<usize>>,
    /// Longest `max_chars` of a rule with `lines`, longest normalised phrase in bytes.
    lines_max_chars: usize,
    lines_max_len: usize,
    prefix_ac: Option<AhoCorasick>,
    /// The rules of each distinct phrase (the automaton reports one pattern per match, so a
    /// phrase two rules share is one pattern).
    prefix_rule: Vec<Vec<usize>>,
    /// Longest `max_chars` of a rule with `prefixes`, longest prefix phrase in bytes.
    prefix_max_chars: usize,
    prefix_max_len: usize,
    /// Bit `(b0 << 8) | b1` is set for the first two bytes of every prefix phrase (for a
    /// one-byte phrase, for every second byte): a line whose lower-cased first two bytes
    /// (the second taken as 0 for a one-byte line) are not in it starts with no phrase.
    prefix_pairs: Box<[u64; 1024]>,
    contains_ac: Option<AhoCorasick>,
    contains_rule: Vec<Vec<usize>>,
    /// Longest `max_chars` of a rule with `contains`.
    contains_max_chars: usize,
    /// Tried one by one in rule order (a set would need all matches, and with Unicode
    /// classes it falls back to the slow NFA); each has its own lazy DFA, behind a gate
    /// that rejects most lines without running it.
    regex: Vec<GatedRegex>,
    regex_rule: Vec<usize>,
    /// With at most 64 regexes, their byte gates as bit masks (bit `j`: regex `j`), so a
    /// line visits only the regexes its first and last bytes allow.
    masks: Option<RegexMasks>,
    /// Longest `max_chars` of any rule: longer lines skip matching entirely.
    longest: usize,
}

#[derive(Debug)]
struct RegexMasks {
    /// By first byte of the line: the regexes whose first-byte gate lets it through.
    first: Box<[u64; 256]>,
    /// By last byte of the line, the same for the last-byte gates.
    last: Box<[u64; 256]>,
}

impl RegexMasks {
    fn build(regex: &[GatedRegex]) -> Option<RegexMasks> {
        if regex.len() > 64 {
            return None;
        }
        let mut m = RegexMasks {
            first: Box::new([0; 256]),
            last: Box::new([0; 256]),
        };
        for (j, re) in regex.iter().enumerate() {
            let bit = 1u64 << j;
            let g = &re.gate;
            for b in 0..256 {
                if g.first.is_none_or(|f| f.contains(b as u8)) {
                    m.first[b] |= bit;
                }
                if g.last.is_none_or(|l| l.contains(b as u8)) {
                    m.last[b] |= bit;
                }
            }
        }
        Some(m)
    }
}

impl RuleSet {
    pub fn compile(specs: &[RuleSpec]) -> Result<RuleSet, ConfigError> {
        let mut names = Vec::new();
        let mut max_chars = Vec::new();
        let mut lines: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let (mut prefixes, mut prefix_rule) = (Vec::new(), Vec::new());
        let (mut contains, mut contains_rule) = (Vec::new(), Vec::new());
        // a phrase once, with every rule that has it
        let (mut prefix_at, mut contains_at) = (FxHashMap::default(), FxHashMap::default());
        fn add(
            at: &mut FxHashMap<String, usize>,
            phrases: &mut Vec<String>,
            rules: &mut Vec<Vec<usize>>,
            p: String,
            rule: usize,
        ) {
            let k = *at.entry(p.clone()).or_insert_with(|| {
                phrases.push(p);
                rules.push(Vec::new());
                rules.len() - 1
            });
            if !rules[k].contains(&rule) {
                rules[k].push(rule);
            }
        }
        let (mut regexes, mut regex_rule) = (Vec::new(), Vec::new());
        let mut patterns: Vec<(usize, &str)> = Vec::new();
        let mut jobs: Vec<(usize, Vec<(&str, Gate)>)> = Vec::new();
        let (mut lines_max_chars, mut prefix_max_chars, mut contains_max_chars) = (0, 0, 0);
        for (i, s) in specs.iter().enumerate() {
            names.push(crate::document::intern(&s.name));
            let mc = s.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
            max_chars.push(mc);
            for p in &s.lines {
                let n = normalise(p);
                if !n.is_empty() {
                    lines_max_chars = lines_max_chars.max(mc);
                    let v = lines.entry(n).or_default();
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
            }
            for p in &s.prefixes {
                let n = prefix_norm(p);
                if !n.is_empty() {
                    prefix_max_chars = prefix_max_chars.max(mc);
                    add(&mut prefix_at, &mut prefixes, &mut prefix_rule, n, i);
                }
            }
            for p in &s.contains {
                let n = p.to_lowercase();
                if !n.trim().is_empty() {
                    contains_max_chars = contains_max_chars.max(mc);
                    add(&mut contains_at, &mut contains, &mut contains_rule, n, i);
                }
            }
            patterns.extend(s.regex.iter().map(|r| (i, r.as_str())));
        }
        // the gates of all the patterns (each parsed once: a bad one is named here, even
        // where it would be merged), then the groups of each rule, each compiled
        let gates = par_map(&patterns, |(_, p)| Gate::parse(p));
        let gates = patterns
            .iter()
            .zip(gates)
            .map(|(&(i, r), g)| {
                g.map_err(|e| {
                    ConfigError::invalid(
                        "stages.boilerplate.extra_rules",
                        format!("rule `{}`: bad regex {r:?}: {e}", specs[i].name),
                    )
                })
            })
            .collect::<Result<Vec<Gate>, ConfigError>>()?;
        let mut gated = patterns.iter().zip(gates).peekable();
        while let Some(&(&(i, _), _)) = gated.peek() {
            let mut mine = Vec::new();
            while let Some((&(_, p), g)) = gated.next_if(|(&(j, _), _)| j == i) {
                mine.push((p, g));
            }
            jobs.extend(alike_groups(mine).into_iter().map(|g| (i, g)));
        }
        let compiled = par_map(&jobs, |(_, group)| compile_group(group));
        for (&(i, _), res) in jobs.iter().zip(compiled) {
            let s = &specs[i];
            let res = res.map_err(|(r, e)| {
                ConfigError::invalid(
                    "stages.boilerplate.extra_rules",
                    format!("rule `{}`: bad regex {r:?}: {e}", s.name),
                )
            })?;
            for re in res {
                regexes.push(re);
                regex_rule.push(i);
            }
        }
        let build = |pats: &[String],
                     start: StartKind|
         -> Result<Option<AhoCorasick>, ConfigError> {
            if pats.is_empty() {
                return Ok(None);
            }
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .start_kind(start)
                .build(pats)
                .map(Some)
                .map_err(|e| {
                    ConfigError::invalid("stages.boilerplate.extra_rules", format!("phrases: {e}"))
                })
        };
        let mut prefix_pairs = Box::new([0u64; 1024]);
        for p in &prefixes {
            let b = p.as_bytes();
            let mut set = |k: usize| prefix_pairs[k >> 6] |= 1 << (k & 63);
            match b {
                [a] => (0..256).for_each(|x| set(((*a as usize) << 8) | x)),
                [a, c, ..] => set(((*a as usize) << 8) | *c as usize),
                [] => {}
            }
        }
        let longest = max_chars.iter().copied().max().unwrap_or(0);
        Ok(RuleSet {
            names,
            max_chars,
            lines_max_len: lines.keys().map(String::len).max().unwrap_or(0),
            lines,
            lines_max_chars,
            prefix_ac: build(&prefixes, StartKind::Anchored)?,
            prefix_max_len: prefixes.iter().map(String::len).max().unwrap_or(0),
            prefix_rule,
            prefix_max_chars,
            prefix_pairs,
            contains_ac: build(&contains, StartKind::Unanchored)?,
            contains_rule,
            contains_max_chars,
            masks: RegexMasks::build(&regexes),
            regex: regexes,
            regex_rule,
            longest,
        })
    }

    pub fn name(&self, rule: usize) -> &'static str {
        self.names[rule]
    }

    /// Whether a prefix phrase can start `lower` (see `prefix_pairs`).
    #[inline]
    fn prefix_may_start(&self, lower: &[u8]) -> bool {
        let k = match lower {
            [] => return false,
            [a] => (*a as usize) << 8,
            [a, b, ..] => ((*a as usize) << 8) | *b as usize,
        };
        self.prefix_pairs[k >> 6] & (1 << (k & 63)) != 0
    }

    /// The first rule (in pack order) matching `line`; `sc` holds scratch buffers.
    /// `chars` is the trimmed line's length in characters.
    pub fn matches(&self, line: &str, chars: usize, sc: &mut Scratch) -> Option<usize> {
        if chars > self.longest || chars == 0 {
            return None;
        }
        let fits = |r: usize| chars <= self.max_chars[r];
        let mut best: Option<usize> = None;
        let take = |r: usize, best: &mut Option<usize>| {
            if fits(r) && best.is_none_or(|b| r < b) {
                *best = Some(r);
            }
        };
        if chars <= self.lines_max_chars
            && !ascii_alnum_over(line.as_bytes(), self.lines_max_len)
            && normalise_bounded(line, &mut sc.norm, self.lines_max_len)
        {
            if let Some(v) = self.lines.get(sc.norm.as_str()) {
                for &r in v {
                    take(r, &mut best);
                }
            }
        }
        let t = line.trim();
        let need_prefix = self.prefix_ac.is_some() && chars <= self.prefix_max_chars;
        let need_contains = self.contains_ac.is_some() && chars <= self.contains_max_chars;
        if need_prefix || need_contains {
            // prefixes and infixes are matched on the lower-cased trimmed line (punctuation
            // kept, so "read more:" can demand the colon); an anchored phrase only sees the
            // first `prefix_max_len` bytes, so without infixes to look for an ASCII line is
            // lower-cased only that far
            let lower = &mut sc.lower;
            lower.clear();
            let head = t.len().min(self.prefix_max_len);
            if !need_contains && t.as_bytes()[..head].is_ascii() {
                lower.push_str(&t[..head]);
                lower.make_ascii_lowercase();
            } else if t.is_ascii() {
                lower.push_str(t);
                lower.make_ascii_lowercase();
            } else {
                crate::document::lowercase_into(t, lower);
            }
            let lower = lower.as_str();
            if let Some(ac) = self
                .prefix_ac
                .as_ref()
                .filter(|_| need_prefix && self.prefix_may_start(lower.as_bytes()))
            {
                // Anchored overlapping search is not offered by aho-corasick; emulate it by
                // collecting every anchored leftmost match while shortening the allowed span.
                let mut end = lower.len();
                while end > 0 {
                    let input = Input::new(lower).range(0..end).anchored(Anchored::Yes);
                    match ac.try_find(input) {
                        Ok(Some(m)) => {
                            for &r in &self.prefix_rule[m.pattern().as_usize()] {
                                take(r, &mut best);
                            }
                            end = m.end().saturating_sub(1);
                            while end > 0 && !lower.is_char_boundary(end) {
                                end -= 1;
                            }
                        }
                        _ => break,
                    }
                }
            }
            if let Some(ac) = self.contains_ac.as_ref().filter(|_| need_contains) {
                for m in ac.find_iter(lower) {
                    for &r in &self.contains_rule[m.pattern().as_usize()] {
                        take(r, &mut best);
                    }
                }
            }
        }
        // regexes in rule order, up to the first match or the rule already found
        let Some(m) = &self.masks else {
            for (re, &r) in self.regex.iter().zip(&self.regex_rule) {
                if best.is_some_and(|b| b <= r) {
                    break;
                }
                if fits(r) && re.is_match(t) {
                    best = Some(r);
                    break;
                }
            }
            return best;
        };
        let b = t.as_bytes();
        let (Some(&b0), Some(&b1)) = (b.first(), b.last()) else {
            return best;
        };
        let mut cand = m.first[b0 as usize] & m.last[b1 as usize];
        let mut lowered = false;
        while cand != 0 {
            let j = cand.trailing_zeros() as usize;
            cand &= cand - 1;
            let r = self.regex_rule[j];
            if best.is_some_and(|b| b <= r) {
                break;
            }
            let re = &self.regex[j];
            if !fits(r) || b.len() < re.gate.min_len {
                continue;
            }
            let g = &re.gate;
            if !g.last_char_may_match(t) || !g.body_may_match(t) {
                continue;
            }
            if g.searches() {
                if !lowered {
                    sc.ascii.clear();
                    sc.ascii.extend_from_slice(b);
                    sc.ascii.make_ascii_lowercase();
                    lowered = true;
                }
                if !g.literals_may_match_lower(&sc.ascii) {
                    continue;
                }
            }
            if re.re.is_match(t) {
                best = Some(r);
                break;
            }
        }
        best
    }
}

/// The regexes of one rule (with their gates), those alike grouped to be merged into one
/// alternation: a line then takes one literal search and at most one lazy-DFA run for all of
/// them instead of one each (the five author-bio patterns, one per language, were a tenth of
/// the stage). Alike: the same first- and last-byte gates and no body gate, so the merged
/// pattern's gate (computed from it: the union of the literal sets) rejects what each of
/// theirs did. Order inside a rule does not matter (a line matches the rule or not).
fn alike_groups(patterns: Vec<(&str, Gate)>) -> Vec<Vec<(&str, Gate)>> {
    let mut groups: Vec<Vec<(&str, Gate)>> = Vec::new();
    for (p, g) in patterns {
        let alike = |o: &Gate| {
            g.body.is_none() && o.body.is_none() && g.first == o.first && g.last == o.last
        };
        match groups.iter_mut().find(|v| alike(&v[0].1)) {
            Some(v) => v.push((p, g)),
            None => groups.push(vec![(p, g)]),
        }
    }
    groups
}

/// One group of [`alike_groups`] compiled: merged, or apart (with the gates already
/// computed) when it is one pattern or the merge does not compile (duplicate group names);
/// a pattern that does not compile comes back with its error.
fn compile_group(group: &[(&str, Gate)]) -> Result<Vec<GatedRegex>, (String, regex::Error)> {
    if group.len() > 1 {
        let merged: Vec<String> = group.iter().map(|(p, _)| format!("(?:{p})")).collect();
        if let Ok(re) = GatedRegex::new(&merged.join("|")) {
            return Ok(vec![re]);
        }
    }
    group
        .iter()
        .map(|(p, g)| GatedRegex::with_gate(p, g.clone()).map_err(|e| (p.to_string(), e)))
        .collect()
}

/// `f` of every item, on as many threads as there are cores (each taking the next item
/// left); the results in item order, one per item. Why: the start of a run is compiling the rule regexes
/// and computing their gates (Unicode classes under counted repeats, case folding), and
/// done one after the other it left the other core idle. Not the worker pool: the stages
/// are built before it.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(k) else {
                return done;
            };
            done.push((k, f(item)));
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in others {
            // a panic in `f` is the caller's, as if it had run here: never a result missing
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    all.sort_by_key(|(k, _)| *k);
    all.into_iter().map(|(_, r)| r).collect()
}

fn prefix_norm(p: &str) -> String {
    p.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn set() -> RuleSet {
        RuleSet::compile(&builtin_rules().unwrap()).unwrap()
    }

    fn rule_of(s: &RuleSet, line: &str) -> Option<String> {
        let mut n = Scratch::default();
        s.matches(line, line.trim().chars().count(), &mut n)
            .map(|r| s.name(r).to_string())
    }

    /// One result per item, in item order, whichever thread computed it; a panic in one
    /// item reaches the caller instead of leaving a result out.
    #[test]
    fn par_map_keeps_order_and_panics() {
        let items: Vec<u64> = (0..1000).collect();
        let out = par_map(&items, |&x| {
            if x % 97 == 0 {
                std::thread::yield_now();
            }
            x * x
        });
        assert_eq!(out, items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(par_map(&[] as &[u64], |&x| x).is_empty());
        let caught = std::panic::catch_unwind(|| {
            par_map(&items, |&x| {
                assert!(x != 500, "item 500");
                x
            })
        });
        assert!(caught.is_err());
    }

    #[test]
    fn alike_regexes_of_a_rule_are_merged_and_match_as_before() {
        let pats = [
            r"^(?:\p{Lu}\w+\s){1,2}is\s+a\s+writer",
            r"^(?:\p{Lu}\w+\s){1,2}ist\s+Redakteur",
            r"(?i)\(photo\)$",
        ];
        let pats: Vec<String> = pats.iter().map(|p| p.to_string()).collect();
        let with_gates = pats.iter().map(|p| (p.as_str(), Gate::new(p))).collect();
        let merged: Vec<GatedRegex> = alike_groups(with_gates)
            .iter()
            .flat_map(|g| compile_group(g).unwrap())
            .collect();
        // the two anchored at the start with the same gates become one; the third stays
        assert_eq!(merged.len(), 2);
        let singles: Vec<Regex> = pats.iter().map(|p| Regex::new(p).unwrap()).collect();
        let mut hays = crate::stages::boilerplate::gate::tests::sample_hays();
        hays.extend(
            [
                "Jane Doe is a writer",
                "Max Muster ist Redakteur",
                "a (PHOTO)",
            ]
            .map(String::from),
        );
        let mut hits = 0;
        for h in &hays {
            let want = singles.iter().any(|r| r.is_match(h));
            hits += want as usize;
            assert_eq!(merged.iter().any(|r| r.is_match(h)), want, "{h:?}");
        }
        assert!(hits >= 3);
        // every built-in rule's merged patterns keep the gate property
        for s in builtin_rules().unwrap() {
            if s.regex.len() > 1 {
                let alt: Vec<String> = s.regex.iter().map(|p| format!("(?:{p})")).collect();
                crate::stages::boilerplate::gate::tests::check_gate(&alt.join("|"), &hays);
            }
        }
    }

    #[test]
    fn counting_ascii_letters_and_digits() {
        assert!(!ascii_alnum_over(b"Privacy Policy", 13));
        assert!(ascii_alnum_over(b"Privacy Policy", 12));
        assert!(!ascii_alnum_over("— Контакты —".as_bytes(), 0));
        let long = "word ".repeat(200);
        assert!(ascii_alnum_over(long.as_bytes(), 799) && !ascii_alnum_over(long.as_bytes(), 800));
    }

    #[test]
    fn normalises_outer_punctuation_and_case() {
        let mut o = String::new();
        normalise_into("  - Advertisment -  ", &mut o);
        assert_eq!(o, "advertisment");
        normalise_into("You   might\u{a0}also like:", &mut o);
        assert_eq!(o, "you might also like");
    }

    #[test]
    fn builtin_packs_parse_and_compile() {
        let specs = builtin_rules().unwrap();
        assert!(specs.len() >= 10);
        let s = set();
        assert!(s.longest >= 300);
    }

    #[test]
    fn ads_in_several_languages_and_misspelt() {
        let s = set();
        for l in [
            "- Advertisment -",
            "- Advertisement -",
            "ADVERTISEMENT",
            "Реклама",
            "Anzeige",
            "Publicité",
            "Publicidad",
            "Pubblicità",
            "Reklama",
            "إعلان",
            "广告",
        ] {
            assert_eq!(rule_of(&s, l).as_deref(), Some("ad-label"), "{l}");
        }
        assert_eq!(
            rule_of(
                &s,
                "The advertisement ran on national television for three weeks in a row."
            ),
            None
        );
    }

    #[test]
    fn comment_forms() {
        let s = set();
        for l in [
            "Please enter your comment!",
            "Please enter your name here",
            "Leave a Reply",
            "Your email address will not be published.",
            "Оставить комментарий",
            "Lascia un commento",
            "Deixe um comentário",
            "Ihre E-Mail-Adresse wird nicht veröffentlicht.",
            "12 Comments",
        ] {
            assert_eq!(rule_of(&s, l).as_deref(), Some("comment-form"), "{l}");
        }
    }

    #[test]
    fn related_blocks() {
        let s = set();
        for l in [
            "Latest news",
            "Must read",
            "You might also likeRELATED",
            "Recommended to you",
            "Читайте также:",
            "Leia também",
            "Czytaj także",
            "Lire aussi",
            "اقرأ أيضا",
        ] {
            assert_eq!(rule_of(&s, l).as_deref(), Some("related-links"), "{l}");
        }
        assert_eq!(rule_of(&s, "Read more about how the council spent the money in our earlier report, published last week."), None);
    }

    #[test]
    fn chrome_and_media() {
        let s = set();
        assert_eq!(
            rule_of(&s, "RU\u{a0} UA\u{a0} EN").as_deref(),
            Some("language-switcher")
        );
        assert_eq!(
            rule_of(&s, "DE | EN | FR").as_deref(),
            Some("language-switcher")
        );
        assert_eq!(rule_of(&s, "ugc_banner").as_deref(), Some("ui-token"));
        assert_eq!(rule_of(&s, "main img").as_deref(), Some("ui-token"));
        assert_eq!(
            rule_of(&s, "Home > World > Europe").as_deref(),
            Some("breadcrumb")
        );
        assert_eq!(
            rule_of(&s, "648x415 secretaire general otan ministre").as_deref(),
            Some("image-name")
        );
        assert_eq!(
            rule_of(&s, "Story highlights").as_deref(),
            Some("highlights-label")
        );
        assert_eq!(
            rule_of(&s, "Watch:\u{a0}Ukraine-Russia Tensions: Is War Imminent").as_deref(),
            Some("video-prompt")
        );
        assert_eq!(
            rule_of(&s, "The minister and his counterpart – John Smith / AFP").as_deref(),
            Some("photo-credit")
        );
        assert_eq!(
            rule_of(&s, "Фото: пресс-служба").as_deref(),
            Some("photo-credit")
        );
        assert_eq!(
            rule_of(
                &s,
                "A row of new cars sits at a dealership in a small town, Colo. (AP Photo/Jane Doe)"
            )
            .as_deref(),
            Some("photo-caption")
        );
        assert_eq!(
            rule_of(
                &s,
                "Die Hafenmauer nach dem Sturm am Dienstag. (Foto: Max Muster)"
            )
            .as_deref(),
            Some("photo-caption")
        );
        assert_eq!(rule_of(&s, "Workers repair the harbour wall in Gdansk, Poland, March 3, 2023. Photograph:(Reuters)").as_deref(), Some("photo-caption"));
        assert!(
            rule_of(&s, "Рабочие ремонтируют причал после шторма. Фото: ТАСС")
                .is_some_and(|r| r.starts_with("photo-"))
        );
        // prose that merely mentions a photo is not a caption
        assert_eq!(rule_of(&s, "The museum said the photo: a portrait of the mayor, would be shown next year at the harbour exhibition.").as_deref(), None);
        assert_eq!(rule_of(&s, "Avoid the error of 2014"), None);
        assert_eq!(
            rule_of(&s, "Tempo de leitura: 1 minuto").as_deref(),
            Some("reading-time")
        );
        assert_eq!(rule_of(&s, "5 min read").as_deref(), Some("reading-time"));
        assert_eq!(
            rule_of(&s, "Время чтения: 3 минуты").as_deref(),
            Some("reading-time")
        );
        assert_eq!(
            rule_of(
                &s,
                "We use cookies to improve your experience. By continuing to browse you agree."
            )
            .as_deref(),
            Some("cookie-banner")
        );
        assert_eq!(
            rule_of(&s, "Folgen Sie uns auf Twitter").as_deref(),
            Some("share-follow")
        );
        assert_eq!(
            rule_of(&s, "Facebook Twitter WhatsApp Email").as_deref(),
            Some("share-follow")
        );
        assert_eq!(
            rule_of(&s, "© 2024 Example Media. All rights reserved.").as_deref(),
            Some("legal-footer")
        );
    }

    /// The masked regex path (at most 64 regexes) and the plain one (more) give the same
    /// rule as trying every regex without gates, on the gate test lines.
    #[test]
    fn regex_masks_agree_with_trying_every_regex() {
        let specs = builtin_rules().unwrap();
        let masked = set();
        assert!(masked.masks.is_some());
        let mut many = specs.clone();
        many.push(RuleSpec {
            name: "padding".into(),
            regex: (0..64).map(|i| format!("^zz{i}q$")).collect(),
            ..Default::default()
        });
        let plain = RuleSet::compile(&many).unwrap();
        assert!(plain.masks.is_none());
        let raw: Vec<(Regex, usize, usize)> = specs
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.regex.iter().map(move |r| {
                    (
                        Regex::new(r).unwrap(),
                        i,
                        s.max_chars.unwrap_or(DEFAULT_MAX_CHARS),
                    )
                })
            })
            .collect();
        let mut sc = Scratch::default();
        let mut hits = 0;
        for h in super::super::gate::tests::sample_hays() {
            let t = h.trim();
            let chars = t.chars().count();
            if chars == 0 || chars > masked.longest {
                continue;
            }
            let a = masked.matches(t, chars, &mut sc);
            let b = plain.matches(t, chars, &mut sc);
            assert_eq!(a, b, "{t:?}");
            // no phrase rule: the regexes alone decide
            if let Some(r) = a {
                if masked.regex_rule.contains(&r)
                    && specs[r].lines.is_empty()
                    && specs[r].prefixes.is_empty()
                    && specs[r].contains.is_empty()
                {
                    let first = raw
                        .iter()
                        .find(|(re, _, mc)| chars <= *mc && re.is_match(t))
                        .map(|x| x.1);
                    assert_eq!(first, Some(r), "{t:?}");
                    hits += 1;
                }
            }
        }
        assert!(hits > 100, "{hits}");
    }

    #[test]
    fn gallery_counters_and_headlines_behind_a_label() {
        let s = set();
        for l in [
            "Image 3 of 12",
            "Image 1 of / 8",
            "1  /  8",
            "Фото 2 из 5",
            "Photo 4/9",
        ] {
            assert_eq!(rule_of(&s, l).as_deref(), Some("gallery-counter"), "{l}");
        }
        for l in [
            "Related:\u{a0}SpaceX's Starship and Super Heavy Mars Rocket in Pictures",
            "Читайте также: Власти города обещают открыть новый мост через реку к концу года",
        ] {
            assert_eq!(rule_of(&s, l).as_deref(), Some("related-headline"), "{l}");
        }
        for l in [
            "The vote was 1 of 3 today",
            "Related news travelled fast through the town that morning, said the mayor.",
        ] {
            assert_eq!(rule_of(&s, l), None, "{l}");
        }
    }

    #[test]
    fn a_phrase_of_two_rules_is_found_for_both() {
        let rule = |name: &str, max: usize| RuleSpec {
            name: name.into(),
            max_chars: Some(max),
            prefixes: vec!["see also:".into()],
            contains: vec!["sponsored by".into()],
            ..Default::default()
        };
        let s = RuleSet::compile(&[rule("short", 20), rule("long", 100)]).unwrap();
        assert_eq!(rule_of(&s, "See also: Rates").as_deref(), Some("short"));
        let long = "See also: the long headline of another story on rates";
        assert_eq!(rule_of(&s, long).as_deref(), Some("long"));
        let long = "This page of the story on rates is sponsored by a bank";
        assert_eq!(rule_of(&s, long).as_deref(), Some("long"));
        assert_eq!(rule_of(&s, "Sponsored by a bank").as_deref(), Some("short"));
    }

    #[test]
    fn extra_rules_extend_replace_and_disable() {
        let base = builtin_rules().unwrap();
        let extra = vec![
            RuleSpec {
                name: "house-ads".into(),
                lines: vec!["Buy our mugs".into()],
                ..Default::default()
            },
            RuleSpec {
                name: "ad-label".into(),
                lines: vec!["werbeblock".into()],
                ..Default::default()
            },
        ];
        let merged = merge_rules(base.clone(), &extra, &["related-links".to_string()]).unwrap();
        let s = RuleSet::compile(&merged).unwrap();
        assert_eq!(rule_of(&s, "Buy our mugs!").as_deref(), Some("house-ads"));
        assert_eq!(rule_of(&s, "Werbeblock").as_deref(), Some("ad-label"));
        assert_eq!(rule_of(&s, "Advertisement").as_deref(), Some("ad-label"));
        assert_eq!(rule_of(&s, "Latest news"), None);
        let replaced = merge_rules(
            base,
            &[RuleSpec {
                name: "ad-label".into(),
                lines: vec!["only this".into()],
                replace: true,
                ..Default::default()
            }],
            &[],
        )
        .unwrap();
        let s = RuleSet::compile(&replaced).unwrap();
        assert_eq!(rule_of(&s, "Advertisement"), None);
        assert!(RuleSet::compile(&[RuleSpec {
            name: "x".into(),
            regex: vec!["(".into()],
            ..Default::default()
        }])
        .is_err());
    }
}
