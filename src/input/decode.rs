//! Byte decoding: turn a whole document's bytes into text and say which encoding they were in.
//!
//! Order of evidence, strongest first:
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE); the BOM is not part of the text;
//! 2. valid UTF-8 (the common case, checked with one fast validation pass), except 7-bit
//!    ISO-2022-JP, which is valid ASCII but carries escape sequences;
//! 3. UTF-16 without a BOM, recognised by the shape of the decoded text;
//! 4. binary data (magic numbers, NUL bytes, many control bytes) is refused;
//! 5. UTF-8 with a little damage ([`nearly_utf8`]): a character cut off at the end (a dump
//!    truncated at a byte limit), UTF-16 surrogates encoded one by one (CESU-8, WTF-8), a few
//!    stray legacy bytes among many well-formed UTF-8 characters;
//! 6. otherwise detection with `chardetng`, then a check of its guess against the close
//!    relatives it tends to confuse (e.g. KOI8-R vs KOI8-U, ISO-8859-2 vs windows-1250), and
//!    decoding with `encoding_rs`.
//!
//! For HTML, a `<meta charset>` or `http-equiv` declaration in the first KB is honoured when
//! the bytes agree with it (a page declaring latin-1 that is valid UTF-8 is UTF-8).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// Text decoded from bytes and the encoding it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name, e.g. `UTF-8`, `windows-1251`, `UTF-16LE`.
    pub encoding: &'static str,
    /// What was mended to read damaged UTF-8 (all zero for clean bytes).
    pub fixes: Utf8Fixes,
}

/// The damage [`nearly_utf8`] mended, counted so that the document's log can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Utf8Fixes {
    /// Invalid sequences, each byte read as windows-1252 (a legacy fragment pasted into
    /// UTF-8 text).
    pub invalid: u64,
    /// UTF-16 surrogates encoded as UTF-8 one by one: a pair becomes its character, a lone
    /// one U+FFFD.
    pub surrogates: u64,
    /// A character cut off at the very end, dropped.
    pub truncated: u64,
}

impl Utf8Fixes {
    /// The counts under their names in a document's log (nonzero ones only).
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("invalid-utf8", self.invalid),
            ("utf8-surrogate", self.surrogates),
            ("truncated-utf8", self.truncated),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
    }

    pub fn add(&mut self, o: Utf8Fixes) {
        self.invalid += o.invalid;
        self.surrogates += o.surrogates;
        self.truncated += o.truncated;
    }
}

/// Why bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not text (an image, an archive, an executable, ...).
    #[error("binary data: {0}")]
    Binary(String),
    /// The bytes look like text but no encoding decodes them cleanly.
    #[error("undecodable: {0}")]
    Undecodable(String),
}

impl DecodeError {
    /// Short stable slug for the rejects file.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Binary(_) => "binary",
            DecodeError::Undecodable(_) => "undecodable",
        }
    }
}

/// Decode a whole document's bytes (see the module documentation for the order of evidence).
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some(d) = decode_bom(bytes)? {
        return Ok(d);
    }
    decode_no_bom(bytes)
}

/// Decode an HTML page: a BOM, then a `<meta>` charset declaration found in the first KB when the
/// bytes are consistent with it, then the same evidence as [`decode`].
pub fn decode_html(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some(d) = decode_bom(bytes)? {
        return Ok(d);
    }
    if let Some(declared) = meta_charset(bytes) {
        // Valid UTF-8 beats any declaration: legacy pages re-saved as UTF-8 keep their old meta.
        let valid_utf8 = simdutf8::basic::from_utf8(bytes).is_ok();
        if declared == UTF_8 {
            if valid_utf8 {
                return decode_no_bom(bytes);
            }
        } else if declared == UTF_16LE || declared == UTF_16BE {
            // A meta inside an ASCII-compatible page cannot truly say UTF-16 (HTML spec: UTF-8).
        } else if !valid_utf8 || bytes.is_ascii() {
            check_binary(bytes)?;
            if let Some(text) = declared.decode_without_bom_handling_and_without_replacement(bytes)
            {
                return Ok(Decoded {
                    text: text.into_owned(),
                    encoding: declared.name(),
                    ..Default::default()
                });
            }
            // Declared encoding does not fit the bytes: fall through to detection.
        }
    }
    decode_no_bom(bytes)
}

fn decode_bom(bytes: &[u8]) -> Result<Option<Decoded>, DecodeError> {
    let Some((enc, bom_len)) = Encoding::for_bom(bytes) else {
        return Ok(None);
    };
    let body = &bytes[bom_len..];
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    if had_errors {
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        // A few broken sequences (a truncated file) are tolerated; a BOM followed by garbage is not.
        if bad * 20 > text.chars().count().max(1) {
            return Err(DecodeError::Undecodable(format!(
                "{} BOM but {bad} malformed sequences",
                enc.name()
            )));
        }
    }
    let text = text.into_owned();
    check_decoded_binary(&text)?;
    Ok(Some(Decoded {
        text,
        encoding: enc.name(),
        ..Default::default()
    }))
}

fn decode_no_bom(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let has_nul = memchr::memchr(0, bytes).is_some();
    if !has_nul {
        if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
            if bytes.is_ascii() && memchr::memchr(0x1b, bytes).is_some() {
                if let Some(d) = try_iso2022jp(bytes) {
                    return Ok(d);
                }
            }
            check_decoded_binary(text)?;
            return Ok(Decoded {
                text: text.to_owned(),
                encoding: UTF_8.name(),
                ..Default::default()
            });
        }
    }
    // before UTF-16: the bytes of a UTF-8 text whose last character was cut off can also
    // pair up into "ordinary" UTF-16 characters (Cyrillic becomes Hangul)
    if !has_nul {
        if let Some(d) = nearly_utf8(bytes) {
            check_decoded_binary(&d.text)?;
            return Ok(d);
        }
    }
    if let Some(d) = guess_utf16(bytes) {
        return Ok(d);
    }
    check_binary(bytes)?;
    if has_nul {
        return Err(DecodeError::Binary("NUL bytes in text".into()));
    }
    Ok(detect(bytes))
}

/// Read bytes that are not valid UTF-8 as UTF-8 when the damage is small and local, which
/// legacy detection would turn into mojibake of the whole text: a character cut off at the
/// end, surrogates encoded one by one (CESU-8, WTF-8: a pair is joined, a lone one becomes
/// U+FFFD), and a few invalid sequences among at least three times as many well-formed
/// characters beyond ASCII (each invalid byte read as windows-1252, the usual legacy
/// fragment). Text in a legacy encoding has almost no well-formed multi-byte sequences (its
/// letters beyond ASCII are single bytes), so it does not qualify. A text whose only byte
/// beyond ASCII is a last lead byte right after a letter (`café` in Latin-1 ends in one) is
/// left to detection.
pub fn nearly_utf8(bytes: &[u8]) -> Option<Decoded> {
    let mut text = String::with_capacity(bytes.len() + 8);
    let mut fixes = Utf8Fixes::default();
    let (mut wide, mut rest) = (0u64, bytes);
    let mut cut = 0;
    loop {
        let (valid, error) = match std::str::from_utf8(rest) {
            Ok(s) => (s, None),
            Err(e) => {
                let valid = std::str::from_utf8(&rest[..e.valid_up_to()]).ok()?;
                (valid, Some((e.valid_up_to(), e.error_len())))
            }
        };
        wide += valid.bytes().filter(|&b| b >= 0xC0).count() as u64;
        text.push_str(valid);
        let Some((at, len)) = error else { break };
        let after = &rest[at..];
        let Some(len) = len else {
            // an incomplete sequence that the end of the bytes cut off
            fixes.truncated += 1;
            cut = after.len();
            break;
        };
        if let Some((c, used)) = surrogate_at(after) {
            text.push(c);
            fixes.surrogates += 1;
            rest = &after[used..];
            continue;
        }
        text.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&after[..len])
                .0,
        );
        fixes.invalid += 1;
        rest = &after[len..];
        // hopeless already (every invalid sequence needs three good characters, and a good
        // one takes two bytes or more): stop early
        if fixes.invalid > 64 && fixes.invalid * 3 > wide + rest.len() as u64 / 2 {
            return None;
        }
    }
    let utf8 = if fixes.invalid > 0 {
        wide + fixes.surrogates >= 3 * fixes.invalid
    } else if wide + fixes.surrogates > 0 || cut >= 2 {
        true
    } else {
        // ASCII and one last byte that starts a character: in a word (`café` in Latin-1)
        // it is a legacy letter; after a space or a sign it starts what was cut off (an
        // emoji, a quote)
        cut == 1 && bytes.len() >= 2 && !bytes[bytes.len() - 2].is_ascii_alphanumeric()
    };
    utf8.then(|| Decoded {
        text,
        encoding: UTF_8.name(),
        fixes,
    })
}

/// A UTF-16 surrogate encoded as UTF-8 at the start of `b` (three bytes `ED A0..BF 80..BF`):
/// a high one followed by a low one is their character (six bytes), a lone one U+FFFD.
fn surrogate_at(b: &[u8]) -> Option<(char, usize)> {
    let unit = |b: &[u8]| match *b {
        [0xED, x @ 0xA0..=0xBF, y @ 0x80..=0xBF, ..] => {
            Some(0xD000 | (u32::from(x) & 0x3F) << 6 | (u32::from(y) & 0x3F))
        }
        _ => None,
    };
    let hi = unit(b)?;
    if (0xD800..0xDC00).contains(&hi) {
        if let Some(lo) = b.get(3..).and_then(unit).filter(|u| *u >= 0xDC00) {
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return char::from_u32(c).map(|c| (c, 6));
        }
    }
    Some(('\u{FFFD}', 3))
}

fn try_iso2022jp(bytes: &[u8]) -> Option<Decoded> {
    let enc = encoding_rs::ISO_2022_JP;
    let text = enc.decode_without_bom_handling_and_without_replacement(bytes)?;
    Some(Decoded {
        text: text.into_owned(),
        encoding: enc.name(),
        ..Default::default()
    })
}

/// Detect a legacy encoding and decode with it (never fails: a wrong guess still gives text;
/// undecodable bytes become U+FFFD).
fn detect(bytes: &[u8]) -> Decoded {
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let guess = det.guess(None, false);
    let enc = refine(guess, bytes);
    let (text, _, _) = enc.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: enc.name(),
        ..Default::default()
    }
}

/// Correct chardetng's guess between encodings it does not tell apart well.
/// Single-byte code pages that chardetng confuses are re-ranked by how much the decoded text
/// looks like one real language: fewest odd symbols inside words, then the best coverage of its
/// accented letters by one language's alphabet.
fn refine(guess: &'static Encoding, bytes: &[u8]) -> &'static Encoding {
    use encoding_rs::*;
    const LATIN: &[&Encoding] = &[
        &WINDOWS_1252_INIT,
        &ISO_8859_15_INIT,
        &WINDOWS_1250_INIT,
        &ISO_8859_2_INIT,
        &WINDOWS_1257_INIT,
        &ISO_8859_13_INIT,
        &WINDOWS_1254_INIT,
        &ISO_8859_4_INIT,
    ];
    const GREEK: &[&Encoding] = &[&WINDOWS_1253_INIT, &ISO_8859_7_INIT];
    const HEBREW: &[&Encoding] = &[&WINDOWS_1255_INIT, &ISO_8859_8_INIT];
    let group = [LATIN, GREEK, HEBREW]
        .into_iter()
        .find(|g| g.contains(&guess));
    let Some(group) = group else { return guess };
    let score = |enc: &'static Encoding| -> Option<(i64, i64)> {
        let text = enc.decode_without_bom_handling_and_without_replacement(bytes)?;
        Some((-(odd_symbols(&text) as i64), language_fit(&text)))
    };
    let Some(mut best_score) = score(guess) else {
        return guess;
    };
    let mut best = guess;
    for &enc in group {
        if enc == guess {
            continue;
        }
        if let Some(s) = score(enc) {
            if s > best_score {
                best_score = s;
                best = enc;
            }
        }
    }
    best
}

/// Symbols and C1 controls where a word should go on: between two letters, or a letter
/// followed by a symbol from the upper half of a code page.
fn odd_symbols(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut n = 0;
    for i in 0..chars.len() {
        let c = chars[i];
        let u = c as u32;
        if (0x80..0xA0).contains(&u) {
            n += 2;
            continue;
        }
        if u < 0xA0
            || c.is_alphanumeric()
            || c.is_whitespace()
            || matches!(c, '\u{2018}' | '\u{2019}' | '\u{AD}')
        {
            continue;
        }
        let prev_letter = i > 0 && chars[i - 1].is_alphabetic();
        let next_letter = chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
        if prev_letter && next_letter {
            n += 1;
        }
    }
    // Lower-case letter followed by an upper-case non-ASCII letter inside a word.
    for w in chars.windows(2) {
        if w[0].is_lowercase() && w[1].is_uppercase() && !w[1].is_ascii() {
            n += 1;
        }
    }
    n
}

/// Alphabets (accented lower-case letters) of languages written in Latin script.
const ALPHABETS: &[&str] = &[
    "äöüß",
    "àâæçéèêëîïôœùûüÿ",
    "áéíñóúü",
    "áâãàçéêíóôõú",
    "àèéìíîòóùú",
    "àçèéíïòóúü",
    "åäöæøé",
    "äöõüšž",
    "ąćęłńóśźż",
    "áčďéěíňóřšťúůýž",
    "áäčďéíĺľňóôŕšťúýž",
    "čćđšž",
    "áéíóöőúüű",
    "ăâîșşțţ",
    "çğıöşüâî",
    "ąčęėįšųūž",
    "āčēģīķļņšūž",
    "áðéíóúýþæö",
    "ąčęėįšųūžāēīõ",
];

/// Best share (per mille) of accented letters covered by one alphabet (Latin script only).
pub(crate) fn language_fit(text: &str) -> i64 {
    let letters: Vec<char> = text
        .chars()
        .filter(|c| !c.is_ascii() && c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    if letters.is_empty() {
        return 1000;
    }
    ALPHABETS
        .iter()
        .map(|a| {
            letters.iter().filter(|c| a.contains(**c)).count() as i64 * 1000 / letters.len() as i64
        })
        .max()
        .unwrap_or(0)
}

/// Recognise UTF-16 without a BOM: every code unit decodes (no lone surrogates) and almost all
/// characters are ordinary text characters of one or two scripts.
fn guess_utf16(bytes: &[u8]) -> Option<Decoded> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let mut best: Option<(f64, &'static Encoding, String)> = None;
    for enc in [UTF_16LE, UTF_16BE] {
        let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) else {
            continue;
        };
        let score = text_plausibility(&text);
        if !cjk_punctuated(&text) {
            continue;
        }
        if score >= 0.97 && best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, enc, text.into_owned()));
        }
    }
    best.map(|(_, enc, text)| Decoded {
        text,
        encoding: enc.name(),
        ..Default::default()
    })
}

/// Legacy CJK bytes read as UTF-16 also give ideographs, but never the punctuation or spaces that
/// real CJK text has: text that is mostly ideographs must contain some.
fn cjk_punctuated(text: &str) -> bool {
    let (mut ideo, mut punct, mut total) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        total += 1;
        match c as u32 {
            0x4E00..=0x9FFF => ideo += 1,
            0x20 | 0x0A | 0x3000..=0x303F | 0xFF01..=0xFF1F => punct += 1,
            _ => {}
        }
    }
    ideo * 10 < total * 3 || punct * 100 >= total
}

/// Share of characters that are ordinary text (letters of common scripts, digits, punctuation,
/// spaces and line breaks).
fn text_plausibility(text: &str) -> f64 {
    let mut total = 0usize;
    let mut good = 0usize;
    for c in text.chars() {
        total += 1;
        let u = c as u32;
        let ok = match u {
            0x09 | 0x0A | 0x0D => true,
            0x20..=0x7E => true,
            0xA0..=0x24F => true,    // Latin-1, Latin Extended-A/B
            0x370..=0x52F => true,   // Greek, Cyrillic
            0x590..=0x6FF => true,   // Hebrew, Arabic
            0xE00..=0xE7F => true,   // Thai
            0x1E00..=0x1EFF => true, // Latin Extended Additional (Vietnamese)
            0x2000..=0x206F => true, // general punctuation
            0x20A0..=0x20CF => true, // currency
            0x2100..=0x218F => true, // letterlike, number forms
            0x3000..=0x30FF => true, // CJK punctuation, kana
            0x4E00..=0x9FFF => true, // CJK ideographs
            0xAC00..=0xD7A3 => true, // Hangul
            0xFF00..=0xFFEF => true, // full-width forms
            _ => false,
        };
        if ok {
            good += 1;
        }
    }
    if total == 0 {
        return 0.0;
    }
    good as f64 / total as f64
}

/// Magic numbers of common binary formats found in scraped dumps.
const MAGIC: &[(&[u8], &str)] = &[
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xFF\xD8\xFF", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1F\x8B", "gzip data"),
    (b"\x28\xB5\x2F\xFD", "zstd data"),
    (b"BZh", "bzip2 data"),
    (b"\xFD7zXZ\x00", "xz data"),
    (b"7z\xBC\xAF\x27\x1C", "7z archive"),
    (b"Rar!\x1A\x07", "RAR archive"),
    (b"\x7FELF", "ELF executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x1A\x45\xDF\xA3", "Matroska/WebM media"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "OLE2 (legacy Office) document",
    ),
];

/// Refuse bytes that are not text: known magic numbers or a large share of control bytes.
fn check_binary(bytes: &[u8]) -> Result<(), DecodeError> {
    for (magic, what) in MAGIC {
        if bytes.starts_with(magic) {
            // "BZh"/"ID3"/"OggS" are also plausible starts of text: require more evidence.
            if magic.len() <= 4 && control_share(bytes) < 0.01 && memchr::memchr(0, bytes).is_none()
            {
                continue;
            }
            return Err(DecodeError::Binary((*what).to_string()));
        }
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Err(DecodeError::Binary("MP4/ISO media".into()));
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") {
        return Err(DecodeError::Binary("RIFF (WAV/AVI/WebP) data".into()));
    }
    let share = control_share(bytes);
    if share > 0.05 {
        return Err(DecodeError::Binary(format!(
            "{:.0}% control bytes",
            share * 100.0
        )));
    }
    Ok(())
}

/// Share of C0 control bytes other than tab, line feed, form feed, carriage return and escape,
/// in the first 64 KB.
fn control_share(bytes: &[u8]) -> f64 {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if head.is_empty() {
        return 0.0;
    }
    let n = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | 0x1B))
        .count();
    n as f64 / head.len() as f64
}

/// Text that decoded fine can still be binary (e.g. NULs in UTF-16): refuse many controls.
fn check_decoded_binary(text: &str) -> Result<(), DecodeError> {
    let bytes = text.as_bytes();
    // Cheap check first: no control bytes at all in the common case.
    if !bytes
        .iter()
        .take(64 * 1024)
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Ok(());
    }
    let share = control_share(bytes);
    if share > 0.05 || memchr::memchr(0, bytes).is_some_and(|_| share > 0.001) {
        return Err(DecodeError::Binary(format!(
            "{:.1}% control characters",
            share * 100.0
        )));
    }
    Ok(())
}

/// Find a charset declared by `<meta charset=...>` or `<meta http-equiv="Content-Type"
/// content="...; charset=...">` in the first 2 KB of an HTML page.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = memchr::memchr(b'>', &lower[start..]).map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(cpos) = memchr::memmem::find(tag, b"charset") {
            let mut rest = &tag[cpos + 7..];
            while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = rest {
                rest = tail;
            }
            if let [b'=', tail @ ..] = rest {
                rest = tail;
                while let [b' ' | b'\t' | b'"' | b'\'', tail @ ..] = rest {
                    rest = tail;
                }
                let label_end = rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(enc) = Encoding::for_label(&rest[..label_end]) {
                    return Some(enc);
                }
            }
        }
        from = end.max(start + 5);
        if from >= lower.len() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_fast_path() {
        let d = decode("Grüße, мир".as_bytes()).unwrap();
        assert_eq!(d.text, "Grüße, мир");
        assert_eq!(d.encoding, "UTF-8");
    }

    #[test]
    fn boms_are_honoured_and_stripped() {
        let d = decode(b"\xEF\xBB\xBFhello").unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("hello", "UTF-8"));
        let d = decode(b"\xFF\xFEh\x00i\x00").unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("hi", "UTF-16LE"));
        let d = decode(b"\xFE\xFF\x00h\x00i").unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("hi", "UTF-16BE"));
    }

    #[test]
    fn utf16_without_bom() {
        let text = "Привіт, світе! Це тест.\n\nДругий абзац.";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(
            decode(&le).unwrap(),
            Decoded {
                text: text.into(),
                encoding: "UTF-16LE",
                ..Default::default()
            }
        );
        assert_eq!(
            decode(&be).unwrap(),
            Decoded {
                text: text.into(),
                encoding: "UTF-16BE",
                ..Default::default()
            }
        );
        let zh = "中文测试，这是一个句子。\n第二段。";
        let le: Vec<u8> = zh.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode(&le).unwrap().text, zh);
    }

    #[test]
    fn legacy_cyrillic_is_detected() {
        let text =
            "Председатель правительства заявил, что бюджет на следующий год будет принят вовремя.";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.text, text);
        assert_eq!(d.encoding, "windows-1251");
    }

    #[test]
    fn latin1_is_detected() {
        let text = "Le président a déclaré que la réforme serait adoptée à l'été, après un débat.";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.text, text);
    }

    #[test]
    fn iso2022jp_is_not_taken_for_ascii() {
        let text = "日本語のテキストです。";
        let (bytes, _, _) = encoding_rs::ISO_2022_JP.encode(text);
        assert!(bytes.is_ascii());
        let d = decode(&bytes).unwrap();
        assert_eq!(d.text, text);
        assert_eq!(d.encoding, "ISO-2022-JP");
    }

    #[test]
    fn binary_is_refused() {
        assert!(matches!(
            decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            Err(DecodeError::Binary(_))
        ));
        assert!(matches!(
            decode(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj"),
            Err(DecodeError::Binary(_))
        ));
        let noise: Vec<u8> = (0u32..4000)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(matches!(decode(&noise), Err(DecodeError::Binary(_))));
        assert!(matches!(
            decode(b"abc\x00\x01\x02\x03def\x00\x00\x05ghi\x00"),
            Err(DecodeError::Binary(_))
        ));
    }

    #[test]
    fn empty_input_is_empty_text() {
        assert_eq!(decode(b"").unwrap().text, "");
    }

    #[test]
    fn html_meta_charset() {
        let body = "<html><head><meta charset=\"windows-1251\"></head><body>Привет</body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(body);
        let d = decode_html(&bytes).unwrap();
        assert_eq!(d.encoding, "windows-1251");
        assert_eq!(d.text, body);
        // A page that declares latin-1 but is valid UTF-8 is UTF-8.
        let page = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>Grüße</p>";
        let d = decode_html(page.as_bytes()).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), (page, "UTF-8"));
    }

    #[test]
    fn damaged_utf8_is_mended_and_counted() {
        // cut in the middle of the last character (even length: not taken for UTF-16)
        let text = "Председатель правительства заявил, что бюджет будет принят";
        let b = text.as_bytes();
        let d = decode(&b[..b.len() - 1]).unwrap();
        assert_eq!(d.text, &text[..text.len() - 2]);
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.fixes.truncated, 1);
        // ASCII cut in an emoji after a space; a curly quote cut after two of its bytes
        let d = decode(b"The minister smiled. \xF0\x9F").unwrap();
        assert_eq!(
            (d.text.as_str(), d.fixes.truncated),
            ("The minister smiled. ", 1)
        );
        let d = decode(b"He said \xE2\x80").unwrap();
        assert_eq!(d.text, "He said ");
        // a surrogate pair encoded one by one (CESU-8) and a lone surrogate
        let d = decode(b"Bravo \xED\xA0\xBD\xED\xB8\x80 et \xED\xA0\x80 fin, d\xC3\xA9j\xC3\xA0")
            .unwrap();
        assert_eq!(d.text, "Bravo \u{1F600} et \u{FFFD} fin, déjà");
        assert_eq!(d.fixes.surrogates, 2);
        // a stray Latin-1 word among UTF-8 letters: read as windows-1252
        let utf8 = "Über die Straße in Köln gehen Müller und Söhne, die Bäckerin grüßt Jürgen aus Düsseldorf, ";
        let mut b = utf8.as_bytes().to_vec();
        b.extend_from_slice(b"au caf\xE9 \x93Chez Paul\x94.");
        let d = decode(&b).unwrap();
        assert_eq!(d.text, format!("{utf8}au café “Chez Paul”."));
        assert_eq!((d.encoding, d.fixes.invalid), ("UTF-8", 3));
        // with fewer good characters than three per bad sequence, detection decides
        let d = decode(b"Stra\xC3\x9Fe, au caf\xE9 \x93Chez Paul\x94.").unwrap();
        assert_eq!(d.fixes, Utf8Fixes::default());
        assert_eq!(Utf8Fixes::default().named().count(), 0);
    }

    #[test]
    fn legacy_text_is_not_taken_for_damaged_utf8() {
        let cases: [(&str, &'static Encoding); 5] = [
            (
                "Le conseil a adopté le budget après un long débat; l’école en profitera.",
                encoding_rs::WINDOWS_1252,
            ),
            (
                "Председатель правительства заявил, что бюджет будет принят вовремя.",
                encoding_rs::WINDOWS_1251,
            ),
            (
                "政府今天宣布，明年的预算将按时通过，学校和医院将获得更多资金。",
                encoding_rs::GBK,
            ),
            (
                "政府は本日、来年度の予算が期限内に成立すると発表した。",
                encoding_rs::SHIFT_JIS,
            ),
            (
                "Rząd ogłosił, że budżet zostanie przyjęty w terminie, a szkoły dostaną więcej.",
                encoding_rs::WINDOWS_1250,
            ),
        ];
        for (text, enc) in cases {
            let (bytes, _, _) = enc.encode(text);
            assert!(nearly_utf8(&bytes).is_none(), "{text}");
            // nor when a byte limit cut it
            assert!(nearly_utf8(&bytes[..bytes.len() - 1]).is_none(), "{text}");
        }
        // ASCII ending in one Latin-1 letter: a legacy `é`, not a cut-off character
        let d = decode(b"Il est all\xE9").unwrap();
        assert_eq!(d.text, "Il est allé");
        assert_eq!(d.fixes, Utf8Fixes::default());
    }
}
