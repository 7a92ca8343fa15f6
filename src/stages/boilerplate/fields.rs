//! Bylines, datelines and timestamp lines: they leave the text and become fields.
//!
//! * byline: a short line naming the author ("By Jane Doe", "Автор: Иван Петров",
//!   "Von Max Muster | 12.01.2022") becomes `fields["byline"]`;
//! * timestamp: a short line that is mostly a date/time ("Updated: Jan 08, 2022, 12:53 PM IST",
//!   "Wednesday, 22 January") becomes `fields["date"]`;
//! * dateline: an all-caps place with optional agency/date in front of a lead sentence
//!   ("LONDON (Reuters) - ", "MOSCOW (Agency / Sputnik - 19th January, 2022) ") is cut off
//!   the paragraph and becomes `fields["dateline"]`; the sentence stays.

use once_cell::sync::Lazy;
use regex::Regex;
use rustc_hash::FxHashMap;

use super::gate::GatedRegex;
use super::lang::tokens;

// The byline and dateline patterns run on most short lines: behind gates (`super::gate`)
// most lines are rejected on their first byte without running the regex.
const BYLINE_PATTERN: &str = r"(?x)^(?:
            (?i:by|written\s+by|posted\s+by|words\s+by|story\s+by|reported\s+by|von|par|por|di|door|przez|av|af|oleh)\s+
          | (?i:author|authors|autor|autore|auteur|autorzy|автор|авторы|автор\ материала|текст|автори|المؤلف|作者|bron|source)\s*[:：]\s*
          )
          (?P<name>\p{Lu}[\p{L}.'’\-]*(?:\s+(?:\p{Lu}[\p{L}.'’\-]*|and|und|et|y|e|i|и|і|та|de|da|van|von|der|al|bin|la|le|,)){0,7})
          (?P<rest>\s*(?:[|,•·–—-]\s*.*|\d.*)?)$";
static BYLINE: Lazy<GatedRegex> =
    Lazy::new(|| GatedRegex::new(BYLINE_PATTERN).expect("byline regex"));

/// "Jane Doe, AP Auto Writer", "Max Muster, Reuters", "Jane Doe - Staff Reporter"
const BYLINE_ROLE_PATTERN: &str = r"^(?P<name>\p{Lu}[\p{L}.'’\-]+(?:\s+\p{Lu}[\p{L}.'’\-]*){1,3})\s*(?:,|\s[-–—|]\s)\s*(?i:(?:associated press|ap|afp|reuters|dpa|efe|ansa|tass|the associated press)|(?:[\p{L}.]+\s+){0,3}(?:writer|reporter|correspondent|editor|staff|journalist|contributor|columnist|корреспондент|журналист|редактор|korrespondent|redakteur|journaliste|periodista|jornalista|giornalista))$";
static BYLINE_ROLE: Lazy<GatedRegex> =
    Lazy::new(|| GatedRegex::new(BYLINE_ROLE_PATTERN).expect("byline role regex"));

const DATELINE_PATTERN: &str = r"(?x)^
          (?P<d>
            [\p{Lu}][\p{Lu}\.'’\-]{2,}(?:\s+[\p{Lu}][\p{Lu}\.'’\-]+){0,3}    # PLACE in capitals
            (?:,\s*[\p{L}\p{N}\.\ ]{2,30})?                                    # , Country / , Jan 5
            \s*
            (?:
               \([^()]{2,90}\)\s*(?:[-–—:]\s*)?                          # (Agency / date) -
             | [-–—]\s+                                                   # —
             | /[^/]{2,40}/\s*[-–—.]?\s*                                  # /TASS/.
            )
          )
          \p{Lu}";
static DATELINE: Lazy<GatedRegex> =
    Lazy::new(|| GatedRegex::new(DATELINE_PATTERN).expect("dateline regex"));

static NUMERIC_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?-u:\b)(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}|(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2})(?-u:\b)").expect("date regex")
});

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "yesterday",
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
    "сегодня",
    "вчера",
    "понеділок",
    "вівторок",
    "середа",
    "четвер",
    "субота",
    "неділя",
    "сьогодні",
    "вчора",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
];

const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
    "янв",
    "фев",
    "мар",
    "апр",
    "июн",
    "июл",
    "авг",
    "сен",
    "окт",
    "ноя",
    "дек",
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
    "januar",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "janvier",
    "février",
    "mars",
    "avril",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "janeiro",
    "fevereiro",
    "março",
    "maio",
    "junho",
    "julho",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
    "gennaio",
    "febbraio",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "settembre",
    "ottobre",
    "dicembre",
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];

const DATE_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "am",
    "pm",
    "a",
    "p",
    "m",
    "gmt",
    "utc",
    "ist",
    "est",
    "edt",
    "pst",
    "pdt",
    "cet",
    "cest",
    "bst",
    "msk",
    "et",
    "updated",
    "update",
    "published",
    "posted",
    "last",
    "first",
    "on",
    "at",
    "modified",
    "date",
    "time",
    "hours",
    "ago",
    "minutes",
    "min",
    "read",
    "h",
    "hrs",
    "th",
    "st",
    "nd",
    "rd",
    "of",
    "de",
    "del",
    "do",
    "da",
    "le",
    "la",
    "am",
    "um",
    "à",
    "às",
    "alle",
    "ore",
    "o",
    "в",
    "г",
    "года",
    "обновлено",
    "опубликовано",
    "оновлено",
    "опубліковано",
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
    "понеділок",
    "вівторок",
    "середа",
    "четвер",
    "пʼятниця",
    "субота",
    "неділя",
    "aktualisiert",
    "veröffentlicht",
    "uhr",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "publié",
    "mis",
    "jour",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "actualizado",
    "publicado",
    "atualizado",
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
    "aggiornato",
    "pubblicato",
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
    "aktualizacja",
    "opublikowano",
    "godz",
    "today",
    "yesterday",
    "сегодня",
    "вчера",
    "сьогодні",
    "вчора",
];

/// Flags of the date words: month names, other date words, weekdays.
const MONTH: u8 = 1;
const DATE_WORD: u8 = 2;
const WEEKDAY: u8 = 4;

/// [`MONTHS`], [`DATE_WORDS`] and [`WEEKDAYS`] in one map: `timestamp` looks up every
/// token of every short line with a digit, and three linear scans of a few hundred words
/// were most of its time.
static DATE_FLAGS: Lazy<FxHashMap<&'static str, u8>> = Lazy::new(|| {
    let mut m: FxHashMap<&'static str, u8> = FxHashMap::default();
    for (list, flag) in [
        (MONTHS, MONTH),
        (DATE_WORDS, DATE_WORD),
        (WEEKDAYS, WEEKDAY),
    ] {
        for w in list {
            *m.entry(w).or_default() |= flag;
        }
    }
    m
});

/// Compile the patterns now (when the stage is built) rather than on the first line.
pub fn init() {
    Lazy::force(&BYLINE);
    Lazy::force(&BYLINE_ROLE);
    Lazy::force(&DATELINE);
    Lazy::force(&NUMERIC_DATE);
    Lazy::force(&DATE_FLAGS);
}

/// A byline: returns the author part.
pub fn byline(line: &str) -> Option<&str> {
    let t = line.trim();
    byline_trimmed(t, t.chars().count())
}

/// [`byline`] of an already trimmed line of `chars` characters.
pub fn byline_trimmed(t: &str, chars: usize) -> Option<&str> {
    if chars > 120 || t.ends_with('.') && !t.ends_with(" Jr.") {
        return None;
    }
    if let Some(c) = BYLINE_ROLE.captures(t) {
        return c.name("name").map(|m| m.as_str());
    }
    let c = BYLINE.captures(t)?;
    let name = c.name("name")?.as_str().trim_end_matches([',', ' ']);
    if name.is_empty() {
        return None;
    }
    Some(name)
}

/// A line that is (almost) nothing but a date/time stamp.
pub fn timestamp(line: &str) -> bool {
    let t = line.trim();
    // every timestamp has a digit: most lines leave here
    if t.is_empty()
        || t.len() > 400
        || !has_ascii_digit(t.as_bytes())
        || t.len() > 100 && t.chars().count() > 100
    {
        return false;
    }
    let (mut date, mut other, mut digits, mut month, mut weekday) =
        (0u32, 0u32, 0u32, false, false);
    let mut lower = String::new();
    for tok in tokens(t) {
        // lower-cased on a reused buffer (ASCII without decoding), as `to_lowercase` would
        lower.clear();
        if tok.is_ascii() {
            lower.push_str(tok);
            lower.make_ascii_lowercase();
        } else {
            lower.push_str(&tok.to_lowercase());
        }
        let flags = DATE_FLAGS.get(lower.as_str()).copied().unwrap_or(0);
        if tok.bytes().all(|c| c.is_ascii_digit()) {
            digits += 1;
            date += 1;
        } else if flags & MONTH != 0 {
            month = true;
            date += 1;
        } else if flags & DATE_WORD != 0 {
            weekday |= flags & WEEKDAY != 0;
            date += 1;
        } else if tok.chars().take_while(|c| c.is_ascii_digit()).count() > 0 && tok.len() <= 6 {
            // 19th, 12h30, 2022г
            digits += 1;
            date += 1;
        } else {
            other += 1;
            // the verdict below needs `other <= 3`: a sentence with a number leaves here
            if other > 3 {
                return false;
            }
        }
    }
    if t.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'@' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
    {
        // an embedded post's attribution ("— Name (@handle) May 5, 2020") is content
        return false;
    }
    let b = t.as_bytes();
    let has_clock = b.windows(4).any(|w| {
        w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    }) || b.windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b'h'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    });
    (month || weekday || has_clock || NUMERIC_DATE.is_match(t))
        && date >= 2
        && other <= 3
        && date >= other
        && digits >= 1
}

/// Whether `b` has an ASCII digit. Why not `bytes().any()`: its early exit keeps it to a
/// byte at a time, and most lines have no digit or have it late; 32-byte chunks without an
/// exit inside vectorise (a fifth of the cost of `timestamp` on a dump's lines).
fn has_ascii_digit(b: &[u8]) -> bool {
    b.chunks(32)
        .any(|c| c.iter().fold(false, |any, &x| any | x.is_ascii_digit()))
}

/// The dateline prefix of a lead paragraph, as a byte length to cut (with trailing spaces).
pub fn dateline(line: &str) -> Option<usize> {
    if !may_start_dateline(line) {
        return None;
    }
    let c = DATELINE.captures(line)?;
    let d = c.name("d")?;
    // the place must be a real word in capitals, not an acronym sentence opener like "NATO said"
    let s = d.as_str();
    let has_sep = s.contains('(')
        || s.contains('—')
        || s.contains('–')
        || s.contains(" - ")
        || s.contains('/');
    if !has_sep {
        return None;
    }
    Some(d.end())
}

/// False when `line` cannot start a dateline: its place needs three characters in capitals
/// first (`[\p{Lu}][\p{Lu}.'’-]{2,}`; every `Lu` letter is `is_uppercase`, so this only
/// ever says false to lines the pattern would refuse). Why: the pattern is searched with
/// captures, which costs an allocation and the slower engines, on the first lines of every
/// document; nearly all of them start with a capital and a small letter.
fn may_start_dateline(line: &str) -> bool {
    let mut cs = line.chars();
    cs.next().is_some_and(char::is_uppercase)
        && cs
            .take(2)
            .filter(|&c| c.is_uppercase() || matches!(c, '.' | '\'' | '’' | '-'))
            .count()
            == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `timestamp` before the date-word map: linear scans and `to_lowercase` per token.
    fn timestamp_reference(line: &str) -> bool {
        let t = line.trim();
        if t.is_empty()
            || t.len() > 400
            || !t.bytes().any(|b| b.is_ascii_digit())
            || t.chars().count() > 100
        {
            return false;
        }
        let (mut date, mut other, mut digits, mut month, mut weekday) =
            (0u32, 0u32, 0u32, false, false);
        for tok in tokens(t) {
            let lower = tok.to_lowercase();
            let l = lower.as_str();
            if tok.chars().all(|c| c.is_ascii_digit()) {
                digits += 1;
                date += 1;
            } else if MONTHS.contains(&l) {
                month = true;
                date += 1;
            } else if DATE_WORDS.contains(&l) {
                weekday |= WEEKDAYS.contains(&l);
                date += 1;
            } else if tok.chars().take_while(|c| c.is_ascii_digit()).count() > 0 && tok.len() <= 6 {
                digits += 1;
                date += 1;
            } else {
                other += 1;
            }
        }
        if t.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'@' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
        {
            return false;
        }
        let b = t.as_bytes();
        let has_clock = b.windows(4).any(|w| {
            w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
        }) || b.windows(5).any(|w| {
            w[0].is_ascii_digit()
                && w[1].is_ascii_digit()
                && w[2] == b'h'
                && w[3].is_ascii_digit()
                && w[4].is_ascii_digit()
        });
        (month || weekday || has_clock || NUMERIC_DATE.is_match(t))
            && date >= 2
            && other <= 3
            && date >= other
            && digits >= 1
    }

    #[test]
    fn timestamp_agrees_with_the_reference_and_gates_hold() {
        let mut lines = crate::stages::boilerplate::gate::tests::sample_hays();
        let words: Vec<&str> = MONTHS
            .iter()
            .chain(DATE_WORDS)
            .chain(WEEKDAYS)
            .copied()
            .collect();
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20000 {
            let mut l = String::new();
            for _ in 0..(x % 7 + 1) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match x % 5 {
                    0 => l.push_str(&words[(x / 5 % words.len() as u64) as usize].to_uppercase()),
                    1 => l.push_str(words[(x / 5 % words.len() as u64) as usize]),
                    2 => l.push_str(&(x % 3000).to_string()),
                    3 => l.push_str(
                        [
                            "12:30",
                            "2021-03-12",
                            "19th",
                            "x",
                            "@a",
                            "Σ",
                            "ПОНЕДЕЛЬНИК",
                            "12h30",
                        ][(x / 5 % 8) as usize],
                    ),
                    _ => l.push_str([" ", ", ", " · ", ": "][(x / 5 % 4) as usize]),
                }
                l.push(' ');
            }
            lines.push(l);
        }
        let mut yes = 0;
        for l in &lines {
            let a = timestamp(l);
            assert_eq!(a, timestamp_reference(l), "{l:?}");
            yes += a as usize;
        }
        assert!(yes > 100, "{yes}");
        for p in [BYLINE_PATTERN, BYLINE_ROLE_PATTERN, DATELINE_PATTERN] {
            crate::stages::boilerplate::gate::tests::check_gate(p, &lines);
        }
    }

    #[test]
    fn bylines() {
        assert_eq!(byline("By Jane Doe"), Some("Jane Doe"));
        assert_eq!(
            byline("By JANE DOE and John Smith | Updated 5 May"),
            Some("JANE DOE and John Smith")
        );
        assert_eq!(byline("Автор: Иван Петров"), Some("Иван Петров"));
        assert_eq!(byline("Von Max Mustermann"), Some("Max Mustermann"));
        assert_eq!(byline("Por María García"), Some("María García"));
        assert_eq!(byline("By the end of the year the plant was closed."), None);
        assert_eq!(byline("Jane Example, AP Auto Writer"), Some("Jane Example"));
        assert_eq!(byline("Max Muster, Reuters"), Some("Max Muster"));
        assert_eq!(
            byline("By Jane Doe 2019-11-18T20:51:19Z Science"),
            Some("Jane Doe")
        );
        assert_eq!(byline("by train to the coast"), None);
    }

    #[test]
    fn timestamps() {
        assert!(timestamp("Wednesday, 22 January"));
        assert!(timestamp("Updated: Jan 08, 2022, 12:53 PM IST"));
        assert!(timestamp(
            "First Published: Tuesday, November 19, 2019 08:38 AM"
        ));
        assert!(timestamp("19 января 2022, 14:05"));
        assert!(timestamp("12.03.2021 10:15"));
        assert!(timestamp("Mis à jour le 3 mars 2022 à 10h30"));
        assert!(!timestamp("Avoid the error of 2014"));
        assert!(!timestamp("VIP : 60,000"));
        assert!(!timestamp("Score 4.5 out of 5"));
        assert!(!timestamp("— A Person (@someone) November 18, 2019"));
        assert!(timestamp(
            "Nov 18, 2019 @17:19 PM · Updated: Nov 18, 2019 @17:26 PM"
        ));
        assert!(!timestamp("The vote is on 5 May and results come in June."));
    }

    #[test]
    fn datelines() {
        let l = "MOSCOW (Pakistan Point News / Sputnik - 19th January, 2022) NATO Secretary General said Wednesday.";
        let n = dateline(l).unwrap();
        assert!(l[n..].starts_with("NATO Secretary"));
        let l = "LONDON (Reuters) - The Bank of England raised rates.";
        assert!(l[dateline(l).unwrap()..].starts_with("The Bank"));
        let l = "WASHINGTON — The Senate voted on Tuesday.";
        assert!(l[dateline(l).unwrap()..].starts_with("The Senate"));
        let l = "КИЕВ, 5 мая — Министр заявил о переговорах.";
        assert!(l[dateline(l).unwrap()..].starts_with("Министр"));
        assert_eq!(
            dateline("NATO Secretary General Jens Stoltenberg said on Tuesday."),
            None
        );
        assert_eq!(dateline("The UN (United Nations) said"), None);
    }

    /// The cheap first check never refuses a line the pattern matches.
    #[test]
    fn dateline_precheck_is_a_superset() {
        let lines = [
            "MOSCOW (Sputnik) - NATO said.",
            "ST. PETERSBURG — The city voted.",
            "O'HARE - Flights resumed.",
            "D’AUTRE — Texte.",
            "U.S. (AP) - Officials said.",
            "КИЕВ, 5 мая — Министр заявил.",
            "ΑΘΗΝΑ — Η κυβέρνηση.",
            "Moscow (Sputnik) - NATO said.",
            "A-B (X) - Y",
            "AB (X) - Y",
            "",
            "É",
        ];
        for l in lines {
            if DATELINE.captures(l).is_some() {
                assert!(may_start_dateline(l), "{l}");
            }
            assert_eq!(
                dateline(l),
                DATELINE.captures(l).and_then(|c| {
                    let d = c.name("d")?;
                    let s = d.as_str();
                    ["(", "—", "–", " - ", "/"]
                        .iter()
                        .any(|p| s.contains(p))
                        .then(|| d.end())
                }),
                "{l}"
            );
        }
        assert!(may_start_dateline("ST. PETERSBURG"));
        assert!(!may_start_dateline("Moscow (Sputnik) -"));
        assert!(!may_start_dateline("AB"));
    }
}
