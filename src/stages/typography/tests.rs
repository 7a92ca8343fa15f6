use std::borrow::Cow;

use super::*;

fn fix(s: &str) -> String {
    typography(s, &Options::default()).0.into_owned()
}

fn counts(s: &str) -> TypoCounts {
    typography(s, &Options::default()).1
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    input: String,
    expected: String,
}

fn fixtures() -> Vec<Case> {
    include_str!("../../../tests/fixtures/typography/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture line is valid JSON"))
        .collect()
}

#[test]
fn fixture_cases() {
    let cases = fixtures();
    assert!(cases.len() > 40);
    let mut failures = Vec::new();
    for c in &cases {
        let got = fix(&c.input);
        if got != c.expected {
            failures.push(format!("{}: got {:?}, want {:?}", c.name, got, c.expected));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn must_not_change_cases_come_back_borrowed_and_uncounted() {
    for c in fixtures().iter().filter(|c| c.input == c.expected) {
        let (out, n) = typography(&c.input, &Options::default());
        assert!(matches!(out, Cow::Borrowed(_)), "{}", c.name);
        assert_eq!(n.total(), 0, "{}", c.name);
    }
}

#[test]
fn output_is_a_fixpoint() {
    for c in fixtures() {
        let once = fix(&c.input);
        assert_eq!(fix(&once), once, "{}", c.name);
    }
}

#[test]
fn seed_example_moves_the_space_after_the_quote() {
    assert_eq!(fix("immediately, ”he said"), "immediately,” he said");
    assert_eq!(
        fix("“It ends today. ”The crowd cheered."),
        "“It ends today.” The crowd cheered."
    );
    // Not after a word: an opening `”` (Swedish, Finnish style) stays.
    assert_eq!(fix("han sa ”hej” då"), "han sa ”hej” då");
}

#[test]
fn quotes_opening_closing_and_nesting() {
    assert_eq!(fix("“ Yes,” she said."), "“Yes,” she said.");
    assert_eq!(fix("(“ quoted ”)"), "(“quoted”)");
    // A German closing `“` keeps the space after it.
    assert_eq!(fix("„Ja“ sagte er"), "„Ja“ sagte er");
    // `’ ”` between nested quotes stays.
    assert_eq!(fix("“He said ‘go.’ ” Then"), "“He said ‘go.’ ” Then");
    // A second `“` while one is open is a mis-curled closing quote: no space removed after it.
    assert_eq!(
        fix("Jimmy “the Whirlwind “ White"),
        "Jimmy “the Whirlwind “ White"
    );
    assert_eq!(fix("the “B-“ rating"), "the “B-“ rating");
    // A lone `” ` without an open quote on the line is not touched unless it follows punctuation.
    assert_eq!(fix("size 5 ” wide"), "size 5 ” wide");
}

#[test]
fn punctuation_spacing() {
    assert_eq!(fix("a , b ; c : d ! e ? f ."), "a, b; c: d! e? f.");
    assert_eq!(fix("( x )"), "(x)");
    assert_eq!(fix("(1-0 ): won"), "(1-0): won");
    assert_eq!(fix("Is it ?!"), "Is it?!");
    assert_eq!(fix("the end .”"), "the end.”");
    // Left alone.
    for s in [
        "a ... b",
        "then ...",
        "x . . . y",
        ".DJI rose",
        "a .45 pistol",
        "smile :)",
        "wink ;)",
        "sad :( now",
        "2 : 1",
        "1 ,000",
        "* .",
        "( )",
    ] {
        assert_eq!(fix(s), s);
    }
}

#[test]
fn whitespace_and_lines() {
    assert_eq!(fix("a\u{a0}\u{a0}b"), "a b");
    assert_eq!(fix("a\u{2007}b\u{205f}c\u{200a}d\u{1680}e"), "a b c d e");
    assert_eq!(fix(" \t \n\n x \n \n\n\n y \n\n"), "x\n\ny");
    assert_eq!(fix("a\nb"), "a\nb");
    assert_eq!(fix("a\r\n\r\nb"), "a\n\nb");
    assert_eq!(fix("   "), "");
    assert_eq!(fix(""), "");
    assert_eq!(fix("\n"), "");
}

#[test]
fn invisibles() {
    assert_eq!(fix("\u{feff}Hello"), "Hello");
    assert_eq!(fix("re\u{ad}port"), "report");
    assert_eq!(fix("a\u{200b}b\u{2060}c\u{200c}d\u{200d}e"), "abcde");
    assert_eq!(fix("left\u{202a}embedded\u{202c}"), "leftembedded");
    // Kept where they do a job.
    for s in [
        "👩\u{200d}💻",
        "❤\u{fe0f}\u{200d}🔥",
        "ब\u{200d}ि",
        "نمی\u{200c}شود",
        "ข่าว\u{200b}วันนี้",
        "עברית\u{200e} 1",
    ] {
        assert_eq!(fix(s), s, "{s:?}");
    }
}

#[test]
fn full_width_only_outside_cjk() {
    assert_eq!(fix("ｔｈｅ ｆｉｎａｌ（２０２４）"), "the final(2024)");
    assert_eq!(fix("価格は＄１００（税込）"), "価格は＄１００（税込）");
    // A line without letters follows the document's script.
    assert_eq!(
        fix("日本語の記事です。\n（２）"),
        "日本語の記事です。\n（２）"
    );
    assert_eq!(fix("An English story.\n（２）"), "An English story.\n(2)");
    // An English paragraph quoted in a Japanese article is Latin-script text.
    assert_eq!(
        fix("日本語の記事です。日本語の記事です。\nＴｈｅ ｍｉｎｉｓｔｅｒ said ｔｈｅｒｅ was no deal."),
        "日本語の記事です。日本語の記事です。\nThe minister said there was no deal."
    );
}

#[test]
fn counts_per_rule() {
    let n = counts("a\u{a0}b  c \r\n\r\n\r\nd ,e\u{ad}f ﬁ ｘ \u{200b}");
    assert_eq!(n.odd_space, 1);
    assert_eq!(n.space_run, 1);
    assert_eq!(n.crlf, 3);
    assert_eq!(n.blank_lines, 1);
    assert_eq!(n.soft_hyphen, 1);
    assert_eq!(n.ligature, 1);
    assert_eq!(n.full_width, 1);
    assert_eq!(n.invisible, 1);
    assert_eq!(n.trailing_space, 2);
    assert_eq!(n.space_before_punct, 0, "`,e` is not followed by a space");
    assert_eq!(counts("x , y").space_before_punct, 1);
    assert_eq!(counts("(“ q ”)").quote_spacing, 2);
    assert_eq!(counts("clean text.").total(), 0);
}

#[test]
fn options_switch_rule_families_off() {
    let opts = Options {
        ligatures: false,
        full_width: false,
        punct_spacing: false,
        ..Options::default()
    };
    let s = "ﬁ ｘ a , b";
    assert_eq!(typography(s, &opts).0, s);
    let straight = Options {
        quotes: QuotePolicy::Straight,
        ..Options::default()
    };
    let (out, n) = typography("“Hi,” she said. ‘Yes’ «non» it’s", &straight);
    assert_eq!(out, "\"Hi,\" she said. 'Yes' «non» it's");
    assert_eq!(n.straight_quotes, 5);
}

#[test]
fn config_parses_and_rejects_unknown_keys() {
    let c: Config = toml::from_str("quotes = \"straight\"\nligatures = false").unwrap();
    assert_eq!(c.quotes, QuotePolicy::Straight);
    assert!(!c.ligatures && c.full_width && c.punct_spacing);
    assert!(toml::from_str::<Config>("quote = \"keep\"").is_err());
    assert!(toml::from_str::<Config>("quotes = \"curly\"").is_err());
    let d = Config::default();
    assert_eq!(d.quotes, QuotePolicy::Keep);
}

#[test]
fn title_is_one_line() {
    let (t, _) = typography_title("  Storm\u{a0}hits\n\ncoast ", &Options::default());
    assert_eq!(t, "Storm hits coast");
    let (t, _) = typography_title("Clean title", &Options::default());
    assert!(matches!(t, Cow::Borrowed(_)));
}

#[test]
fn stage_applies_to_text_and_title_and_logs() {
    use crate::document::{Document, Format};
    let stage = Config::default().build().unwrap();
    let mut doc = Document::new(
        0,
        "d".into(),
        "in".into(),
        Format::Text,
        "A\u{a0}b , c.\r\n".into(),
    );
    doc.title = Some("T\u{ad}itle ".into());
    stage.apply(&mut doc, None).unwrap();
    assert_eq!(doc.text, "A b, c.");
    assert_eq!(doc.title.as_deref(), Some("Title"));
    let get = |r: &str| {
        doc.log
            .counts
            .iter()
            .find(|c| c.stage == "typography" && c.rule == r)
            .map(|c| c.n)
    };
    assert_eq!(get("odd-space"), Some(1));
    assert_eq!(get("space-before-punct"), Some(1));
    assert_eq!(get("soft-hyphen"), Some(1));
    assert_eq!(get("trailing-space"), Some(1));
    assert_eq!(get("crlf"), Some(1));
}

/// Deterministic pseudo-random strings over an alphabet of tricky characters.
fn random_texts(n: usize) -> Vec<String> {
    const ALPHABET: &[&str] = &[
        "a", "b", "Z", "é", "1", " ", " ", " ", "\n", "\n", "\r", "\t", "\u{a0}", "\u{3000}", ",",
        ".", ";", ":", "!", "?", "(", ")", "“", "”", "„", "‘", "’", "\"", "…", "—", "\u{200b}",
        "\u{200d}", "\u{200c}", "\u{ad}", "\u{feff}", "\u{200e}", "ﬁ", "ｘ", "，", "日", "한", "я",
        "👩", "\u{301}", "\u{2028}", "*", "-", "=", "%",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = (next() % 40) as usize;
            (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[test]
fn random_texts_are_fixpoints_and_quick_scan_is_sound() {
    let opts = Options::default();
    for s in random_texts(20_000) {
        let once = fix(&s);
        let twice = fix(&once);
        assert_eq!(twice, once, "not a fixpoint for {s:?}");
        if quick_clean(&s, &opts) {
            assert_eq!(
                super::core::rewrite_for_tests(&s, &opts),
                s,
                "quick scan passed a text the rules change: {s:?}"
            );
        }
        // No stray whitespace or invisible characters survive in Latin text.
        assert!(
            !once.contains(['\r', '\t', '\u{a0}', '\u{ad}', '\u{feff}']),
            "{s:?} -> {once:?}"
        );
        assert!(!once.contains("  ") && !once.contains("\n\n\n") && !once.starts_with(['\n', ' ']));
    }
}
