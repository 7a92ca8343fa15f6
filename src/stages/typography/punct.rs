//! Spacing around punctuation and curly quotes, on one line whose whitespace is already
//! normalised (single ASCII spaces, no leading or trailing space).
//!
//! Rules (each a deletion of one space, or moving one closing quote):
//! - no space before `, ; : ! ?` or `)` when they end a word (`end , then` -> `end, then`);
//! - no space before a sentence-final `.` (not before `.DJI`, `.45`, ` ... `, ` . . .`);
//! - no space after `(` (`( 97 kph)` -> `(97 kph)`), emoticons like `:(` excepted;
//! - English-style quoting: no space after an opening `“`, none before a closing `”`, and
//!   `immediately, ”he said` -> `immediately,” he said`. A `“` that closes a `„` (German,
//!   Russian, Czech quoting) is a closing quote and keeps the space after it; `’ ”` between
//!   nested quotes stays.

use super::TypoCounts;

/// Quick byte test: could any rule fire on this line?
pub(crate) fn has_candidate(line: &str) -> bool {
    let b = line.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i + 1 < n {
        if b[i] == b' ' {
            match b[i + 1] {
                b',' | b';' | b':' | b'!' | b'?' | b')' | b'.' => return true,
                0xE2 if b.get(i + 2) == Some(&0x80) && b.get(i + 3) == Some(&0x9D) => return true,
                _ => {}
            }
            if i > 0 && b[i - 1] == b'(' {
                return true;
            }
            if i >= 3 && b[i - 3..i] == [0xE2, 0x80, 0x9C] {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// Apply the rules to `line` until nothing changes; `None` when nothing did.
pub(crate) fn fix_punct(line: &str, counts: &mut TypoCounts) -> Option<String> {
    if !has_candidate(line) {
        return None;
    }
    let mut cur: Vec<char> = line.chars().collect();
    let mut next = Vec::with_capacity(cur.len());
    let mut changed = false;
    // A deletion can create a new candidate (`a ( ,` ...): a few passes reach the fixpoint.
    for _ in 0..4 {
        next.clear();
        if !pass(&cur, &mut next, counts) {
            break;
        }
        changed = true;
        std::mem::swap(&mut cur, &mut next);
    }
    if changed {
        Some(cur.into_iter().collect())
    } else {
        None
    }
}

/// A letter or digit, or a character that ends a word or a phrase: may carry punctuation.
#[inline]
fn ends_word(p: char) -> bool {
    p.is_alphanumeric() || matches!(p, ')' | ']' | '”' | '’' | '"' | '\'' | '%' | '°')
}

/// What may follow a punctuation mark that closes a word: nothing, a space, another closing
/// mark or more punctuation (`?!`, `),`).
#[inline]
fn closes_after(a: Option<char>) -> bool {
    match a {
        None => true,
        Some(a) => {
            a == ' '
                || matches!(
                    a,
                    '”' | '’' | '"' | '»' | ')' | ']' | ',' | '.' | ';' | ':' | '!' | '?' | '…'
                )
        }
    }
}

/// Is the space at `i` (between `c[i-1]` and `c[i+1]`) a space before punctuation to delete?
fn space_before_punct(c: &[char], i: usize) -> bool {
    let p = c[i - 1];
    let nx = c[i + 1];
    let nn = c.get(i + 2).copied();
    match nx {
        ',' | ';' | ':' | '!' | '?' => {
            if !ends_word(p) || !closes_after(nn) {
                return false;
            }
            // Emoticons `:)`, `;)`.
            if matches!(nx, ':' | ';') && matches!(nn, Some(')' | '(' | ']')) {
                return false;
            }
            // Scores and ratios written with spaces: `2 : 1`.
            if nx == ':'
                && p.is_ascii_digit()
                && nn == Some(' ')
                && c.get(i + 3).is_some_and(|d| d.is_ascii_digit())
            {
                return false;
            }
            true
        }
        ')' => !matches!(p, '(' | ':' | ';' | '=' | '-') && closes_after(nn),
        '.' => {
            // Sentence-final only: not `.DJI`, `.45`, `...`, and not the first dot of ` . . .`.
            if !ends_word(p) {
                return false;
            }
            match nn {
                None => true,
                Some(' ') => c.get(i + 3) != Some(&'.'),
                Some(a) => matches!(a, '”' | '’' | '"' | '»' | ')' | ']'),
            }
        }
        _ => false,
    }
}

/// `“` at `j` opens a quotation when it starts a word (line start, after a space, a bracket or a dash).
#[inline]
fn opens_word(c: &[char], j: usize) -> bool {
    j == 0 || matches!(c[j - 1], ' ' | '(' | '[' | '—' | '–' | '-' | '‘' | '/')
}

#[inline]
fn is_quote(c: char) -> bool {
    matches!(
        c,
        '“' | '”' | '„' | '‟' | '"' | '‘' | '’' | '‚' | '\'' | '«' | '»'
    )
}

/// One left-to-right pass; returns whether anything changed.
fn pass(c: &[char], out: &mut Vec<char>, counts: &mut TypoCounts) -> bool {
    let n = c.len();
    let mut changed = false;
    // English-style quotations open on this line; whether a low `„` waits for its `“`.
    let mut open_dq: u32 = 0;
    let mut low_open = false;
    // Whether the previous character was a `“` that opened a quotation.
    let mut after_open = false;
    let mut i = 0;
    while i < n {
        let ch = c[i];
        let was_open = after_open;
        after_open = false;
        match ch {
            '“' => {
                if low_open {
                    low_open = false;
                } else if open_dq > 0 {
                    // English quotes do not nest `“` in `“`: with one open, this `“` is a
                    // mis-curled closing quote (`Jimmy “the Whirlwind “ White`).
                    open_dq -= 1;
                } else if opens_word(c, i) {
                    open_dq += 1;
                    after_open = true;
                }
            }
            '”' => {
                if open_dq > 0 {
                    open_dq -= 1;
                } else {
                    low_open = false;
                }
            }
            '„' => low_open = true,
            ' ' if i > 0 && i + 1 < n => {
                let p = c[i - 1];
                let nx = c[i + 1];
                if space_before_punct(c, i) {
                    counts.space_before_punct += 1;
                    changed = true;
                    i += 1;
                    continue;
                }
                if p == '(' && nx != ')' && !(i >= 2 && matches!(c[i - 2], ':' | ';' | '=')) {
                    counts.space_after_paren += 1;
                    changed = true;
                    i += 1;
                    continue;
                }
                if was_open && !is_quote(nx) {
                    counts.quote_spacing += 1;
                    changed = true;
                    i += 1;
                    continue;
                }
                if nx == '”' && !is_quote(p) {
                    let nn = c.get(i + 2).copied();
                    match nn {
                        Some(a) if a.is_alphanumeric() => {
                            // `immediately, ”he said`: the space belongs after the quote. The
                            // opening quote may be on an earlier line or a straight `"`, so no
                            // opening `“` is required on this line.
                            if matches!(p, ',' | '.' | '!' | '?' | '…') {
                                out.push('”');
                                out.push(' ');
                                open_dq = open_dq.saturating_sub(1);
                                counts.quote_spacing += 1;
                                changed = true;
                                i += 2;
                                continue;
                            }
                        }
                        Some(a) if is_quote(a) => {}
                        // `word ”` closing a quotation opened on this line.
                        _ if open_dq > 0 => {
                            counts.quote_spacing += 1;
                            changed = true;
                            i += 1;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        out.push(ch);
        i += 1;
    }
    changed
}
