//! Hard-wrapped prose (lines broken at a fixed width, as in e-mail, wire feeds and old
//! archives) joined back into paragraphs before classification.
//!
//! Why: the classifier judges one line at a time; a paragraph broken every 70 characters is a
//! run of short lines without sentence punctuation, which look exactly like menus and link
//! lists. A dump that puts one block per line must stay untouched, so a document counts as
//! hard-wrapped only with clear evidence of a fixed width: several breaks where the line is
//! near the width `W` and the next line's first word would not have fitted on it (what a
//! greedy wrapper does), most breaks in mid-sentence, and many followed by a lower-case word.

use std::borrow::Cow;

/// Shortest line that can be part of a wrapped paragraph (not a label or a headline).
const MIN_WRAP: usize = 35;
/// Longest wrap width considered (beyond it lines are blocks, not wrapped text).
const MAX_WRAP: usize = 110;

fn first_word_len(s: &str) -> usize {
    s.split_whitespace().next().map_or(0, |w| w.chars().count())
}

fn ends_sentence(s: &str) -> bool {
    let t = s.trim_end_matches(['"', '\'', '”', '’', '»', ')']);
    t.ends_with(['.', '!', '?', ':', '…', '。', '！', '？'])
}

fn starts_lower(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_lowercase())
}

/// Join the lines of hard-wrapped paragraphs with a space. Returns the text and the number of
/// line breaks removed; borrowed when the document is not hard-wrapped.
pub fn unwrap(text: &str) -> (Cow<'_, str>, u64) {
    // cheap exit: a document with no run of consecutive non-blank lines
    if !text.contains('\n') {
        return (Cow::Borrowed(text), 0);
    }
    // cheap exit, nothing allocated: the evidence needs three lines of MIN_WRAP..=MAX_WRAP
    // characters (so of MIN_WRAP..=4 * MAX_WRAP bytes) before a non-blank line; two in three
    // documents of a generated dump have fewer
    let mut possible = 0;
    let mut fits_before = false;
    for l in crate::document::split_lines(text) {
        let t = crate::document::trim_line(l);
        possible += (fits_before && !t.is_empty()) as usize;
        if possible >= 3 {
            break;
        }
        fits_before = (MIN_WRAP..=4 * MAX_WRAP).contains(&t.len());
    }
    if possible < 3 {
        return (Cow::Borrowed(text), 0);
    }
    let lines: Vec<&str> = crate::document::split_lines(text).collect();
    let lens: Vec<usize> = lines.iter().map(|l| l.trim().chars().count()).collect();
    let candidate = |k: usize| {
        k + 1 < lines.len() && lens[k + 1] > 0 && (MIN_WRAP..=MAX_WRAP).contains(&lens[k])
    };
    let width = (0..lines.len())
        .filter(|&k| candidate(k))
        .map(|k| lens[k])
        .max()
        .unwrap_or(0);
    if width == 0 {
        return (Cow::Borrowed(text), 0);
    }
    let fits_break = |k: usize| {
        lens[k] * 10 >= width * 6
            && lens[k] + 1 + first_word_len(lines[k + 1].trim()) > width.saturating_sub(1)
    };
    let (mut candidates, mut evidence, mut lower) = (0usize, 0usize, 0usize);
    for k in (0..lines.len()).filter(|&k| candidate(k)) {
        candidates += 1;
        let mid_sentence = !ends_sentence(lines[k].trim()) || starts_lower(lines[k + 1].trim());
        if fits_break(k) && lens[k] * 10 >= width * 7 && mid_sentence {
            evidence += 1;
            lower += starts_lower(lines[k + 1].trim()) as usize;
        }
    }
    // Prose continues in lower case after most breaks (headline lists never do); scripts
    // without case are not unwrapped.
    if evidence < 3 || evidence * 10 < candidates * 6 || lower * 10 < evidence * 4 {
        return (Cow::Borrowed(text), 0);
    }
    let mut out = String::with_capacity(text.len());
    let mut joined = 0u64;
    for (k, line) in lines.iter().enumerate() {
        out.push_str(line.trim_end());
        if k + 1 == lines.len() {
            break;
        }
        if candidate(k) && fits_break(k) {
            out.push(' ');
            joined += 1;
        } else {
            out.push('\n');
        }
    }
    if joined == 0 {
        return (Cow::Borrowed(text), 0);
    }
    // the joined lines may have carried leading spaces
    (Cow::Owned(out.replace("\n ", "\n")), joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(text: &str, width: usize) -> String {
        let mut out = String::new();
        let mut line = String::new();
        for w in text.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(w);
        }
        out.push_str(&line);
        out
    }

    const PARA: &str = "The harbour authority said on Monday that the northern pier would reopen to \
        cargo traffic next month, after repairs that took longer than planned because of the winter \
        storms and a shortage of steel. Shipping companies had warned that the closure was costing \
        them millions and that some routes might move to other ports for good.";
    const PARA_DE: &str = "Die Stadtverwaltung hat am Montag mitgeteilt, dass die Brücke über den Fluss \
        im kommenden Monat wieder für den Verkehr geöffnet wird, nachdem die Reparaturen wegen der \
        Winterstürme länger gedauert hatten als geplant und die Anwohner monatelang Umwege fahren mussten.";

    #[test]
    fn joins_hard_wrapped_paragraphs_in_any_width_and_language() {
        for width in [60, 72, 80] {
            let text = format!(
                "Pier to reopen\n\n{}\n\n{}",
                wrap(PARA, width),
                wrap(PARA_DE, width)
            );
            let (out, n) = unwrap(&text);
            assert!(n >= 4, "width {width}: {n}");
            let paras: Vec<&str> = out.split("\n\n").collect();
            assert_eq!(
                paras,
                vec!["Pier to reopen", PARA, PARA_DE],
                "width {width}"
            );
        }
    }

    #[test]
    fn one_block_per_line_dumps_are_untouched() {
        let dump =
            "Home\nWorld\nBusiness\nPier to reopen after winter storms delayed the repairs\n\
            The harbour authority said on Monday that the northern pier would reopen next month.\n\
            Shipping companies had warned that the closure was costing them millions of euros.\n\
            Related: Port strike ends after two weeks of talks between unions and employers\n\
            Related: New ferry line to the islands announced for the summer season\n\
            Subscribe to our newsletter";
        let (out, n) = unwrap(dump);
        assert_eq!(n, 0);
        assert!(matches!(out, Cow::Borrowed(_)));
    }

    #[test]
    fn headline_lists_are_not_prose() {
        let list = "Port strike ends after two weeks of talks between unions\n\
            New ferry line to the islands announced for the summer season\n\
            Storm damage along the coast estimated at two million euros\n\
            Fishermen protest against new quotas outside the ministry\n\
            City council approves budget for harbour repairs next year";
        assert_eq!(unwrap(list).1, 0);
    }
}
