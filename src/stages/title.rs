//! `title` stage: the headline goes to `doc.title`, and not a second time into `doc.text`.
//!
//! * If the document already has a title (a JSONL/CSV record's own field, or the HTML
//!   headline found by `extract`), it wins: lines at the top of the text that are equal or
//!   nearly equal to it (case, punctuation, a section word in front, a truncated "..." copy)
//!   are removed.
//! * Otherwise the first real line of the text (run after `boilerplate`, which keeps the
//!   headline line) becomes the title when it looks like one: short, not a sentence-long
//!   paragraph, and followed by more text. Near-equal copies of it at the top go as well
//!   (dumps often carry the headline twice); of such copies the complete one (not cut off
//!   with "...") is chosen as the title.
//!
//! ```toml
//! [stages.title]
//! max_chars = 250      # longest line taken as a headline
//! top_lines = 4        # how many lines at the top are checked for copies of the title
//! similarity = 0.8     # word overlap (of the shorter line) that counts as "the same headline"
//! ```

use crate::document::{Document, Reject};
use crate::error::ConfigError;
use crate::stages::{BatchState, DocStage};

const STAGE: &str = "title";

/// `[stages.title]` options.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Longest first line (characters) that is taken as the headline.
    pub max_chars: usize,
    /// Number of non-blank lines at the top of the text checked for copies of the title.
    pub top_lines: usize,
    /// Share of the shorter line's words found in the other for two lines to be the same
    /// headline (0.5..=1).
    pub similarity: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_chars: 250,
            top_lines: 4,
            similarity: 0.8,
        }
    }
}

impl Config {
    pub fn build(&self) -> Result<Stage, ConfigError> {
        if !(0.5..=1.0).contains(&self.similarity) {
            return Err(ConfigError::invalid(
                "stages.title.similarity",
                "must be between 0.5 and 1",
            ));
        }
        if self.max_chars == 0 {
            return Err(ConfigError::invalid(
                "stages.title.max_chars",
                "must be at least 1",
            ));
        }
        Ok(Stage { cfg: self.clone() })
    }
}

pub struct Stage {
    cfg: Config,
}

/// Lower-cased word tokens.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// `words(s).len()` without building the words (runs of alphanumeric characters; ASCII
/// bytes are classified without decoding).
fn word_count(s: &str) -> usize {
    word_count_until(s, |_| false)
}

/// [`word_count`], stopping (and returning that count) as soon as `stop(count)` holds after
/// a word.
fn word_count_until(s: &str, stop: impl Fn(usize) -> bool) -> usize {
    let mut n = 0;
    let mut in_word = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let (alnum, len) = if b[i] < 0x80 {
            (b[i].is_ascii_alphanumeric(), 1)
        } else {
            match s[i..].chars().next() {
                Some(c) => (c.is_alphanumeric(), c.len_utf8()),
                None => break,
            }
        };
        if alnum && !in_word {
            n += 1;
            if stop(n) {
                return n;
            }
        }
        in_word = alnum;
        i += len;
    }
    n
}

fn truncated(s: &str) -> bool {
    let t = s.trim_end();
    t.ends_with("...") || t.ends_with('…')
}

/// Two headlines are the same if the shorter one's words (as a multiset) are mostly in the
/// longer one.
pub fn near_equal(a: &str, b: &str, threshold: f64) -> bool {
    // Why first: the top lines of a text are often whole paragraphs, and lower-casing every
    // word of one into its own String was most of the stage. The word counts alone settle
    // every pair of unequal length that the full comparison below would reject on length;
    // `a` (a line of the text, maybe a paragraph; `b` is a headline) is counted only until
    // it is too long to be a copy of `b`: rejection only gets more certain with more words.
    let nb = word_count(b);
    let too_long = |n: usize| n > nb && (nb < 3 || (nb as f64) < 0.6 * n as f64);
    let na = word_count_until(a, too_long);
    if too_long(na) {
        return false;
    }
    if na == 0 || nb == 0 {
        return false;
    }
    if na != nb {
        let (short, long) = (na.min(nb), na.max(nb));
        if short < 3 || (short as f64) < 0.6 * long as f64 {
            return false;
        }
    }
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    if wa == wb {
        return true;
    }
    let (short, long) = if wa.len() <= wb.len() {
        (&wa, &wb)
    } else {
        (&wb, &wa)
    };
    // a one- or two-word line is not evidence of a copied headline unless exactly equal
    if short.len() < 3 {
        return false;
    }
    let mut pool: Vec<&String> = long.iter().collect();
    let mut hit = 0usize;
    for w in short {
        if let Some(p) = pool.iter().position(|x| *x == w) {
            pool.swap_remove(p);
            hit += 1;
        }
    }
    let ratio = hit as f64 / short.len() as f64;
    // the shorter must also cover most of the longer (a headline is not a paragraph)
    ratio >= threshold && (short.len() as f64) >= 0.6 * long.len() as f64
}

impl Stage {
    fn looks_like_headline(&self, line: &str, rest_has_text: bool) -> bool {
        let t = line.trim();
        let n = t.chars().count();
        if n == 0 || n > self.cfg.max_chars || !rest_has_text {
            return false;
        }
        let w = word_count(t);
        // a long full sentence is a lead paragraph, not a headline
        !(w < 2 || (t.ends_with('.') && !truncated(t) && n > 90))
    }
}

impl DocStage for Stage {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn apply(&self, doc: &mut Document, _batch: Option<&BatchState>) -> Result<(), Reject> {
        let text = std::mem::take(&mut doc.text);
        // (byte start, byte end of line) of the first `top_lines` non-blank lines
        let mut top: Vec<(usize, usize)> = Vec::new();
        let mut pos = 0usize;
        for l in crate::document::split_lines(&text) {
            let end = pos + l.len();
            if !l.trim().is_empty() {
                top.push((pos, end));
                if top.len() >= self.cfg.top_lines {
                    break;
                }
            }
            pos = end + 1;
        }
        let line = |(s, e): (usize, usize)| text[s..e].trim();
        let mut drop: Vec<usize> = Vec::new();
        let known = doc
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        match known {
            Some(t) => {
                for (k, &span) in top.iter().enumerate() {
                    if near_equal(line(span), &t, self.cfg.similarity) {
                        drop.push(k);
                    }
                }
            }
            None => {
                if let Some(&first) = top.first() {
                    let rest_has_text = !text[first.1..].trim().is_empty();
                    if self.looks_like_headline(line(first), rest_has_text) {
                        drop.push(0);
                        for (k, &span) in top.iter().enumerate().skip(1) {
                            if near_equal(line(span), line(first), self.cfg.similarity) {
                                drop.push(k);
                            }
                        }
                        // of several copies, the complete one (not cut with "...") is the title;
                        // ties go to the later copy (a page's own h1 follows its <title>)
                        let best = drop
                            .iter()
                            .copied()
                            .max_by_key(|&k| (!truncated(line(top[k])), k))
                            .unwrap_or(0);
                        doc.title = Some(line(top[best]).to_string());
                        doc.log.count(STAGE, "headline-from-text", 1);
                    }
                }
            }
        }
        if drop.is_empty() {
            doc.text = text;
            return Ok(());
        }
        // rebuild the text without the dropped lines, keeping the rest byte-for-byte
        let mut out = String::with_capacity(text.len());
        let mut last = 0usize;
        for &k in &drop {
            let (s, e) = top[k];
            let lineno = text[..s].matches('\n').count() + 1;
            doc.log
                .removed(STAGE, "headline-in-text", lineno, text[s..e].trim());
            out.push_str(&text[last..s]);
            last = e;
            // swallow the line break(s) after the removed line
            while last < text.len() && text.as_bytes()[last] == b'\n' {
                last += 1;
            }
        }
        out.push_str(&text[last..]);
        let trimmed_start = out.trim_start_matches(['\n', ' ', '\t']).len();
        let cut = out.len() - trimmed_start;
        // in place: `split_off` would copy the rest into a second allocation
        out.drain(..cut);
        doc.text = out;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;

    fn run(title: Option<&str>, text: &str) -> Document {
        let mut d = Document::new(
            0,
            "t".into(),
            "t.txt".into(),
            Format::Text,
            text.to_string(),
        );
        d.title = title.map(str::to_string);
        Config::default()
            .build()
            .unwrap()
            .apply(&mut d, None)
            .unwrap();
        d
    }

    #[test]
    fn first_line_becomes_title() {
        let d = run(None, "Harbour Town Votes To Rebuild Its Sea Wall\n\nThe council voted on Tuesday to rebuild the wall.\n\nIt will cost a lot.");
        assert_eq!(
            d.title.as_deref(),
            Some("Harbour Town Votes To Rebuild Its Sea Wall")
        );
        assert_eq!(
            d.text,
            "The council voted on Tuesday to rebuild the wall.\n\nIt will cost a lot."
        );
        assert_eq!(
            d.log
                .counts
                .iter()
                .find(|c| c.rule == "headline-in-text")
                .map(|c| c.n),
            Some(1)
        );
    }

    #[test]
    fn headline_copies_at_the_top_go_once() {
        let d = run(None, "Harbour Town Votes To Rebuild Its Sea Wall By Spring\n\nHarbour town votes to rebuild its sea wall by spring\n\nThe council voted on Tuesday to rebuild the wall.");
        assert_eq!(d.text, "The council voted on Tuesday to rebuild the wall.");
        let d = run(None, "World Harbour town votes to rebuild its old sea...\nHarbour town votes to rebuild its old sea wall\nThe council voted on Tuesday to rebuild the wall.");
        assert_eq!(
            d.title.as_deref(),
            Some("Harbour town votes to rebuild its old sea wall")
        );
        assert_eq!(d.text, "The council voted on Tuesday to rebuild the wall.");
    }

    #[test]
    fn known_title_wins_and_its_copy_goes() {
        let d = run(
            Some("Городской совет утвердил ремонт набережной"),
            "Городской совет утвердил ремонт набережной!\nСовет во вторник утвердил план ремонта.",
        );
        assert_eq!(
            d.title.as_deref(),
            Some("Городской совет утвердил ремонт набережной")
        );
        assert_eq!(d.text, "Совет во вторник утвердил план ремонта.");
        // a first line that is not the title stays
        let d = run(
            Some("Der Stadtrat beschließt die Sanierung"),
            "Die Anwohner hatten darum gebeten.\nMehr folgt.",
        );
        assert_eq!(d.text, "Die Anwohner hatten darum gebeten.\nMehr folgt.");
    }

    #[test]
    fn a_lead_paragraph_is_not_a_title() {
        let text = "The council of a small harbour town voted on Tuesday to rebuild the sea wall that was damaged in the storms.\nMore text follows here.";
        let d = run(None, text);
        assert_eq!(d.title, None);
        assert_eq!(d.text, text);
        // nor is a lone line
        let d = run(None, "Just one line");
        assert_eq!(d.title, None);
        assert_eq!(d.text, "Just one line");
    }

    /// `near_equal` before the word-count shortcut.
    fn near_equal_reference(a: &str, b: &str, threshold: f64) -> bool {
        let (wa, wb) = (words(a), words(b));
        if wa.is_empty() || wb.is_empty() {
            return false;
        }
        if wa == wb {
            return true;
        }
        let (short, long) = if wa.len() <= wb.len() {
            (&wa, &wb)
        } else {
            (&wb, &wa)
        };
        if short.len() < 3 {
            return false;
        }
        let mut pool: Vec<&String> = long.iter().collect();
        let mut hit = 0usize;
        for w in short {
            if let Some(p) = pool.iter().position(|x| *x == w) {
                pool.swap_remove(p);
                hit += 1;
            }
        }
        let ratio = hit as f64 / short.len() as f64;
        ratio >= threshold && (short.len() as f64) >= 0.6 * long.len() as f64
    }

    #[test]
    fn word_count_and_near_equal_agree_with_the_reference() {
        let pieces = [
            "Harbour",
            "town",
            "VOTES",
            "to",
            "rebuild",
            "sea",
            "wall",
            " ",
            "  ",
            "-",
            "...",
            "…",
            "’",
            "'",
            "Straße",
            "İstanbul",
            "Σ",
            "日本",
            "ab12",
            "\u{212A}",
            "—",
            ",",
            ".",
            "\u{a0}",
            "x",
            "the",
            "The",
        ];
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        let mut lines: Vec<String> = Vec::new();
        for _ in 0..3000 {
            let mut l = String::new();
            for _ in 0..(x % 14) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                l.push_str(pieces[(x % pieces.len() as u64) as usize]);
                if x & 32 != 0 {
                    l.push(' ');
                }
            }
            lines.push(l);
        }
        for (i, a) in lines.iter().enumerate() {
            assert_eq!(word_count(a), words(a).len(), "{a:?}");
            for b in lines.iter().skip(i % 7).step_by(97).take(40) {
                for th in [0.5, 0.8, 1.0] {
                    assert_eq!(
                        near_equal(a, b, th),
                        near_equal_reference(a, b, th),
                        "{a:?} {b:?} {th}"
                    );
                }
            }
        }
    }

    #[test]
    fn near_equal_needs_real_overlap() {
        assert!(near_equal(
            "NATO Chief Speaks By Phone",
            "NATO chief speaks by phone.",
            0.8
        ));
        assert!(!near_equal(
            "NATO chief speaks",
            "NATO chief speaks by phone with the Ukrainian president about the crisis",
            0.8
        ));
        assert!(!near_equal("Home", "Home", 0.8) || words("Home") == words("Home"));
        assert!(Config {
            similarity: 0.2,
            ..Config::default()
        }
        .build()
        .is_err());
    }
}
