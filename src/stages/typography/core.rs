//! The pure typography function: a conservative byte scan that proves most clean texts clean
//! (and returns them borrowed), then a line-by-line rewrite for the rest.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::chars::{self, Class, Invisible};
use super::punct;
use super::{Options, QuotePolicy, TypoCounts};

/// Clean up the typography of `text` (see the module docs for the rules). Returns the text
/// borrowed when nothing changes, with the number of fixes per rule.
pub fn typography<'a>(text: &'a str, opts: &Options) -> (Cow<'a, str>, TypoCounts) {
    let mut counts = TypoCounts::default();
    if quick_clean(text, opts) {
        return (Cow::Borrowed(text), counts);
    }
    let out = rewrite(text, opts, &mut counts);
    if out == text {
        (Cow::Borrowed(text), TypoCounts::default())
    } else {
        (Cow::Owned(out), counts)
    }
}

/// Bytes the quick scan must look at: space, line feed, other ASCII whitespace, non-ASCII.
static INTERESTING: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\t' as usize] = true;
    t[0x0B] = true;
    t[0x0C] = true;
    let mut b = 0x80;
    while b < 256 {
        t[b] = true;
        b += 1;
    }
    t
};

/// `true` only if no rule can change `text` (conservative: `false` means "look closer").
pub(crate) fn quick_clean(text: &str, opts: &Options) -> bool {
    let b = text.as_bytes();
    let n = b.len();
    if n == 0 {
        return true;
    }
    if matches!(b[0], b'\n' | b' ') || matches!(b[n - 1], b'\n' | b' ') {
        return false;
    }
    let straight = opts.quotes == QuotePolicy::Straight;
    let mut need_nfc = false;
    let mut i = 0;
    while i < n {
        let c = b[i];
        if !INTERESTING[c as usize] {
            i += 1;
            continue;
        }
        match c {
            b' ' => {
                // Neither the first nor the last byte, so both neighbours exist.
                let nx = b[i + 1];
                let pv = b[i - 1];
                if matches!(nx, b' ' | b'\n' | b',' | b';' | b':' | b'!' | b'?' | b')' | b'.')
                    || matches!(pv, b'\n' | b'(')
                    || (nx == 0xE2 && b.get(i + 2) == Some(&0x80) && b.get(i + 3) == Some(&0x9D))
                    || (i >= 3 && b[i - 3..i] == [0xE2, 0x80, 0x9C])
                {
                    return false;
                }
                i += 1;
            }
            b'\n' => {
                if b.get(i + 1) == Some(&b'\n') && b.get(i + 2) == Some(&b'\n') {
                    return false;
                }
                i += 1;
            }
            0x80.. => {
                // `i` is always at a char boundary: ASCII steps by one, others by their length.
                let Some(ch) = text[i..].chars().next() else { return false };
                if chars::class(ch) != Class::Plain || (straight && is_curly_quote(ch)) {
                    return false;
                }
                if !chars::nfc_trivial(ch) {
                    need_nfc = true;
                }
                i += ch.len_utf8();
            }
            _ => return false,
        }
    }
    !need_nfc || is_nfc_quick(text.chars()) == IsNormalized::Yes
}

#[inline]
fn is_curly_quote(c: char) -> bool {
    matches!(c, '“' | '”' | '„' | '‟' | '‘' | '’' | '‚' | '‛')
}

/// Turn every line break into `\n` (CR LF, CR, NEL, LINE SEPARATOR; PARAGRAPH SEPARATOR
/// becomes a blank line).
fn normalize_breaks<'a>(text: &'a str, counts: &mut TypoCounts) -> Cow<'a, str> {
    let needs = text.bytes().any(|b| b == b'\r')
        || text.contains(['\u{85}', '\u{2028}', '\u{2029}']);
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\r' => {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                counts.crlf += 1;
                out.push('\n');
            }
            '\u{85}' | '\u{2028}' => {
                counts.line_break += 1;
                out.push('\n');
            }
            '\u{2029}' => {
                counts.line_break += 1;
                out.push_str("\n\n");
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Line structure: each line fixed on its own, blank-line runs made one paragraph break,
/// none at the start or the end.
fn rewrite(text: &str, opts: &Options, counts: &mut TypoCounts) -> String {
    let norm = normalize_breaks(text, counts);
    let mut doc = DocContext { text: &norm, cjk: None };
    let mut out = String::with_capacity(text.len());
    let mut buf = String::new();
    let mut blank_run = 0u64;
    for line in norm.split('\n') {
        let fixed = fix_line(line, &mut doc, opts, counts, &mut buf);
        if fixed.is_empty() {
            blank_run += 1;
            continue;
        }
        if out.is_empty() {
            counts.blank_lines += blank_run;
        } else if blank_run > 0 {
            out.push_str("\n\n");
            counts.blank_lines += blank_run - 1;
        } else {
            out.push('\n');
        }
        out.push_str(&fixed);
        blank_run = 0;
    }
    counts.blank_lines += blank_run;
    out
}

/// What a decision about one line may need to know about the whole document.
struct DocContext<'a> {
    text: &'a str,
    /// Is the document as a whole CJK text? (computed on first need)
    cjk: Option<bool>,
}

impl DocContext<'_> {
    fn is_cjk(&mut self) -> bool {
        let text = self.text;
        *self.cjk.get_or_insert_with(|| {
            let (cjk, latin) = script_counts(text);
            cjk_majority(cjk, latin)
        })
    }
}

fn script_counts(s: &str) -> (usize, usize) {
    let mut cjk = 0;
    let mut latin = 0;
    for c in s.chars() {
        if chars::is_cjk(c) {
            cjk += 1;
        } else if chars::is_latin_letter(c) {
            latin += 1;
        }
    }
    (cjk, latin)
}

/// CJK characters carry about four times the information of a Latin letter.
#[inline]
fn cjk_majority(cjk: usize, latin: usize) -> bool {
    cjk > 0 && cjk * 4 >= latin
}

/// Per-line facts, computed on first need.
struct LineContext<'a> {
    line: &'a str,
    cjk: Option<bool>,
    rtl: Option<bool>,
}

impl LineContext<'_> {
    /// Full-width forms are normal typography in CJK text and noise in Latin-script text.
    fn is_cjk(&mut self, doc: &mut DocContext) -> bool {
        if let Some(v) = self.cjk {
            return v;
        }
        // One CJK character makes the line CJK text; a line without any (a menu path, a
        // product name) follows the document: a Japanese article keeps its full-width forms.
        let v = self.line.chars().any(chars::is_cjk) || doc.is_cjk();
        self.cjk = Some(v);
        v
    }

    fn has_rtl(&mut self) -> bool {
        let line = self.line;
        *self.rtl.get_or_insert_with(|| line.chars().any(chars::is_rtl))
    }
}

/// Whether the invisible character `c` at byte `i` of the line does a job there.
fn keep_invisible(kind: Invisible, lc: &mut LineContext, i: usize, c: char) -> bool {
    let line = lc.line;
    let prev = line[..i].chars().next_back();
    let next = line[i + c.len_utf8()..].chars().next();
    let either = |f: fn(char) -> bool| prev.is_some_and(f) || next.is_some_and(f);
    match kind {
        Invisible::SoftHyphen | Invisible::Format => false,
        Invisible::Zwsp => either(chars::uses_zwsp),
        Invisible::Joiner => either(chars::needs_joiners) || either(chars::is_emoji_part),
        Invisible::Bidi => lc.has_rtl(),
        Invisible::Mvs => either(|c| ('\u{1800}'..='\u{18AF}').contains(&c)),
    }
}

/// Fix one line (no `\n` in it). Returns it borrowed when nothing changes.
fn fix_line<'a>(
    line: &'a str,
    doc: &mut DocContext,
    opts: &Options,
    counts: &mut TypoCounts,
    buf: &mut String,
) -> Cow<'a, str> {
    if line.is_empty() {
        return Cow::Borrowed(line);
    }
    let mut lc = LineContext { line, cjk: None, rtl: None };
    buf.clear();
    // Whitespace characters seen since the last emitted character.
    let mut run = 0u32;
    let mut need_nfc = false;
    macro_rules! emit_space {
        () => {
            if run > 0 {
                if buf.is_empty() {
                    counts.trailing_space += 1;
                } else {
                    buf.push(' ');
                    if run > 1 {
                        counts.space_run += 1;
                    }
                }
                run = 0;
            }
        };
    }
    for (i, c) in line.char_indices() {
        match chars::class(c) {
            Class::Space => {
                run += 1;
                continue;
            }
            Class::OddSpace | Class::LineBreak | Class::ParaBreak => {
                counts.odd_space += 1;
                run += 1;
                continue;
            }
            Class::Invisible(kind) => {
                if !keep_invisible(kind, &mut lc, i, c) {
                    match kind {
                        Invisible::SoftHyphen => counts.soft_hyphen += 1,
                        _ => counts.invisible += 1,
                    }
                    continue;
                }
                emit_space!();
                buf.push(c);
            }
            Class::Ligature(s) if opts.ligatures => {
                emit_space!();
                buf.push_str(s);
                counts.ligature += 1;
            }
            Class::FullWidth(a) if opts.full_width && !lc.is_cjk(doc) => {
                emit_space!();
                buf.push(a);
                counts.full_width += 1;
            }
            _ => {
                emit_space!();
                if !chars::nfc_trivial(c) {
                    need_nfc = true;
                }
                buf.push(c);
            }
        }
    }
    if run > 0 && !buf.is_empty() {
        counts.trailing_space += 1;
    }
    let mut cur: Cow<str> = Cow::Borrowed(buf.as_str());
    if opts.punct_spacing {
        if let Some(s) = punct::fix_punct(&cur, counts) {
            cur = Cow::Owned(s);
        }
    }
    if opts.quotes == QuotePolicy::Straight && cur.contains(is_curly_quote) {
        let s: String = cur
            .chars()
            .map(|c| match c {
                '“' | '”' | '„' | '‟' => {
                    counts.straight_quotes += 1;
                    '"'
                }
                '‘' | '’' | '‚' | '‛' => {
                    counts.straight_quotes += 1;
                    '\''
                }
                c => c,
            })
            .collect();
        cur = Cow::Owned(s);
    }
    if need_nfc && is_nfc_quick(cur.chars()) != IsNormalized::Yes {
        let s: String = cur.nfc().collect();
        if s != *cur {
            counts.nfc += 1;
            cur = Cow::Owned(s);
        }
    }
    if *cur == *line {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(cur.into_owned())
    }
}
