//! Character references (`&amp;`, `&#8217;`, `&eacute;` ...) and whitespace collapsing, in
//! one pass, appending to a buffer. Named references cover Latin-1 and the punctuation,
//! symbol and Greek names that occur in text; unknown names are kept as written.

/// Names of U+00A0..=U+00FF in order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not", "shy",
    "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1", "ordm",
    "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig",
    "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve",
    "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN",
    "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc",
    "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml",
    "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
];

const OTHER: &[(&str, char)] = &[
    ("amp", '&'), ("lt", '<'), ("gt", '>'), ("quot", '"'), ("apos", '\''), ("mdash", '—'), ("ndash", '–'),
    ("hellip", '…'), ("lsquo", '‘'), ("rsquo", '’'), ("sbquo", '‚'), ("ldquo", '“'), ("rdquo", '”'),
    ("bdquo", '„'), ("lsaquo", '‹'), ("rsaquo", '›'), ("bull", '•'), ("prime", '′'), ("Prime", '″'),
    ("euro", '€'), ("trade", '™'), ("dagger", '†'), ("Dagger", '‡'), ("permil", '‰'), ("minus", '−'),
    ("thinsp", '\u{2009}'), ("ensp", '\u{2002}'), ("emsp", '\u{2003}'), ("zwnj", '\u{200C}'), ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'), ("rlm", '\u{200F}'), ("OElig", 'Œ'), ("oelig", 'œ'), ("Scaron", 'Š'), ("scaron", 'š'),
    ("Yuml", 'Ÿ'), ("fnof", 'ƒ'), ("circ", 'ˆ'), ("tilde", '˜'), ("larr", '←'), ("rarr", '→'), ("uarr", '↑'),
    ("darr", '↓'), ("harr", '↔'), ("le", '≤'), ("ge", '≥'), ("ne", '≠'), ("asymp", '≈'), ("infin", '∞'),
    ("alpha", 'α'), ("beta", 'β'), ("gamma", 'γ'), ("delta", 'δ'), ("epsilon", 'ε'), ("lambda", 'λ'), ("mu", 'μ'),
    ("pi", 'π'), ("sigma", 'σ'), ("omega", 'ω'), ("Delta", 'Δ'), ("Omega", 'Ω'), ("Sigma", 'Σ'), ("Pi", 'Π'),
    ("hearts", '♥'), ("star", '☆'), ("check", '✓'), ("nbsp", '\u{A0}'), ("NewLine", '\n'), ("Tab", '\t'),
];

fn named(name: &str) -> Option<char> {
    if let Some(i) = LATIN1.iter().position(|&n| n == name) {
        return char::from_u32(0xA0 + i as u32);
    }
    OTHER.iter().find(|&&(n, _)| n == name).map(|&(_, c)| c)
}

/// Windows-1252 meanings of the C1 range, as browsers apply them to `&#128;`..`&#159;`.
fn c1_fix(cp: u32) -> u32 {
    const MAP: [u32; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
        0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x9D, 0x017E, 0x0178,
    ];
    if (0x80..0xA0).contains(&cp) {
        MAP[(cp - 0x80) as usize]
    } else {
        cp
    }
}

/// Decode the reference starting at `s[0] == '&'`: `(char, bytes consumed)`.
fn reference(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if b[1] == b'#' {
        let (hex, start) = if matches!(b.get(2), Some(b'x' | b'X')) { (true, 3) } else { (false, 2) };
        let mut end = start;
        while end < b.len() && end - start < 8 && (if hex { b[end].is_ascii_hexdigit() } else { b[end].is_ascii_digit() }) {
            end += 1;
        }
        if end == start {
            return None;
        }
        let cp = u32::from_str_radix(&s[start..end], if hex { 16 } else { 10 }).ok()?;
        let consumed = if b.get(end) == Some(&b';') { end + 1 } else { end };
        let c = match c1_fix(cp) {
            0 => '\u{FFFD}',
            cp => char::from_u32(cp).unwrap_or('\u{FFFD}'),
        };
        return Some((c, consumed));
    }
    let mut end = 1;
    while end < b.len() && end < 12 && b[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == 1 {
        return None;
    }
    let c = named(&s[1..end])?;
    let consumed = if b.get(end) == Some(&b';') { end + 1 } else { end };
    Some((c, consumed))
}

/// Append `raw` to `out` with references decoded. With `collapse`, every run of
/// whitespace (ASCII whitespace; NO-BREAK SPACE is kept) becomes one space, and no space is
/// written at the start of `out` or after a space or newline already at its end.
pub fn push_text(out: &mut String, raw: &str, collapse: bool) {
    let mut rest = raw;
    while !rest.is_empty() {
        let stop = rest.as_bytes().iter().position(|&c| c == b'&' || (collapse && c.is_ascii_whitespace()));
        let Some(i) = stop else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        let b = rest.as_bytes()[i];
        if b == b'&' {
            match reference(&rest[i..]) {
                Some((c, n)) => {
                    if collapse && c.is_ascii_whitespace() {
                        push_space(out);
                    } else {
                        out.push(c);
                    }
                    rest = &rest[i + n..];
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
        assert_eq!(decode("caf&eacute; &amp; cr&#232;me &#x2019;n&rsquo; &#150;"), "café & crème ’n’ –");
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
