//! The document record that flows through every stage, and the per-document log of what the
//! stages did to it (counts per rule, and optionally the removed lines for the audit output).

use std::borrow::Cow;
use std::collections::BTreeMap;

/// What kind of input a document came from; `extract` only touches HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Html,
    Jsonl,
    Csv,
}

/// One document on its way from input to output.
#[derive(Debug, Clone)]
pub struct Document {
    /// Position in the input stream (0-based); output order follows it.
    pub seq: u64,
    /// Identifier: path without extension for files, the id field/column for records.
    pub id: String,
    /// Where the document comes from: the record's own `source` field if it has one,
    /// else the input location.
    pub source: String,
    /// Exact input location: `path` for whole-file documents, `path:line` for records.
    pub input: String,
    pub format: Format,
    pub title: Option<String>,
    pub text: String,
    /// Encoding the bytes were decoded from (WHATWG label, e.g. `UTF-8`, `windows-1251`).
    pub encoding: &'static str,
    /// Fields of the input record other than id/text/title, carried through unchanged.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// Fields the stages recognised in the text (e.g. `byline`, `dateline`).
    pub fields: BTreeMap<String, String>,
    /// Characters of text as read (after decoding, before any stage).
    pub chars_in: usize,
    pub log: DocLog,
}

impl Document {
    pub fn new(seq: u64, id: String, input: String, format: Format, text: String) -> Self {
        let chars_in = text.chars().count();
        Document {
            seq,
            id,
            source: input.clone(),
            input,
            format,
            title: None,
            text,
            encoding: "UTF-8",
            meta: serde_json::Map::new(),
            fields: BTreeMap::new(),
            chars_in,
            log: DocLog::default(),
        }
    }
}

/// The one `&'static str` for a name (a stage, a rule, an encoding): what `Count`, `Removal`
/// and `Document::encoding` hold, so a name read back from disk or from a rule pack is one
/// shared string, not an allocation per use. Each thread keeps the names it has seen, so a
/// look-up takes no lock after the first; the names of a run are few (leaking each once is
/// fine).
pub fn intern(name: &str) -> &'static str {
    use std::cell::RefCell;
    use std::sync::Mutex;
    static ALL: Mutex<Option<rustc_hash::FxHashSet<&'static str>>> = Mutex::new(None);
    thread_local! {
        static SEEN: RefCell<rustc_hash::FxHashSet<&'static str>> = RefCell::default();
    }
    if let Some(k) = SEEN.with_borrow(|seen| seen.get(name).copied()) {
        return k;
    }
    let k = {
        let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
        let all = all.get_or_insert_with(Default::default);
        match all.get(name) {
            Some(&k) => k,
            None => {
                let k: &'static str = Box::leak(name.to_string().into_boxed_str());
                all.insert(k);
                k
            }
        }
    };
    SEEN.with_borrow_mut(|seen| seen.insert(k));
    k
}

/// A counted action of a stage: `stage` did `rule` `n` times on this document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub stage: &'static str,
    pub rule: Cow<'static, str>,
    pub n: u64,
}

/// A line (or paragraph) a stage removed, for `removed.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub stage: &'static str,
    pub rule: Cow<'static, str>,
    /// 1-based line number in the text as the stage saw it.
    pub line: usize,
    pub text: String,
}

/// What the stages did to one document. Aggregated into `report.json`.
#[derive(Debug, Clone, Default)]
pub struct DocLog {
    pub counts: Vec<Count>,
    pub removals: Vec<Removal>,
    /// Keep removed lines (only when the audit output is on: it costs memory).
    pub audit: bool,
}

/// Whether two stage or rule names are equal. Names are mostly the same static strings, so
/// equal addresses settle most comparisons.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.as_ptr() == b.as_ptr() || a == b)
}

impl DocLog {
    /// Count `n` applications of `rule` by `stage` (no-op for `n == 0`).
    pub fn count(&mut self, stage: &'static str, rule: impl Into<Cow<'static, str>>, n: u64) {
        if n == 0 {
            return;
        }
        let rule = rule.into();
        // latest first: a stage counts its rules in runs (a menu is many lines of one rule)
        if let Some(c) = self
            .counts
            .iter_mut()
            .rev()
            .find(|c| same_name(c.stage, stage) && same_name(&c.rule, &rule))
        {
            c.n += n;
        } else {
            self.counts.push(Count { stage, rule, n });
        }
    }

    /// Record a removed line: counts it under its rule and keeps the text when auditing.
    pub fn removed(
        &mut self,
        stage: &'static str,
        rule: impl Into<Cow<'static, str>>,
        line: usize,
        text: &str,
    ) {
        let rule = rule.into();
        if self.audit {
            self.removals.push(Removal {
                stage,
                rule: rule.clone(),
                line,
                text: text.to_string(),
            });
        }
        self.count(stage, rule, 1);
    }
}

/// Why a document is not kept (other than being a duplicate). `reason` is a short stable
/// slug (`binary`, `bad-json`, `empty`, ...) that scripts can group by; `detail` is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub reason: Cow<'static, str>,
    pub detail: String,
}

impl Reject {
    pub fn new(reason: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Reject {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// The lines of `text`, exactly as `text.split('\n')` gives them (the last one empty after a
/// final `\n`). Why not `split`: every stage splits every document into lines, and the
/// standard library looks for a `char` a machine word at a time, `memchr` 32 bytes at a time
/// (line splitting in a profile of the stages on the 200 MB generated dump: 5.7% -> 4.0%).
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let s = start?;
        match ends.next() {
            Some(e) => {
                start = Some(e + 1);
                Some(&text[s..e])
            }
            None => {
                start = None;
                Some(&text[s..])
            }
        }
    })
}

/// `s.trim()`, with a shortcut for the usual line that starts and ends with a visible ASCII
/// character (no byte in 0x21..0x7F is whitespace, so nothing is trimmed). Why: the stages
/// trim every line of every document several times, and `trim` decodes characters from
/// both ends to test them.
#[inline]
pub fn trim_line(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| (0x21..0x7F).contains(&b));
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// `s.to_lowercase()` into `out` (cleared first). Why: the standard one goes character by
/// character from the first non-ASCII character on, so a line with one curly quote near its
/// start was lower-cased a character at a time; here every ASCII run is copied and
/// lower-cased whole. A capital sigma, whose lower case depends on its neighbours, leaves the
/// whole text to the standard one.
pub fn lowercase_into(s: &str, out: &mut String) {
    out.clear();
    out.reserve(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .position(|x| !x.is_ascii())
            .unwrap_or(b.len() - i);
        let at = out.len();
        out.push_str(&s[i..i + run]);
        out[at..].make_ascii_lowercase();
        i += run;
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        if c == 'Σ' {
            out.clear();
            out.push_str(&s.to_lowercase());
            return;
        }
        out.extend(c.to_lowercase());
        i += c.len_utf8();
    }
}

/// Builds a text from kept lines in the stages' convention: lines joined by `\n`, a blank line
/// (or a run of them, or lines removed between paragraphs) becomes exactly one `\n\n`, never
/// at the start or the end.
#[derive(Debug, Default)]
pub struct TextBuilder {
    out: String,
    pending_blank: bool,
}

impl TextBuilder {
    pub fn with_capacity(n: usize) -> Self {
        TextBuilder {
            out: String::with_capacity(n),
            pending_blank: false,
        }
    }

    /// A paragraph break before the next line (ignored at the start).
    pub fn blank(&mut self) {
        self.pending_blank = !self.out.is_empty();
    }

    /// Append a line; a blank `line` counts as a paragraph break.
    pub fn line(&mut self, line: &str) {
        if line.trim().is_empty() {
            self.blank();
            return;
        }
        if !self.out.is_empty() {
            self.out.push('\n');
            if self.pending_blank {
                self.out.push('\n');
            }
        }
        self.pending_blank = false;
        self.out.push_str(line);
    }

    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::{intern, lowercase_into, split_lines, trim_line, TextBuilder};

    #[test]
    fn intern_gives_one_string_per_name_on_every_thread() {
        let a = intern("ad-label");
        let b = intern(&String::from("ad-label"));
        assert_eq!(a, "ad-label");
        assert!(std::ptr::eq(a, b));
        let c = std::thread::spawn(|| intern(&String::from("ad-label")))
            .join()
            .unwrap();
        assert!(std::ptr::eq(a, c));
        assert!(!std::ptr::eq(a, intern("cookie-banner")));
    }

    #[test]
    fn lowercase_into_is_to_lowercase() {
        let pieces = [
            "The ",
            "“Quoted”",
            " ÉCOLE ",
            "Straße",
            "İstanbul",
            "ΟΔΟΣ",
            "Σ",
            "aΣb",
            "日本",
            "x",
            "ǅ",
            " 123 ",
            "\u{0130}",
            "—",
            "ΑΣ.",
            "",
        ];
        let mut out = String::from("left over");
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}");
                    lowercase_into(&s, &mut out);
                    assert_eq!(out, s.to_lowercase(), "{s}");
                }
            }
        }
    }

    #[test]
    fn trim_line_is_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}a\u{3000}",
            "a\t",
            "\x7fa\x7f",
            "~x~",
            "a b",
            "\u{2028}",
            "é",
            "x\u{85}",
            "\x0bx",
            "!x!",
        ] {
            assert_eq!(trim_line(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn split_lines_is_split_at_newline() {
        for t in [
            "",
            "\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\n\nb\n",
            "é\nü\r\n\n\n",
            "x\ny\nz",
        ] {
            let mine: Vec<&str> = split_lines(t).collect();
            let std: Vec<&str> = t.split('\n').collect();
            assert_eq!(mine, std, "{t:?}");
        }
    }

    #[test]
    fn text_builder_collapses_blank_runs_and_trims_edges() {
        let mut b = TextBuilder::default();
        for l in ["", "  ", "a", "b", "", "", " ", "c", ""] {
            b.line(l);
        }
        assert_eq!(b.finish(), "a\nb\n\nc");
    }
}
