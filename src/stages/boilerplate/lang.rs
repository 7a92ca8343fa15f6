//! Stop-word lists per language (jusText's idea: prose is dense in function words, menus,
//! headlines and link lists are not) and a per-document language guess.
//!
//! The lists are data files (`stopwords/<lang>.txt`, words separated by whitespace, `#`
//! comments) compiled in. Words map to a bit mask of the languages that list them, so one
//! hash lookup per token serves every language. Chinese is counted per character; Japanese
//! (no list) is recognised by its kana particles.

use std::collections::HashMap;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

/// Languages with a stop-word list, in bit order.
pub const LANGS: &[(&str, &str)] = &[
    ("en", include_str!("stopwords/en.txt")),
    ("ru", include_str!("stopwords/ru.txt")),
    ("uk", include_str!("stopwords/uk.txt")),
    ("de", include_str!("stopwords/de.txt")),
    ("fr", include_str!("stopwords/fr.txt")),
    ("es", include_str!("stopwords/es.txt")),
    ("it", include_str!("stopwords/it.txt")),
    ("pt", include_str!("stopwords/pt.txt")),
    ("pl", include_str!("stopwords/pl.txt")),
    ("ar", include_str!("stopwords/ar.txt")),
    ("zh", include_str!("stopwords/zh.txt")),
    ("id", include_str!("stopwords/id.txt")),
    ("nl", include_str!("stopwords/nl.txt")),
];

/// Index of Chinese in [`LANGS`] (its list is of characters).
const ZH: usize = 10;

/// The document's script/language family as far as the classifier cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// A language with a word list (index into [`LANGS`]).
    Words(usize),
    /// Chinese: stop characters over CJK characters.
    Chinese,
    /// Japanese: kana share of the characters.
    Japanese,
    /// No list: stop-word density is not used.
    Unknown,
}

#[derive(Debug)]
pub struct StopWords {
    words: HashMap<String, u32, Xxh3DefaultBuilder>,
    zh_chars: Vec<char>,
}

/// Counts of one line: tokens, stop words in the document language, characters of CJK.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineCounts {
    pub words: u32,
    pub stops: u32,
    /// Tokens looked up for `stops` (a long line is sampled: its first [`SAMPLE_TOKENS`]).
    pub sampled: u32,
}

/// Stop-word density of a long line is estimated from this many tokens.
pub const SAMPLE_TOKENS: u32 = 64;

impl LineCounts {
    pub fn density(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.stops as f64 / self.sampled as f64
        }
    }
}

impl StopWords {
    pub fn builtin() -> StopWords {
        let mut words: HashMap<String, u32, Xxh3DefaultBuilder> = HashMap::default();
        let mut zh_chars = Vec::new();
        for (i, (_, text)) in LANGS.iter().enumerate() {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                for w in line.split_whitespace() {
                    if i == ZH {
                        zh_chars.extend(w.chars());
                    } else {
                        *words.entry(w.to_lowercase()).or_default() |= 1 << i;
                    }
                }
            }
        }
        zh_chars.sort_unstable();
        zh_chars.dedup();
        StopWords { words, zh_chars }
    }

    /// Guess the document language from its text: the word list with most hits, unless CJK
    /// characters dominate.
    pub fn detect(&self, text: &str) -> Lang {
        let mut hits = [0u32; 32];
        let (mut cjk, mut kana, mut letters) = (0u32, 0u32, 0u32);
        let mut buf = String::new();
        // a sample is enough: 8 kB from the middle, where the body of a page usually is
        const SAMPLE: usize = 8_000;
        let mut start = text.len().saturating_sub(SAMPLE) / 2;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        let mut end = (start + SAMPLE).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let sample = &text[start..end];
        for c in sample.chars() {
            if c.is_ascii() {
                letters += c.is_ascii_alphabetic() as u32;
            } else if c.is_alphabetic() {
                letters += 1;
                if is_kana(c) {
                    kana += 1;
                } else if is_han(c) {
                    cjk += 1;
                }
            }
        }
        if letters > 0 && (cjk + kana) * 3 > letters {
            return if kana * 5 > cjk { Lang::Japanese } else { Lang::Chinese };
        }
        for tok in tokens(sample) {
            lower_into(tok, &mut buf);
            if let Some(&m) = self.words.get(buf.as_str()) {
                for (i, h) in hits.iter_mut().enumerate().take(LANGS.len()) {
                    if m & (1 << i) != 0 {
                        *h += 1;
                    }
                }
            }
        }
        let (best, n) = hits.iter().enumerate().take(LANGS.len()).max_by_key(|(i, h)| (**h, usize::MAX - *i)).map(|(i, h)| (i, *h)).unwrap_or((0, 0));
        if n < 5 {
            Lang::Unknown
        } else {
            Lang::Words(best)
        }
    }

    /// Count tokens and stop words of `line` for language `lang`. `buf` is scratch space.
    pub fn count(&self, line: &str, lang: Lang, buf: &mut String) -> LineCounts {
        let mut c = LineCounts::default();
        match lang {
            Lang::Words(i) => {
                for tok in tokens(line) {
                    c.words += 1;
                    if c.sampled >= SAMPLE_TOKENS {
                        continue;
                    }
                    c.sampled += 1;
                    lower_into(tok, buf);
                    if let Some(&m) = self.words.get(buf.as_str()) {
                        if m & (1 << i) != 0 {
                            c.stops += 1;
                        }
                    }
                }
            }
            Lang::Chinese | Lang::Japanese => {
                // a CJK character counts as a "word"; latin tokens count as one each
                for tok in tokens(line) {
                    let mut any_cjk = false;
                    for ch in tok.chars() {
                        if is_han(ch) || is_kana(ch) {
                            any_cjk = true;
                            c.words += 1;
                            let stop = if lang == Lang::Chinese { self.zh_chars.binary_search(&ch).is_ok() } else { is_hiragana(ch) };
                            if stop {
                                c.stops += 1;
                            }
                        }
                    }
                    if !any_cjk {
                        c.words += 1;
                    }
                }
                c.sampled = c.words;
            }
            Lang::Unknown => {
                c.words = tokens(line).count() as u32;
                c.sampled = c.words;
            }
        }
        c
    }
}

/// Word tokens: maximal runs of alphanumeric characters (apostrophes inside kept).
pub fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(if c.is_ascii() { c.is_ascii_alphanumeric() || c == '\'' } else { c == '’' || c.is_alphanumeric() }))
        .map(|t| t.trim_matches(['\'', '’']))
        .filter(|t| !t.is_empty())
}

fn lower_into(tok: &str, buf: &mut String) {
    buf.clear();
    if tok.is_ascii() {
        buf.push_str(tok);
        buf.make_ascii_lowercase();
        return;
    }
    for c in tok.chars() {
        if c == '’' {
            buf.push('\'');
        } else if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
        } else {
            buf.extend(c.to_lowercase());
        }
    }
}

fn is_hiragana(c: char) -> bool {
    ('\u{3040}'..='\u{309f}').contains(&c)
}

fn is_kana(c: char) -> bool {
    ('\u{3040}'..='\u{30ff}').contains(&c)
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn density(sw: &StopWords, text: &str) -> f64 {
        let lang = sw.detect(text);
        let mut b = String::new();
        let c = sw.count(text, lang, &mut b);
        c.density()
    }

    #[test]
    fn detects_languages() {
        let sw = StopWords::builtin();
        let idx = |code: &str| LANGS.iter().position(|(c, _)| *c == code).unwrap();
        let cases = [
            ("en", "The minister said that the talks would continue on Monday and that he was hopeful about the outcome of it."),
            ("ru", "Министр заявил, что переговоры будут продолжены в понедельник, и он надеется на то, что это даст результат."),
            ("uk", "Міністр заявив, що переговори будуть продовжені в понеділок, і він сподівається, що це дасть результат, який усі чекають."),
            ("de", "Der Minister sagte, dass die Gespräche am Montag fortgesetzt werden und er sei zuversichtlich, was das Ergebnis angeht."),
            ("fr", "Le ministre a déclaré que les discussions se poursuivraient lundi et qu'il était optimiste quant au résultat de ces échanges."),
            ("es", "El ministro dijo que las conversaciones continuarán el lunes y que él es optimista sobre el resultado de las mismas."),
            ("it", "Il ministro ha detto che i colloqui continueranno lunedì e che lui è ottimista sul risultato della trattativa con gli alleati."),
            ("pt", "O ministro disse que as conversas vão continuar na segunda-feira e que ele está otimista com o resultado das negociações."),
            ("pl", "Minister powiedział, że rozmowy będą kontynuowane w poniedziałek i że jest on dobrej myśli, jeśli chodzi o ich wynik."),
            ("ar", "قال الوزير إن المحادثات ستستمر يوم الاثنين وإنه متفائل بشأن النتيجة التي قد تصل إليها في هذا الأسبوع من أجل السلام."),
        ];
        for (code, text) in cases {
            assert_eq!(sw.detect(text), Lang::Words(idx(code)), "{code}");
            assert!(density(&sw, text) > 0.2, "{code} density {}", density(&sw, text));
        }
        assert_eq!(sw.detect("部长说，会谈将在星期一继续进行，他对会谈的结果持乐观态度。这是我们的新闻。"), Lang::Chinese);
        assert_eq!(sw.detect("大臣は月曜日に協議が続くと述べ、その結果については楽観的だと語った。"), Lang::Japanese);
    }

    #[test]
    fn menus_have_few_stop_words() {
        let sw = StopWords::builtin();
        let lang = sw.detect("The minister said that the talks would continue on Monday and that he was hopeful about it.");
        let mut b = String::new();
        let c = sw.count("Politics Business Technology Science Health Sports Entertainment Video", lang, &mut b);
        assert_eq!(c.stops, 0);
        assert_eq!(c.words, 8);
    }

    #[test]
    fn chinese_counts_characters() {
        let sw = StopWords::builtin();
        let mut b = String::new();
        let c = sw.count("他说的是对的", Lang::Chinese, &mut b);
        assert_eq!(c.words, 6);
        assert!(c.stops >= 4);
    }
}
