//! Character references (`&amp;`, `&#8217;`, `&eacute;` ...) and whitespace collapsing, in
//! one pass, appending to a buffer. References are decoded by `repair`'s HTML5 table, leniently
//! (a missing `;` is accepted, as browsers do in markup); unknown names are kept as written.

use crate::stages::repair::entities::reference_at;

/// Append `raw` to `out` with references decoded. With `collapse`, every run of
/// whitespace (ASCII whitespace; NO-BREAK SPACE is kept) becomes one space, and no space is
/// written at the start of `out` or after a space or newline already at its end.
pub fn push_text(out: &mut String, raw: &str, collapse: bool) {
    let mut rest = raw;
    while !rest.is_empty() {
        let stop = rest
            .as_bytes()
            .iter()
            .position(|&c| c == b'&' || (collapse && c.is_ascii_whitespace()));
        let Some(i) = stop else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        let b = rest.as_bytes()[i];
        if b == b'&' {
            match reference_at(rest, i, true) {
                Some((c, end)) => {
                    if collapse && c.chars().all(|c| c.is_ascii_whitespace()) {
                        push_space(out);
                    } else {
                        out.push_str(&c);
                    }
                    rest = &rest[end..];
                }
                None => {
                    out.push('&');
                    rest = &rest[i + 1..];
                }
            }
        } else {
            push_space(out);
            let mut j = i;
            while j < rest.len() && rest.as_bytes()[j].is_ascii_whitespace() {
                j += 1;
            }
            rest = &rest[j..];
        }
    }
}

fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') && !out.ends_with('\n') {
        out.push(' ');
    }
}

/// Decode references in a short value (attribute, title) and collapse its whitespace.
pub fn decode(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    push_text(&mut s, raw, true);
    let t = s.trim_end_matches([' ', '\n']);
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_numeric_and_broken_references() {
        assert_eq!(
            decode("caf&eacute; &amp; cr&#232;me &#x2019;n&rsquo; &#150;"),
            "café & crème ’n’ –"
        );
        assert_eq!(decode("AT&T &unknown; & x &#;"), "AT&T &unknown; & x &#;");
        assert_eq!(decode("&nbsp;a&nbsp;"), "\u{A0}a\u{A0}");
        assert_eq!(decode("&#0;&#x110000;"), "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn whitespace_collapses_across_calls() {
        let mut s = String::new();
        push_text(&mut s, "  Привет,\n\t мир ", true);
        push_text(&mut s, " и всё", true);
        assert_eq!(s, "Привет, мир и всё");
        let mut p = String::new();
        push_text(&mut p, "a\n  b", false);
        assert_eq!(p, "a\n  b");
    }
}
