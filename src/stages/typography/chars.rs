//! Character classes the typography rules are built on: which characters are odd spaces,
//! invisible formatting characters, ligatures or full-width forms, and which scripts a
//! character belongs to (for the "only in Latin-script text" decisions).

/// What a character means to the typography rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Nothing to do with it by itself.
    Plain,
    /// Whitespace inside a line other than the ASCII space (tab, NBSP, thin, ideographic...).
    OddSpace,
    /// The ASCII space.
    Space,
    /// A line break other than `\n` (`\r`, NEL, LINE SEPARATOR).
    LineBreak,
    /// PARAGRAPH SEPARATOR.
    ParaBreak,
    /// A zero-width or formatting character.
    Invisible(Invisible),
    /// `ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ`: expands to plain letters.
    Ligature(&'static str),
    /// A full-width (or full-width sign) form of an ASCII or Latin-1 character.
    FullWidth(char),
}

/// The invisible characters, each with its own keep rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invisible {
    SoftHyphen,
    /// ZERO WIDTH SPACE: a word separator in Thai, Lao, Khmer, Myanmar; noise elsewhere.
    Zwsp,
    /// ZWNJ/ZWJ: needed in Arabic/Indic scripts and emoji sequences; noise in Latin words.
    Joiner,
    /// LRM, RLM, ALM, embeddings and isolates: meaningful only in right-to-left text.
    Bidi,
    /// Word joiner, invisible operators, BOM: never needed in running text.
    Format,
    /// MONGOLIAN VOWEL SEPARATOR: needed in Mongolian, noise elsewhere.
    Mvs,
}

#[inline]
pub(crate) fn class(c: char) -> Class {
    let u = c as u32;
    if u < 0x80 {
        return match c {
            ' ' => Class::Space,
            '\t' | '\u{0B}' | '\u{0C}' => Class::OddSpace,
            '\r' => Class::LineBreak,
            _ => Class::Plain,
        };
    }
    match u {
        0x85 => Class::LineBreak,
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Class::OddSpace,
        0xAD => Class::Invisible(Invisible::SoftHyphen),
        0x200B => Class::Invisible(Invisible::Zwsp),
        0x200C | 0x200D => Class::Invisible(Invisible::Joiner),
        0x200E | 0x200F | 0x061C | 0x202A..=0x202E | 0x2066..=0x2069 => {
            Class::Invisible(Invisible::Bidi)
        }
        0x2060..=0x2064 | 0xFEFF => Class::Invisible(Invisible::Format),
        0x180E => Class::Invisible(Invisible::Mvs),
        0x2028 => Class::LineBreak,
        0x2029 => Class::ParaBreak,
        0xFB00..=0xFB06 => Class::Ligature(match u {
            0xFB00 => "ff",
            0xFB01 => "fi",
            0xFB02 => "fl",
            0xFB03 => "ffi",
            0xFB04 => "ffl",
            _ => "st",
        }),
        // FF01..FF5E mirror ASCII 21..7E exactly.
        0xFF01..=0xFF5E => Class::FullWidth(char::from((u - 0xFF01 + 0x21) as u8)),
        0xFFE0 => Class::FullWidth('¢'),
        0xFFE1 => Class::FullWidth('£'),
        0xFFE2 => Class::FullWidth('¬'),
        0xFFE3 => Class::FullWidth('¯'),
        0xFFE4 => Class::FullWidth('¦'),
        0xFFE5 => Class::FullWidth('¥'),
        0xFFE6 => Class::FullWidth('₩'),
        _ => Class::Plain,
    }
}

/// Han, kana, Hangul and CJK punctuation (not the ideographic space): the characters that make
/// a line CJK text, in which full-width forms are the normal typography.
#[inline]
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x3001..=0x303F | 0x3040..=0x30FF | 0x3130..=0x318F | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0xFF61..=0xFFDC | 0x20000..=0x3134F)
}

/// A Latin letter (ASCII or precomposed Latin-1/Extended).
#[inline]
pub(crate) fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c as u32, 0xC0..=0x24F if c != '×' && c != '÷')
        || matches!(c as u32, 0x1E00..=0x1EFF)
}

/// Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, NKo and their presentation forms).
#[inline]
pub(crate) fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

/// Scripts that use ZWNJ/ZWJ to control joining or conjuncts.
#[inline]
pub(crate) fn needs_joiners(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x08FF | 0x0900..=0x0DFF | 0x0F00..=0x0FFF | 0x1000..=0x109F | 0x1780..=0x18AF
        | 0x1900..=0x1CFF | 0xA800..=0xABFF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC | 0x10A00..=0x11FFF)
}

/// Scripts written without spaces that may use ZWSP as a word separator.
#[inline]
pub(crate) fn uses_zwsp(c: char) -> bool {
    matches!(c as u32, 0x0E00..=0x0FFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x1950..=0x19DF | 0xAA60..=0xAA7F)
}

/// Emoji and the characters that take part in emoji sequences (VS16, skin tones, tags).
#[inline]
pub(crate) fn is_emoji_part(c: char) -> bool {
    matches!(c as u32,
        0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2190..=0x21FF | 0x2300..=0x23FF
        | 0x24C2 | 0x25A0..=0x27BF | 0x2900..=0x297F | 0x2B00..=0x2BFF | 0x3030 | 0x303D
        | 0x3297 | 0x3299 | 0xFE0F | 0x1F000..=0x1FAFF | 0xE0020..=0xE007F)
}

/// Characters that are NFC whatever surrounds them (quick-check `Yes` and never the second
/// half of a canonical composition): lines made only of them need no normalisation check.
/// Covers Latin, Cyrillic, Hebrew and Arabic letters, punctuation, currency, arrows and math
/// operators, symbols, kana, CJK, Hangul syllables and emoji; combining marks, conjoining jamo
/// and singletons (`Ω` U+2126, `〈` U+2329, `⫝̸` U+2ADC) are outside on purpose.
#[inline]
pub(crate) fn nfc_trivial(c: char) -> bool {
    matches!(c as u32,
        0..=0x2FF | 0x400..=0x482 | 0x48A..=0x52F | 0x5D0..=0x5EA | 0x600..=0x64A | 0x660..=0x66F
        | 0x1E00..=0x1EFF | 0x2010..=0x205E | 0x20A0..=0x20C0 | 0x2190..=0x2328 | 0x232B..=0x29FF
        | 0x2B00..=0x2BFF | 0x3000..=0x3098 | 0x309B..=0x30FF | 0x4E00..=0x9FFF | 0xAC00..=0xD7A3
        | 0xFE00..=0xFE0F | 0xFE70..=0xFEFC | 0xFF01..=0xFFEE | 0x1F300..=0x1FAFF)
}
