//! Single-byte code pages that UTF-8 gets mis-read as, in the encode direction (character back
//! to the byte it came from), so that mojibake can be turned back into the original bytes.
//!
//! Tables are built once from `encoding_rs` (WHATWG decoders: bytes a code page leaves undefined
//! decode to the C1 control of the same value, which is what "sloppy" decoders produce) plus
//! cp437 from a data file. Every table also maps C1 controls U+0080..U+009F to their own byte:
//! text mixes latin-1 and windows-125x readings of the same bytes.

use once_cell::sync::Lazy;

/// One code page: the upper half of its byte range, as characters.
pub struct CodePage {
    pub name: &'static str,
    /// `upper[b - 0x80]` is the character byte `b` decodes to.
    upper: [char; 128],
    /// Characters U+0080..U+00FF that map to a byte (0 = none).
    low_map: [u8; 128],
    /// Characters above U+00FF, sorted, with their bytes.
    high_map: Vec<(char, u8)>,
}

impl CodePage {
    fn new(name: &'static str, upper: [char; 128]) -> CodePage {
        let mut low_map = [0u8; 128];
        let mut high_map = Vec::new();
        // C1 controls first, so that a real character of the code page wins over them.
        for b in 0x80u8..0xA0 {
            low_map[(b - 0x80) as usize] = b;
        }
        for (i, &c) in upper.iter().enumerate() {
            let b = 0x80 + i as u8;
            let u = c as u32;
            if (0x80..0x100).contains(&u) {
                low_map[(u - 0x80) as usize] = b;
            } else if c != '\u{FFFD}' {
                high_map.push((c, b));
            }
        }
        high_map.sort_unstable();
        CodePage {
            name,
            upper,
            low_map,
            high_map,
        }
    }

    fn from_encoding(name: &'static str, enc: &'static encoding_rs::Encoding) -> CodePage {
        let bytes: Vec<u8> = (0x80u8..=0xFF).collect();
        let mut upper = ['\u{FFFD}'; 128];
        for (i, &b) in bytes.iter().enumerate() {
            let one = [b];
            let (s, _) = enc.decode_without_bom_handling(&one);
            upper[i] = s.chars().next().unwrap_or('\u{FFFD}');
        }
        CodePage::new(name, upper)
    }

    /// The byte `c` is encoded as, if the code page has it.
    #[inline]
    pub fn encode(&self, c: char) -> Option<u8> {
        let u = c as u32;
        if u < 0x80 {
            return Some(u as u8);
        }
        if u < 0x100 {
            let b = self.low_map[(u - 0x80) as usize];
            return (b != 0).then_some(b);
        }
        self.high_map
            .binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|i| self.high_map[i].1)
    }

    /// The character byte `b` decodes to.
    #[inline]
    pub fn decode(&self, b: u8) -> char {
        if b < 0x80 {
            b as char
        } else {
            self.upper[(b - 0x80) as usize]
        }
    }
}

/// Windows-1252 (latin-1 C1 controls included through the C1 mapping).
pub static WINDOWS_1252: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("windows-1252", encoding_rs::WINDOWS_1252));
pub static WINDOWS_1251: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("windows-1251", encoding_rs::WINDOWS_1251));
pub static WINDOWS_1250: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("windows-1250", encoding_rs::WINDOWS_1250));
pub static WINDOWS_1257: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("windows-1257", encoding_rs::WINDOWS_1257));
pub static ISO_8859_2: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("iso-8859-2", encoding_rs::ISO_8859_2));
pub static MACINTOSH: Lazy<CodePage> =
    Lazy::new(|| CodePage::from_encoding("macintosh", encoding_rs::MACINTOSH));
pub static CP437: Lazy<CodePage> = Lazy::new(|| {
    let mut upper = ['\u{FFFD}'; 128];
    for (i, c) in include_str!("cp437.txt").chars().take(128).enumerate() {
        upper[i] = c;
    }
    CodePage::new("cp437", upper)
});

/// The code pages mojibake is undone from, most common first (ties go to the earlier one).
pub fn all() -> [&'static CodePage; 7] {
    [
        &WINDOWS_1252,
        &WINDOWS_1251,
        &WINDOWS_1250,
        &ISO_8859_2,
        &WINDOWS_1257,
        &MACINTOSH,
        &CP437,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for cp in all() {
            for b in 0x80u8..=0xFF {
                let c = cp.decode(b);
                if c != '\u{FFFD}' {
                    assert_eq!(cp.encode(c), Some(b), "{} byte {b:#x}", cp.name);
                }
            }
        }
        assert_eq!(WINDOWS_1252.encode('€'), Some(0x80));
        assert_eq!(WINDOWS_1252.encode('\u{81}'), Some(0x81));
        assert_eq!(WINDOWS_1252.encode('\u{80}'), Some(0x80));
        assert_eq!(WINDOWS_1251.encode('Р'), Some(0xD0));
        assert_eq!(CP437.encode('╔'), Some(0xC9));
        assert_eq!(MACINTOSH.encode('√'), Some(0xC3));
        assert_eq!(WINDOWS_1252.encode('Ж'), None);
    }
}
