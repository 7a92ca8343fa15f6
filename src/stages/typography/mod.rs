//! `typography` stage: removes typographic noise without changing content.
//!
//! With the default configuration:
//! - every whitespace character inside a line (tab, NBSP, narrow NBSP, thin, figure, en/em,
//!   hair, math, ideographic space...) becomes an ASCII space, runs collapse to one, lines are
//!   stripped;
//! - CR LF, CR, NEL and LINE SEPARATOR become `\n`; a single line break is kept (text dumps put
//!   one block per line); any run of blank lines becomes one blank line (paragraph break); no
//!   blank lines at the start or the end;
//! - soft hyphens, zero-width spaces, word joiners, BOMs and invisible operators go; ZWNJ/ZWJ
//!   stay next to emoji and in scripts that need them (Arabic, Indic, ...), ZWSP in Thai, Khmer,
//!   Lao, Myanmar; LRM/RLM and other bidi controls stay only in lines with right-to-left text;
//! - ligatures `ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ` become plain letters; full-width forms (`ｔｈｅｒｅ`, `２０１９`,
//!   `，`) become ASCII in Latin-script lines and stay in CJK lines;
//! - no space before `, ; : ! ? )` or a sentence-final `.`, none after `(`; with English-style
//!   quotes no space after an opening `“` or before a closing `”`, and `immediately, ”he said`
//!   becomes `immediately,” he said` (left alone: ` ... `, `.DJI`,
//!   `’ ”`, `„…“`, emoticons, `2 : 1`);
//! - NFC.
//!
//! Quote characters, dashes, ellipses, guillemets, non-Latin scripts and emoji are never changed
//! unless `quotes = "straight"`. Every fix is counted under its rule name (`odd-space`,
//! `space-run`, `trailing-space`, `crlf`, `line-break`, `blank-lines`, `invisible`,
//! `soft-hyphen`, `ligature`, `full-width`, `space-before-punct`, `space-after-paren`,
//! `quote-spacing`, `straight-quotes`, `nfc`).
//!
//! ```toml
//! [stages.typography]
//! quotes = "keep"        # "keep": leave quote characters alone; "straight": “”„‟ to ", ‘’‚‛ to '
//! ligatures = true       # ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ to plain letters
//! full_width = true      # full-width forms to ASCII in Latin-script lines (never in CJK lines)
//! punct_spacing = true   # spaces before , ; : ! ? ) . and after ( and inside curly quotes
//! ```
//!
//! The pure core is [`typography`]; clean text costs one byte scan and comes back borrowed.

mod chars;
mod core;
mod punct;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use crate::document::{Document, Reject};
use crate::error::ConfigError;
use crate::stages::{BatchState, DocStage};

pub use self::core::{quick_clean, typography};

/// What to do with quote characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotePolicy {
    /// Leave every quote character as it is (only the spacing around curly quotes is fixed).
    #[default]
    Keep,
    /// Curly double quotes `“ ” „ ‟` become `"`, curly single quotes `‘ ’ ‚ ‛` become `'`
    /// (guillemets and primes stay).
    Straight,
}

/// `[stages.typography]` options.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `"keep"` (default) or `"straight"`.
    pub quotes: QuotePolicy,
    /// Expand the Latin ligatures `ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ` (default true).
    pub ligatures: bool,
    /// Full-width forms to ASCII in Latin-script lines; CJK lines keep them (default true).
    pub full_width: bool,
    /// Fix spaces before `, ; : ! ? ) .`, after `(`, and inside curly quotes (default true).
    pub punct_spacing: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            quotes: QuotePolicy::Keep,
            ligatures: true,
            full_width: true,
            punct_spacing: true,
        }
    }
}

/// Options of the pure [`typography`] function (the built form of [`Config`]).
pub type Options = Config;

impl Config {
    pub fn build(&self) -> Result<Stage, ConfigError> {
        Ok(Stage { opts: self.clone() })
    }
}

/// Number of fixes per rule, for one text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypoCounts {
    pub odd_space: u64,
    pub space_run: u64,
    pub trailing_space: u64,
    pub crlf: u64,
    pub line_break: u64,
    pub blank_lines: u64,
    pub invisible: u64,
    pub soft_hyphen: u64,
    pub ligature: u64,
    pub full_width: u64,
    pub space_before_punct: u64,
    pub space_after_paren: u64,
    pub quote_spacing: u64,
    pub straight_quotes: u64,
    pub nfc: u64,
}

impl TypoCounts {
    /// `(rule name, count)` for every rule, in a fixed order.
    pub fn rules(&self) -> [(&'static str, u64); 15] {
        [
            ("odd-space", self.odd_space),
            ("space-run", self.space_run),
            ("trailing-space", self.trailing_space),
            ("crlf", self.crlf),
            ("line-break", self.line_break),
            ("blank-lines", self.blank_lines),
            ("invisible", self.invisible),
            ("soft-hyphen", self.soft_hyphen),
            ("ligature", self.ligature),
            ("full-width", self.full_width),
            ("space-before-punct", self.space_before_punct),
            ("space-after-paren", self.space_after_paren),
            ("quote-spacing", self.quote_spacing),
            ("straight-quotes", self.straight_quotes),
            ("nfc", self.nfc),
        ]
    }

    /// Total number of fixes.
    pub fn total(&self) -> u64 {
        self.rules().iter().map(|r| r.1).sum()
    }
}

/// Typography of a title: the same rules, and the result on one line.
pub fn typography_title<'a>(title: &'a str, opts: &Options) -> (Cow<'a, str>, TypoCounts) {
    let (t, mut counts) = typography(title, opts);
    if !t.contains('\n') {
        return (t, counts);
    }
    let mut one = String::with_capacity(t.len());
    for line in crate::document::split_lines(&t).filter(|l| !l.is_empty()) {
        if !one.is_empty() {
            one.push(' ');
        }
        one.push_str(line);
        counts.line_break += 1;
    }
    counts.line_break = counts.line_break.saturating_sub(1);
    (Cow::Owned(one), counts)
}

pub struct Stage {
    opts: Options,
}

impl Stage {
    fn log(doc: &mut Document, counts: &TypoCounts) {
        for (rule, n) in counts.rules() {
            doc.log.count("typography", rule, n);
        }
    }
}

impl DocStage for Stage {
    fn name(&self) -> &'static str {
        "typography"
    }

    fn apply(&self, doc: &mut Document, _batch: Option<&BatchState>) -> Result<(), Reject> {
        let (text, counts) = typography(&doc.text, &self.opts);
        if let Cow::Owned(s) = text {
            doc.text = s;
        }
        Self::log(doc, &counts);
        if let Some(title) = doc.title.as_deref() {
            let (t, counts) = typography_title(title, &self.opts);
            if let Cow::Owned(s) = t {
                doc.title = Some(s);
            }
            Self::log(doc, &counts);
        }
        Ok(())
    }
}
