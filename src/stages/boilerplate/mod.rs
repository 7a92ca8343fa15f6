//! `boilerplate` stage: removes the lines of a text that are not the article (menus, ads,
//! banners, share/follow prompts, comment forms, related-story lists, captions, credits,
//! footers), keeping body paragraphs and subheads.
//!
//! Each non-blank line (a block: a dump line or a paragraph) is classified in three steps:
//! 1. **rules** ([`rules`]): named phrase/regex packs (data files, overridable); bylines,
//!    timestamps ([`fields`]); lines repeated across documents of the same source in the
//!    batch. A hit removes the line under the rule's name.
//! 2. **statistics** (jusText's idea, own design): length, stop-word density in the
//!    document's language ([`lang`]), sentence punctuation, capitalisation. A line is
//!    `good` (prose), `near` (could be prose), `short`, or `bad` (no prose).
//! 3. **context**: `near` and `short` lines take the class of their neighbours (a subhead
//!    between two paragraphs stays; a short line among menu items goes), and the edges of
//!    the document count as boilerplate. The headline right before the body is kept for the
//!    `title` stage.
//!
//! ```toml
//! [stages.boilerplate]
//! disable_rules = ["share-follow"]       # built-in rule names to switch off
//! repeat_min_docs = 3                    # a line in >= 3 docs of one source is boilerplate (0: off)
//! min_good_chars = 80                    # shortest line that can be prose on its own
//! stopword_density = 0.2                 # minimum share of stop words in prose
//! keep_headline = true                   # keep the headline line before the body
//! fields = true                          # bylines/datelines/timestamps to fields
//! tail_min_body_chars = 300              # after this much body, a comment form ends the article
//! teaser_min_pairs = 4                   # (heading, one paragraph) x 4 is a teaser grid
//! clean_share = 0.75                     # mostly-prose text: statistics only trim the edges
//!
//! [[stages.boilerplate.extra_rules]]     # add a rule, or extend a built-in one of that name
//! name = "house-ads"
//! lines = ["Buy the print edition"]      # whole line (case/outer punctuation ignored)
//! prefixes = ["Support our journalism"]  # line starts with
//! contains = ["promo code"]              # line contains
//! regex = ['^Sponsored by \w+$']         # on the trimmed line
//! max_chars = 120                        # never match longer lines
//! replace = false                        # true: replace the built-in rule of that name
//! ```

pub mod fields;
pub mod gate;
pub mod lang;
mod memo;
pub mod rules;
pub mod unwrap;

use std::borrow::Cow;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::document::{split_lines, trim_line, Document, Reject};
use crate::error::ConfigError;
use crate::stages::{BatchState, DocStage};

use lang::{Lang, StopWords};
use memo::{LineFacts, Memo};
use rules::{RuleSet, RuleSpec};

const STAGE: &str = "boilerplate";

/// `[stages.boilerplate]` options.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Names of built-in rules to switch off (e.g. `["share-follow"]`).
    pub disable_rules: Vec<String>,
    /// Extra rules (`name`, `lines`, `prefixes`, `contains`, `regex`, `max_chars`, `replace`);
    /// a rule named like a built-in one extends it (or replaces it with `replace = true`).
    pub extra_rules: Vec<RuleSpec>,
    /// A line found in at least this many documents of the same source in a batch is
    /// boilerplate (0 switches the signal off).
    pub repeat_min_docs: usize,
    /// Shortest line (characters) that counts as prose on its own.
    pub min_good_chars: usize,
    /// Lines shorter than this (characters) are `short`: they follow their neighbours.
    pub max_short_chars: usize,
    /// Minimum stop-word density of prose (languages with a list).
    pub stopword_density: f64,
    /// Keep the headline line just before the body (for the `title` stage).
    pub keep_headline: bool,
    /// Turn bylines, datelines and timestamps into `fields` (else they are only removed).
    pub fields: bool,
    /// Body text (characters) after which a comment form, legal footer or a block of
    /// related/share/newsletter lines ends the article (0: never cut the tail).
    pub tail_min_body_chars: usize,
    /// A run of this many (heading, single paragraph) pairs is a teaser list (0: off).
    pub teaser_min_pairs: usize,
    /// A text whose characters are at least this share prose (first pass) is treated as
    /// already clean: statistical signals then only trim its edges.
    pub clean_share: f64,
    /// Join hard-wrapped paragraphs (lines broken at a fixed width) into one line each
    /// before classifying (counted as `unwrap`); a one-block-per-line dump is never joined.
    pub unwrap: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            disable_rules: Vec::new(),
            extra_rules: Vec::new(),
            repeat_min_docs: 3,
            min_good_chars: 80,
            max_short_chars: 40,
            stopword_density: 0.2,
            keep_headline: true,
            fields: true,
            tail_min_body_chars: 300,
            teaser_min_pairs: 4,
            clean_share: 0.75,
            unwrap: true,
        }
    }
}

impl Config {
    pub fn build(&self) -> Result<Stage, ConfigError> {
        if !(0.0..=1.0).contains(&self.clean_share) {
            return Err(ConfigError::invalid(
                "stages.boilerplate.clean_share",
                "must be between 0 and 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.stopword_density) {
            return Err(ConfigError::invalid(
                "stages.boilerplate.stopword_density",
                "must be between 0 and 1",
            ));
        }
        if self.max_short_chars > self.min_good_chars {
            return Err(ConfigError::invalid(
                "stages.boilerplate.max_short_chars",
                "must not exceed min_good_chars",
            ));
        }
        // Why threads of their own: the memo's 32 MB of slots took the start of a run half of
        // its time with the other core idle, and the field patterns (byline, dateline, dates)
        // compiled on this thread after the rules; both are made while the rules compile.
        let memo = std::thread::spawn(Memo::default);
        let fields = std::thread::spawn(fields::init);
        let builtin = rules::builtin_rules()?;
        for d in &self.disable_rules {
            if !builtin.iter().any(|r| &r.name == d)
                && !self.extra_rules.iter().any(|r| &r.name == d)
            {
                return Err(ConfigError::invalid(
                    "stages.boilerplate.disable_rules",
                    format!("no rule named `{d}`"),
                ));
            }
        }
        let specs = rules::merge_rules(builtin, &self.extra_rules, &self.disable_rules)?;
        let rules = RuleSet::compile(&specs)?;
        if fields.join().is_err() {
            fields::init();
        }
        Ok(Stage {
            cfg: self.clone(),
            rules,
            stop: StopWords::builtin(),
            memo: memo.join().unwrap_or_default(),
        })
    }
}

pub struct Stage {
    cfg: Config,
    rules: RuleSet,
    stop: StopWords,
    /// What each line says by itself, remembered across documents and threads.
    memo: Memo,
}

/// Per-batch state: for each source, hashes of lines repeated in enough of its documents.
struct Repeats {
    by_source: FxHashMap<String, FxHashSet<u64>>,
}

/// [`Stage::clean`]'s buffers, kept by each worker thread from one document to the next. Why:
/// made afresh, they were allocated and grown by doubling (the per-line facts, a hundred
/// bytes a line; the rule scratch strings) for every document.
#[derive(Default)]
struct CleanBufs {
    scratch: rules::Scratch,
    buf: String,
    keys: Vec<u128>,
    long: Vec<u64>,
    facts: Vec<LineFacts>,
}

/// Lines of the largest document whose [`CleanBufs`] a thread keeps (about 8 MB of them).
const KEEP_LINES: usize = 1 << 16;

thread_local! {
    static CLEAN_BUFS: std::cell::RefCell<CleanBufs> = std::cell::RefCell::default();
}

/// A line's hash: the low half of its memo key ([`memo::key`], computed once for both).
fn line_hash(line: &str) -> u64 {
    memo::key(trim_line(line)) as u64
}

/// Removal signals that come from statistics and context, not from a named rule.
const STATISTICAL: &[&str] = &[
    "no-prose",
    "short-line",
    "link-like",
    "headline-list",
    "teaser-list",
];

/// How a line was classified.
#[derive(Debug, Clone, PartialEq)]
enum Class {
    Blank,
    Good,
    Near,
    Short,
    /// Removed, with the rule or signal name.
    Bad(Cow<'static, str>),
    /// The headline kept for `title`.
    Headline,
}

impl Class {
    fn kept(&self) -> bool {
        matches!(self, Class::Good | Class::Headline)
    }
}

/// Line statistics used by the classifier.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    /// Length in Latin-letter terms (CJK characters count more).
    chars: usize,
    words: u32,
    /// Share of stop words (in the document language) among the (sampled) tokens.
    density: f64,
    /// Ends like a sentence (`.`, `!`, `?`, `…`, CJK full stops, maybe before a closing quote).
    sentence_end: bool,
    /// Share of capitalised words among words that have case.
    title_case: f32,
}

impl DocStage for Stage {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn prepare(&self, batch: &[&Document]) -> Option<BatchState> {
        let min = self.cfg.repeat_min_docs;
        if min < 2 {
            return None;
        }
        // the documents of each source with enough of them, in first-seen order
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut groups: Vec<(&str, Vec<&Document>)> = Vec::new();
        for d in batch {
            let k = *index.entry(d.source.as_str()).or_insert_with(|| {
                groups.push((d.source.as_str(), Vec::new()));
                groups.len() - 1
            });
            groups[k].1.push(d);
        }
        groups.retain(|(_, docs)| docs.len() >= min);
        // Why parallel: hashing every line of the batch on one thread (the other waiting)
        // was a tenth of the stage. Each source is counted on its own (line hash -> number
        // of its documents containing the line, and the last of them, so that a line twice in
        // one document counts once); the sets do not depend on the order. Why not in parallel
        // inside a source too: measured on a dump from one site (40,000 documents), one map
        // filled in order took 0.05 s, the former per-document sorted vectors counted in
        // parallel 0.07 s, parts of 32 documents counted in parallel and merged 0.1 s.
        let sets: Vec<(&str, FxHashSet<u64>)> = groups
            .par_iter()
            .map(|(src, docs)| {
                let mut counts: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
                for (i, d) in docs.iter().enumerate() {
                    for line in split_lines(&d.text) {
                        if trim_line(line).is_empty() {
                            continue;
                        }
                        let (n, last) = counts.entry(line_hash(line)).or_insert((0, u32::MAX));
                        if *last != i as u32 {
                            *n += 1;
                            *last = i as u32;
                        }
                    }
                }
                let set: FxHashSet<u64> = counts
                    .into_iter()
                    .filter(|&(_, (n, _))| n as usize >= min)
                    .map(|(h, _)| h)
                    .collect();
                (*src, set)
            })
            .collect();
        let by_source: FxHashMap<String, FxHashSet<u64>> = sets
            .into_iter()
            .filter(|(_, set)| !set.is_empty())
            .map(|(s, set)| (s.to_string(), set))
            .collect();
        if by_source.is_empty() {
            None
        } else {
            Some(Box::new(Repeats { by_source }))
        }
    }

    fn apply(&self, doc: &mut Document, batch: Option<&BatchState>) -> Result<(), Reject> {
        let repeats = batch
            .and_then(|b| b.downcast_ref::<Repeats>())
            .and_then(|r| r.by_source.get(&doc.source));
        let title = doc.title.clone();
        let mut text = std::mem::take(&mut doc.text);
        if self.cfg.unwrap {
            let (joined, n) = unwrap::unwrap(&text);
            if n > 0 {
                doc.log.count(STAGE, "unwrap", n);
                text = joined.into_owned();
            }
        }
        let out = self.clean(&text, title.as_deref(), repeats, doc);
        doc.text = out.unwrap_or(text);
        Ok(())
    }
}

impl Stage {
    /// Classify and filter `text`; `None` when nothing changed.
    fn clean(
        &self,
        text: &str,
        title: Option<&str>,
        repeats: Option<&FxHashSet<u64>>,
        doc: &mut Document,
    ) -> Option<String> {
        let lines: Vec<&str> = split_lines(text).collect();
        let mut classes = Vec::with_capacity(lines.len());
        let mut stats = Vec::with_capacity(lines.len());
        let CleanBufs {
            mut scratch,
            mut buf,
            mut keys,
            mut long,
            mut facts,
        } = CLEAN_BUFS.with_borrow_mut(std::mem::take);
        // each line's trimmed text and memo key (its low half the line hash), computed once
        let trimmed: Vec<&str> = lines.iter().map(|l| trim_line(l)).collect();
        keys.clear();
        keys.extend(
            trimmed
                .iter()
                .map(|t| if t.is_empty() { 0 } else { memo::key(t) }),
        );
        // ask for the memo slots of the lines now; the work that needs only the keys comes
        // first, while they arrive
        for (t, &k) in trimmed.iter().zip(&keys) {
            if !t.is_empty() {
                self.memo.prefetch(t, k);
            }
        }
        // lines that repeat inside a source: only when this document is not itself mostly
        // repeated (a duplicate document is dedup's business, not ours)
        let repeats = repeats.filter(|set| {
            let (mut n, mut r) = (0usize, 0usize);
            for (t, &k) in trimmed.iter().zip(&keys) {
                if !t.is_empty() {
                    n += 1;
                    if set.contains(&(k as u64)) {
                        r += 1;
                    }
                }
            }
            r * 10 < n * 6
        });

        // lines three or more times in this document (gallery captions, repeated teasers;
        // repeated sentences, as in a series of interviews, are content); counted on the
        // sorted hashes of the lines of 20 bytes or more
        long.clear();
        long.extend(
            trimmed
                .iter()
                .zip(&keys)
                .filter(|(t, _)| t.len() >= 20)
                .map(|(_, &k)| k as u64),
        );
        long.sort_unstable();
        let any_triple = long.windows(3).any(|w| w[0] == w[2]);
        let repeated_here = |t: &str, h: u64| {
            any_triple
                && t.len() >= 20
                && long.partition_point(|&x| x <= h) - long.partition_point(|&x| x < h) >= 3
        };

        // what each line says by itself (remembered across documents: see `memo`), then the
        // language: from the hits of all lines when the text is its own language sample
        facts.clear();
        facts.extend(trimmed.iter().zip(&keys).map(|(t, &k)| {
            if t.is_empty() {
                LineFacts::default()
            } else {
                self.memo
                    .facts(t, k, |t| self.line_facts(t, &mut buf, &mut scratch))
            }
        }));
        let lang = if StopWords::can_tally(text) {
            let mut hits = [0u32; 32];
            for f in &facts {
                for (h, n) in hits.iter_mut().zip(f.hits) {
                    *h += n as u32;
                }
            }
            lang::lang_of_hits(&hits)
        } else {
            self.stop.detect(text)
        };

        for (i, &t) in trimmed.iter().enumerate() {
            if t.is_empty() {
                classes.push(Class::Blank);
                stats.push(Stats::default());
                continue;
            }
            let f = &facts[i];
            let counts = match lang {
                Lang::Chinese | Lang::Japanese => self.stop.count(t, lang, &mut buf),
                _ => f.tally.counts(lang),
            };
            let st = self.stats(f, lang, counts);
            stats.push(st);
            let hash = keys[i] as u64;
            if repeated_here(t, hash) && !st.sentence_end {
                classes.push(Class::Bad(Cow::Borrowed("repeated-in-doc")));
                continue;
            }
            classes.push(self.first_pass(t, hash, f, &st, lang, repeats, doc));
        }

        // no prose at all by the stop-word measure (tables, scores, an unknown language):
        // judge by length and punctuation alone rather than remove everything
        if !classes.contains(&Class::Good) {
            for (c, st) in classes.iter_mut().zip(&stats) {
                if matches!(c, Class::Near | Class::Short)
                    || matches!(c, Class::Bad(r) if r == "no-prose")
                {
                    *c = self.quality(st, Lang::Unknown);
                }
            }
        }
        // Already-clean text (extract's output, a corpus record): mostly prose by the first
        // pass. There the statistical signals only trim the edges; rules still apply.
        let (mut good_chars, mut all_chars) = (0usize, 0usize);
        for (c, st) in classes.iter().zip(&stats) {
            all_chars += st.chars;
            if *c == Class::Good {
                good_chars += st.chars;
            }
        }
        let clean_input = doc.format == crate::document::Format::Html
            || (all_chars > 0 && good_chars as f64 >= self.cfg.clean_share * all_chars as f64);
        self.smooth(&mut classes, &stats);
        self.cut_tail(&mut classes, &stats);
        if clean_input {
            // interior lines the statistics (not a rule) removed are put back; for an HTML
            // page, whose main content `extract` already chose, the edges stay as well
            // (lists of dates or results often end an article): only rules apply there
            let html = doc.format == crate::document::Format::Html;
            let first = if html {
                Some(0)
            } else {
                classes.iter().position(|c| c.kept())
            };
            let last = if html {
                Some(classes.len().saturating_sub(1))
            } else {
                classes.iter().rposition(|c| c.kept())
            };
            if let (Some(a), Some(b)) = (first, last.filter(|&b| b < classes.len())) {
                for c in &mut classes[a.min(b)..=b] {
                    if matches!(c, Class::Bad(r) if STATISTICAL.contains(&r.as_ref()) || html && r == "repeated-in-doc")
                    {
                        *c = Class::Good;
                    }
                }
            }
        } else {
            self.teaser_lists(&mut classes, &stats);
        }
        // a short document (a one-paragraph record) has no line long enough to be prose on
        // its own: keep its sentence-like lines rather than empty it
        if !classes.iter().any(Class::kept) {
            for (c, st) in classes.iter_mut().zip(&stats) {
                if st.sentence_end
                    && st.chars >= self.cfg.max_short_chars
                    && matches!(c, Class::Bad(r) if STATISTICAL.contains(&r.as_ref()))
                {
                    *c = Class::Good;
                }
            }
        }
        if self.cfg.keep_headline {
            self.mark_headline(&mut classes, &stats, &lines, title);
        }

        // build the output; strip a dateline off the first kept paragraph
        let mut out = crate::document::TextBuilder::with_capacity(text.len());
        let mut changed = false;
        let mut body_lines = 0usize;
        for (i, (l, c)) in lines.iter().zip(&classes).enumerate() {
            match c {
                Class::Blank => {
                    out.blank();
                    continue;
                }
                Class::Bad(rule) => {
                    changed = true;
                    doc.log.removed(STAGE, rule.clone(), i + 1, l.trim());
                    continue;
                }
                // smoothing resolves every near/short line; were one left, it is kept
                Class::Good | Class::Headline | Class::Near | Class::Short => {}
            }
            let mut line: &str = l.trim_end();
            if *c == Class::Good && body_lines < 3 {
                body_lines += 1;
                if let Some(cut) = fields::dateline(line.trim_start()) {
                    let lead = line.trim_start();
                    if self.cfg.fields && !doc.fields.contains_key("dateline") {
                        let d = lead[..cut]
                            .trim()
                            .trim_end_matches(['-', '–', '—', ':'])
                            .trim();
                        doc.fields.insert("dateline".into(), d.to_string());
                    }
                    doc.log.count(STAGE, "dateline", 1);
                    line = &lead[cut..];
                    changed = true;
                }
            }
            out.line(line);
        }
        // kept for the next document unless a giant one made them big
        if facts.capacity() <= KEEP_LINES {
            CLEAN_BUFS.with_borrow_mut(|b| {
                *b = CleanBufs {
                    scratch,
                    buf,
                    keys,
                    long,
                    facts,
                }
            });
        }
        if changed || out.len() != text.len() {
            Some(out.finish())
        } else {
            None
        }
    }

    /// The facts of the trimmed non-blank line `t` that depend on it alone ([`memo`]):
    /// its token tally, length and sentence end, and the rule, byline or timestamp it is.
    fn line_facts(&self, t: &str, buf: &mut String, sc: &mut rules::Scratch) -> LineFacts {
        let mut hits = [0u32; 32];
        let tally = self.stop.tally(t, &mut hits, buf);
        let chars = t.chars().count();
        let last = t.trim_end_matches(|c: char| {
            matches!(
                c,
                '"' | '\'' | '”' | '’' | '»' | '“' | ')' | ']' | '」' | '』'
            )
        });
        let sentence_end = last.ends_with(['.', '!', '?', '…', '。', '！', '？', '؟', '।']);
        let rule = self.rules.matches(t, chars, sc);
        let (byline, timestamp) = if rule.is_none() {
            let at = |n: &str| {
                let a = n.as_ptr() as usize - t.as_ptr() as usize;
                (a as u32, (a + n.len()) as u32)
            };
            (
                fields::byline_trimmed(t, chars).map(at),
                fields::timestamp(t),
            )
        } else {
            (None, false)
        };
        let mut f = LineFacts {
            tally,
            chars: chars as u32,
            sentence_end,
            rule: rule.map(|r| r as u32),
            byline,
            timestamp,
            ..LineFacts::default()
        };
        for (h, &n) in f.hits.iter_mut().zip(&hits) {
            *h = n.min(u16::MAX as u32) as u16;
        }
        f
    }

    /// Statistics of a line from its facts `f` and its token counts `c` in `lang`.
    fn stats(&self, f: &LineFacts, lang: Lang, c: lang::LineCounts) -> Stats {
        let chars = f.chars as usize;
        // cased / upper-case word counts come from the same token pass as the stop words
        let (cased, upper) = (c.cased, c.upper);
        let title_case = if cased == 0 {
            0.0
        } else {
            upper as f32 / cased as f32
        };
        // a CJK character carries about as much as two or three Latin letters: length
        // thresholds are in Latin-letter terms
        let chars = match lang {
            Lang::Chinese | Lang::Japanese => chars * 5 / 2,
            _ => chars,
        };
        Stats {
            chars,
            words: c.words,
            density: c.density(),
            sentence_end: f.sentence_end,
            title_case,
        }
    }

    /// `t` is a trimmed non-blank line, `hash` its [`line_hash`], `f` its facts.
    #[allow(clippy::too_many_arguments)]
    fn first_pass(
        &self,
        t: &str,
        hash: u64,
        f: &LineFacts,
        st: &Stats,
        lang: Lang,
        repeats: Option<&FxHashSet<u64>>,
        doc: &mut Document,
    ) -> Class {
        if let Some(r) = f.rule {
            return Class::Bad(Cow::Borrowed(self.rules.name(r as usize)));
        }
        if let Some(set) = repeats {
            if set.contains(&hash) {
                return Class::Bad(Cow::Borrowed("repeated-in-source"));
            }
        }
        if let Some((a, b)) = f.byline {
            if self.cfg.fields && !doc.fields.contains_key("byline") {
                doc.fields
                    .insert("byline".into(), t[a as usize..b as usize].to_string());
            }
            return Class::Bad(Cow::Borrowed("byline"));
        }
        if f.timestamp {
            if self.cfg.fields && !doc.fields.contains_key("date") {
                doc.fields.insert("date".into(), t.to_string());
            }
            return Class::Bad(Cow::Borrowed("timestamp"));
        }
        self.quality(st, lang)
    }

    /// The statistical class of a line.
    fn quality(&self, st: &Stats, lang: Lang) -> Class {
        let density = st.density;
        let has_list = !matches!(lang, Lang::Unknown);
        let min_density = match lang {
            Lang::Japanese => self.cfg.stopword_density * 0.8,
            _ => self.cfg.stopword_density,
        };
        let dense = !has_list || density >= min_density;
        if st.chars < self.cfg.max_short_chars {
            return Class::Short;
        }
        if st.chars >= self.cfg.min_good_chars
            && dense
            && (st.sentence_end || st.chars >= 2 * self.cfg.min_good_chars)
        {
            return Class::Good;
        }
        if dense || st.sentence_end {
            return Class::Near;
        }
        Class::Bad(Cow::Borrowed("no-prose"))
    }

    /// Context smoothing: `near` and `short` lines follow their neighbours.
    fn smooth(&self, classes: &mut [Class], stats: &[Stats]) {
        // neighbour class, skipping blanks and lines for which `skip` holds; edges are bad
        fn neighbour(
            classes: &[Class],
            i: usize,
            back: bool,
            skip: &dyn Fn(&Class) -> bool,
        ) -> bool {
            let mut j = i;
            loop {
                if back {
                    if j == 0 {
                        return false;
                    }
                    j -= 1;
                } else {
                    j += 1;
                    if j >= classes.len() {
                        return false;
                    }
                }
                let c = &classes[j];
                if matches!(c, Class::Blank) || skip(c) {
                    continue;
                }
                return matches!(c, Class::Good);
            }
        }
        // 1. near lines: good if next to good text (skipping short and near lines)
        let skip_sn = |c: &Class| matches!(c, Class::Short | Class::Near);
        let mut new: Vec<Class> = classes.to_vec();
        for i in 0..classes.len() {
            if classes[i] == Class::Near {
                let p = neighbour(classes, i, true, &skip_sn);
                let n = neighbour(classes, i, false, &skip_sn);
                new[i] = if p || n {
                    if p && n || stats[i].sentence_end {
                        Class::Good
                    } else {
                        // next to body on one side only: prose-like lines stay
                        if stats[i].title_case < 0.6 {
                            Class::Good
                        } else {
                            Class::Bad(Cow::Borrowed("headline-list"))
                        }
                    }
                } else {
                    Class::Bad(Cow::Borrowed("link-like"))
                };
            }
        }
        classes.clone_from_slice(&new);
        // 2. short lines: good only between good text (subheads); skipping other short lines
        let skip_s = |c: &Class| matches!(c, Class::Short);
        for i in 0..classes.len() {
            if classes[i] == Class::Short {
                let p = neighbour(classes, i, true, &skip_s);
                let n = neighbour(classes, i, false, &skip_s);
                new[i] = if p && n && stats[i].words >= 2 {
                    Class::Good
                } else {
                    Class::Bad(Cow::Borrowed("short-line"))
                };
            }
        }
        classes.clone_from_slice(&new);
    }

    /// The end of the article: after some body text, a comment form or legal footer (or a
    /// run of removed lines with a related/share/newsletter block in it) closes the article;
    /// prose after it is comments, teasers or site blurbs.
    fn cut_tail(&self, classes: &mut [Class], stats: &[Stats]) {
        let min_mass = self.cfg.tail_min_body_chars;
        if min_mass == 0 {
            return;
        }
        let strong = |c: &Class| matches!(c, Class::Bad(r) if matches!(r.as_ref(), "comment-form" | "legal-footer"));
        // body text after each line, up to the next strong marker
        let mut after = vec![0usize; classes.len() + 1];
        for i in (0..classes.len()).rev() {
            after[i] = if strong(&classes[i]) {
                0
            } else if matches!(classes[i], Class::Good | Class::Headline | Class::Near) {
                after[i + 1] + stats[i].chars
            } else {
                after[i + 1]
            };
        }
        let mut mass = 0usize;
        let mut gap = 0usize;
        let mut gap_medium = false;
        let mut ended = false;
        for i in 0..classes.len() {
            match &classes[i] {
                Class::Blank => {}
                Class::Good | Class::Headline | Class::Near | Class::Short => {
                    // a related/share block ends the article only when less text follows
                    // it than came before (a box in the middle is followed by the rest)
                    if !ended && mass >= min_mass && gap_medium && gap >= 3 && after[i] < mass {
                        ended = true;
                    }
                    if ended {
                        classes[i] = Class::Bad(Cow::Borrowed("after-article"));
                    } else {
                        mass += stats[i].chars;
                        gap = 0;
                        gap_medium = false;
                    }
                }
                Class::Bad(rule) => {
                    gap += 1;
                    match rule.as_ref() {
                        "comment-form" | "legal-footer" if mass >= min_mass => ended = true,
                        "related-links" | "share-follow" | "newsletter" => gap_medium = true,
                        _ => {}
                    }
                }
            }
        }
    }

    /// Teaser lists: runs of (headline, one paragraph) pairs, as in "more stories" grids.
    /// An article's paragraphs come in runs; a teaser grid alternates a heading-like line
    /// (no sentence end) with a single paragraph, at least `teaser_min_pairs` times.
    fn teaser_lists(&self, classes: &mut [Class], stats: &[Stats]) {
        let min_pairs = self.cfg.teaser_min_pairs;
        if min_pairs == 0 {
            return;
        }
        let idx: Vec<usize> = (0..classes.len())
            .filter(|&i| classes[i] != Class::Blank)
            .collect();
        let prose = |i: usize| {
            classes[i] == Class::Good
                && stats[i].sentence_end
                && stats[i].chars >= self.cfg.max_short_chars
        };
        let heading = |i: usize| !stats[i].sentence_end;
        // positions k in idx where idx[k] is prose, idx[k-1] heading, idx[k+1] heading (or end)
        let n = idx.len();
        let mut isolated = vec![false; n];
        for k in 1..n {
            let next_heading = k + 1 >= n || heading(idx[k + 1]);
            isolated[k] = prose(idx[k]) && heading(idx[k - 1]) && next_heading;
        }
        // runs of isolated prose lines separated by 1..=3 heading lines
        let mut k = 0;
        let mut marks: Vec<(usize, usize)> = Vec::new();
        while k < n {
            if !isolated[k] {
                k += 1;
                continue;
            }
            let start = k;
            let mut last = k;
            let mut pairs = 1;
            let mut j = k + 1;
            while j < n {
                if isolated[j] {
                    pairs += 1;
                    last = j;
                    j += 1;
                } else if heading(idx[j]) && j - last <= 3 {
                    j += 1;
                } else {
                    break;
                }
            }
            // a grid follows an article at least as long as the grid; a list that is
            // most of the text (a deals post, a listicle) is the article
            let mass = |a: usize, b: usize| {
                idx[a..b]
                    .iter()
                    .filter(|&&i| classes[i].kept())
                    .map(|&i| stats[i].chars)
                    .sum::<usize>()
            };
            if pairs >= min_pairs && mass(0, start) >= mass(start, last + 1) {
                marks.push((start.saturating_sub(1), last));
            }
            k = last + 1;
        }
        // only a trailing grid: nothing but other grids (or no prose) after it
        let last_prose = (0..n).rev().find(|&k| prose(idx[k]));
        let mut keep_from = marks.len();
        for m in (0..marks.len()).rev() {
            let next_start = if m + 1 < keep_from { marks[m + 1].0 } else { n };
            let prose_between = (marks[m].1 + 1..next_start).any(|k| prose(idx[k]) && !isolated[k]);
            if prose_between
                || (m + 1 == marks.len() && last_prose.is_some_and(|lp| lp > marks[m].1))
            {
                break;
            }
            keep_from = m;
        }
        for &(a, b) in &marks[keep_from..] {
            for &i in &idx[a..=b] {
                if classes[i].kept() {
                    classes[i] = Class::Bad(Cow::Borrowed("teaser-list"));
                }
            }
        }
    }

    /// Keep the headline: the line right before the first body paragraph that looks like
    /// one (a few words, no final full stop), or the line equal to the known title.
    fn mark_headline(
        &self,
        classes: &mut [Class],
        stats: &[Stats],
        lines: &[&str],
        title: Option<&str>,
    ) {
        let Some(first) = classes.iter().position(|c| *c == Class::Good) else {
            return;
        };
        if let Some(t) = title {
            // the known title inside the text: keep it so that `title` can drop it exactly
            let t = t.trim();
            for j in (0..first).rev().take(12) {
                if lines[j].trim() == t {
                    classes[j] = Class::Headline;
                }
            }
            return;
        }
        let mut seen = 0;
        for j in (0..first).rev() {
            if classes[j] == Class::Blank {
                continue;
            }
            seen += 1;
            if seen > 6 {
                break;
            }
            let st = &stats[j];
            let removable = match &classes[j] {
                Class::Bad(r) => matches!(
                    r.as_ref(),
                    "short-line" | "link-like" | "headline-list" | "no-prose"
                ),
                _ => false,
            };
            if !removable {
                continue;
            }
            let t = lines[j].trim();
            // a social handle marks an author line, not a headline
            let handle = t
                .as_bytes()
                .windows(2)
                .any(|w| w[0] == b'@' && (w[1].is_ascii_alphanumeric() || w[1] == b'_'));
            if st.words >= 3
                && st.chars >= 15
                && st.chars <= 250
                && !t.ends_with('.')
                && !t.ends_with(':')
                && !handle
            {
                classes[j] = Class::Headline;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
