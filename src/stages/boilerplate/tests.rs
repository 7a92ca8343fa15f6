//! Stage-level tests on fixtures under tests/fixtures/boilerplate (own texts, several languages).

use super::*;
use crate::document::Format;

fn doc(text: &str) -> Document {
    let mut d = Document::new(0, "t".into(), "t.txt".into(), Format::Text, text.to_string());
    d.log.audit = true;
    d
}

fn run(text: &str) -> Document {
    let st = Config::default().build().unwrap();
    let mut d = doc(text);
    st.apply(&mut d, None).unwrap();
    d
}

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/boilerplate").join(name);
    std::fs::read_to_string(p).unwrap()
}

/// Lines marked `+` in a fixture must stay, lines marked `-` must go; `=` lines are free.
fn check_fixture(name: &str) {
    let raw = fixture(name);
    let mut input = String::new();
    let mut keep = Vec::new();
    let mut drop = Vec::new();
    for l in raw.lines() {
        let (mark, body) = match l.char_indices().nth(1) {
            Some((i, _)) => (&l[..i], &l[i..]),
            None => (l, ""),
        };
        let body = body.trim_start_matches(' ');
        match mark {
            "+" => keep.push(body.to_string()),
            "-" => drop.push(body.to_string()),
            _ => {}
        }
        input.push_str(body);
        input.push('\n');
    }
    let d = run(&input);
    let out: Vec<&str> = d.text.lines().collect();
    for k in &keep {
        assert!(out.iter().any(|o| o == k || k.ends_with(o) && !o.is_empty()), "{name}: kept line missing: {k:?}\n---\n{}", d.text);
    }
    for k in &drop {
        if k.trim().is_empty() {
            continue;
        }
        assert!(!out.iter().any(|o| o == k), "{name}: line not removed: {k:?}\n---\n{}", d.text);
    }
}

#[test]
fn english_news_page() {
    check_fixture("en_news.txt");
}

#[test]
fn russian_news_page() {
    check_fixture("ru_news.txt");
}

#[test]
fn german_news_page() {
    check_fixture("de_news.txt");
}

#[test]
fn spanish_news_page() {
    check_fixture("es_news.txt");
}

#[test]
fn removals_name_their_rule() {
    let d = run("Home\nWorld\n- Advertisment -\nThe committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\nLeave a Reply\n");
    let rules: Vec<&str> = d.log.removals.iter().map(|r| r.rule.as_ref()).collect();
    assert!(rules.contains(&"ad-label"), "{rules:?}");
    assert!(rules.contains(&"comment-form"), "{rules:?}");
    assert!(d.log.removals.iter().any(|r| r.line == 3 && r.text == "- Advertisment -"));
    assert!(d.text.contains("The committee met"));
}

#[test]
fn dateline_prefix_becomes_field() {
    let d = run("LONDON (Example Wire - 3rd May, 2023) The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\n\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n");
    assert!(d.text.starts_with("The committee met"), "{}", d.text);
    assert_eq!(d.fields.get("dateline").map(String::as_str), Some("LONDON (Example Wire - 3rd May, 2023)"));
    assert!(d.text.contains("\n\nThe chair said"), "paragraph break kept: {:?}", d.text);
}

#[test]
fn byline_and_timestamp_become_fields() {
    let d = run("The Budget Is Late Again\nBy Mary Example\nUpdated: Mar 08, 2023, 10:15 AM\nThe committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n");
    assert_eq!(d.fields.get("byline").map(String::as_str), Some("Mary Example"));
    assert!(d.fields.contains_key("date"));
    assert!(!d.text.contains("By Mary"));
    assert!(d.text.starts_with("The Budget Is Late Again\n"), "headline kept for title: {}", d.text);
}

#[test]
fn lines_repeated_across_a_source_are_removed() {
    let st = Config::default().build().unwrap();
    let body = ["The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.",
        "A second group of residents said that they would go to court if the road was built through the park.",
        "Officials in the town said that the new school would open in the autumn, a year later than had been planned.",
        "The river rose by two metres overnight and the bridge was closed to traffic until the water went down again."];
    let mut docs: Vec<Document> = body
        .iter()
        .map(|b| {
            let mut d = doc(&format!("{b}\nOur reporters are on the ground and you can reach the desk at any hour of the day or night.\n"));
            d.source = "site-a".into();
            d
        })
        .collect();
    let refs: Vec<&Document> = docs.iter().collect();
    let state = st.prepare(&refs);
    assert!(state.is_some());
    for d in docs.iter_mut() {
        st.apply(d, state.as_ref()).unwrap();
        assert!(!d.text.contains("Our reporters"), "{}", d.text);
        assert!(d.log.removals.iter().any(|r| r.rule == "repeated-in-source"));
    }
    // other sources are not affected
    let mut other = doc(&format!("{}\nOur reporters are on the ground and you can reach the desk at any hour of the day or night.\n", body[0]));
    other.source = "site-b".into();
    st.apply(&mut other, state.as_ref()).unwrap();
    assert!(other.text.contains("Our reporters"));
}

#[test]
fn config_rules_extend_and_disable() {
    let toml = r#"
disable_rules = ["ad-label"]
[[extra_rules]]
name = "house-promo"
prefixes = ["buy the print edition"]
"#;
    let cfg: Config = toml::from_str(toml).unwrap();
    let st = cfg.build().unwrap();
    let text = "The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nBuy the print edition today\nAdvertisement\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n";
    let mut d = doc(text);
    st.apply(&mut d, None).unwrap();
    assert!(d.log.removals.iter().any(|r| r.rule == "house-promo"));
    assert!(!d.log.removals.iter().any(|r| r.rule == "ad-label"));
    let bad: Result<Config, _> = toml::from_str("disable_rules = [\"no-such-rule\"]");
    assert!(bad.unwrap().build().is_err());
    assert!(toml::from_str::<Config>("bogus = 1").is_err());
}

#[test]
fn never_panics_on_odd_input() {
    for t in ["", "\n\n\n", "a", "é\u{a0}\u{200b}", "((((", "MOSCOW (", "—\n—\n", "広告\n大臣は月曜日に協議が続くと述べた。"] {
        let _ = run(t);
    }
}
