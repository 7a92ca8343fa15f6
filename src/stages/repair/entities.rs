//! HTML character references left in text (`&amp;`, `&#8217;`, `&eacute;`, double-escaped
//! `&amp;amp;`). Only complete references ending in `;` are decoded, so prose such as
//! `informal english &not html` or `S&P` stays as it is.

use std::collections::HashMap;

use once_cell::sync::Lazy;

use super::codepages::WINDOWS_1252;

/// HTML5 named references, from the compiled-in `entities.tsv` (name, code points in hex).
static NAMED: Lazy<HashMap<&'static str, String>> = Lazy::new(|| {
    include_str!("entities.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, cps) = l.split_once('\t')?;
            let text: Option<String> = cps
                .split(' ')
                .map(|h| u32::from_str_radix(h, 16).ok().and_then(char::from_u32))
                .collect();
            Some((name, text?))
        })
        .collect()
});

/// Longest entity name in the HTML5 list is 31 characters.
const MAX_NAME: usize = 32;
/// Rounds of decoding for double-escaped text (`&amp;amp;amp;` is three).
const MAX_ROUNDS: usize = 4;

/// Decode character references. Returns the new text and the number of references decoded.
pub fn unescape(text: &str) -> Option<(String, u64)> {
    let mut cur: Option<String> = None;
    let mut total = 0;
    for _ in 0..MAX_ROUNDS {
        let src = cur.as_deref().unwrap_or(text);
        match unescape_once(src) {
            Some((s, n)) => {
                total += n;
                cur = Some(s);
            }
            None => break,
        }
    }
    cur.map(|s| (s, total))
}

fn unescape_once(text: &str) -> Option<(String, u64)> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut n = 0;
    let mut pos = 0;
    while let Some(rel) = memchr::memchr(b'&', &bytes[pos..]) {
        let amp = pos + rel;
        pos = amp + 1;
        let Some((replacement, end)) = reference_at(text, amp, false) else {
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[last..amp]);
        o.push_str(&replacement);
        last = end;
        pos = end;
        n += 1;
    }
    let mut o = out?;
    o.push_str(&text[last..]);
    Some((o, n))
}

/// The reference starting at byte `amp` (an `&`): its text and the byte offset after it.
/// In text only complete references (ending in `;`) count; `lenient` also accepts them
/// without the `;`, as browsers do inside markup (`&copy 2024`, `&#39`). Shared with
/// `extract`, which decodes the references of HTML pages with it.
pub(crate) fn reference_at(text: &str, amp: usize, lenient: bool) -> Option<(String, usize)> {
    let rest = &text.as_bytes()[amp + 1..];
    if let [b'#', tail @ ..] = rest {
        let (hex, digits) = match tail {
            [b'x' | b'X', d @ ..] => (true, d),
            d => (false, d),
        };
        let len = digits
            .iter()
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        let semicolon = digits.get(len) == Some(&b';');
        if len == 0 || !(semicolon || lenient) {
            return None;
        }
        let radix = if hex { 16 } else { 10 };
        let value = digits[..len]
            .iter()
            .try_fold(0u32, |acc, &b| {
                acc.checked_mul(radix)?
                    .checked_add((b as char).to_digit(radix)?)
            })
            .unwrap_or(u32::MAX);
        let end = amp + 1 + 1 + usize::from(hex) + len + usize::from(semicolon);
        return Some((numeric(value), end));
    }
    let len = rest
        .iter()
        .take(MAX_NAME)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let semicolon = rest.get(len) == Some(&b';');
    if len == 0 || !(semicolon || lenient) {
        return None;
    }
    let name = &text[amp + 1..amp + 1 + len];
    let value = NAMED
        .get(name)
        .or_else(|| NAMED.get(name.to_ascii_lowercase().as_str()))?;
    Some((value.clone(), amp + 1 + len + usize::from(semicolon)))
}

/// A numeric reference as HTML5 decodes it: 0x80..0x9F are windows-1252, invalid values are
/// U+FFFD, noncharacters are dropped.
fn numeric(value: u32) -> String {
    match value {
        0x80..=0x9F => WINDOWS_1252.decode(value as u8).to_string(),
        0xFDD0..=0xFDEF => String::new(),
        v if v & 0xFFFE == 0xFFFE && v <= 0x10FFFF => String::new(),
        0 => '\u{FFFD}'.to_string(),
        v => char::from_u32(v).unwrap_or('\u{FFFD}').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &str) -> String {
        unescape(s).map_or_else(|| s.to_string(), |(t, _)| t)
    }

    #[test]
    fn named_and_numeric() {
        assert_eq!(
            un("Tom &amp; Jerry&#8217;s &eacute;t&eacute; &nbsp;"),
            "Tom & Jerry’s été \u{a0}"
        );
        assert_eq!(un("&#x41;&#66;&EURO;"), "AB€");
        assert_eq!(un("euro &#x80; and &#150;"), "euro € and –");
        assert_eq!(un("broken&#x81;"), "broken\u{81}");
    }

    #[test]
    fn odd_values() {
        assert_eq!(un("&#xffffffff;"), "\u{FFFD}");
        assert_eq!(un("&#xffff;"), "");
        assert_eq!(un("&#0;"), "\u{FFFD}");
        assert_eq!(un("&#xD800;"), "\u{FFFD}");
    }

    #[test]
    fn double_escaped() {
        assert_eq!(un("&amp;amp;amp;"), "&");
        assert_eq!(un("a &amp;lt;b&amp;gt;"), "a <b>");
    }

    #[test]
    fn not_references() {
        for s in [
            "S&P 500",
            "informal english &not html",
            "not an entity &#20x6;",
            "a && b",
            "&nosuchthing;",
            "&",
        ] {
            assert_eq!(un(s), s);
        }
    }
}
