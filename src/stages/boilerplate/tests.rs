//! Stage-level tests on fixtures under tests/fixtures/boilerplate (own texts, several languages).

use super::*;
use crate::document::Format;

fn doc(text: &str) -> Document {
    let mut d = Document::new(
        0,
        "t".into(),
        "t.txt".into(),
        Format::Text,
        text.to_string(),
    );
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
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/boilerplate")
        .join(name);
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
        assert!(
            out.iter()
                .any(|o| o == k || k.ends_with(o) && !o.is_empty()),
            "{name}: kept line missing: {k:?}\n---\n{}",
            d.text
        );
    }
    for k in &drop {
        if k.trim().is_empty() {
            continue;
        }
        assert!(
            !out.iter().any(|o| o == k),
            "{name}: line not removed: {k:?}\n---\n{}",
            d.text
        );
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
fn french_news_page() {
    check_fixture("fr_news.txt");
}

#[test]
fn portuguese_news_page() {
    check_fixture("pt_news.txt");
}

#[test]
fn ukrainian_news_page() {
    check_fixture("uk_news.txt");
}

#[test]
fn italian_news_page() {
    check_fixture("it_news.txt");
}

#[test]
fn polish_news_page() {
    check_fixture("pl_news.txt");
}

#[test]
fn arabic_news_page() {
    check_fixture("ar_news.txt");
}

#[test]
fn chinese_news_page() {
    check_fixture("zh_news.txt");
}

#[test]
fn removals_name_their_rule() {
    let d = run("Home\nWorld\n- Advertisment -\nThe committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\nLeave a Reply\n");
    let rules: Vec<&str> = d.log.removals.iter().map(|r| r.rule.as_ref()).collect();
    assert!(rules.contains(&"ad-label"), "{rules:?}");
    assert!(rules.contains(&"comment-form"), "{rules:?}");
    assert!(d
        .log
        .removals
        .iter()
        .any(|r| r.line == 3 && r.text == "- Advertisment -"));
    assert!(d.text.contains("The committee met"));
}

#[test]
fn dateline_prefix_becomes_field() {
    let d = run("LONDON (Example Wire - 3rd May, 2023) The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\n\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n");
    assert!(d.text.starts_with("The committee met"), "{}", d.text);
    assert_eq!(
        d.fields.get("dateline").map(String::as_str),
        Some("LONDON (Example Wire - 3rd May, 2023)")
    );
    assert!(
        d.text.contains("\n\nThe chair said"),
        "paragraph break kept: {:?}",
        d.text
    );
}

#[test]
fn byline_and_timestamp_become_fields() {
    let d = run("The Budget Is Late Again\nBy Mary Example\nUpdated: Mar 08, 2023, 10:15 AM\nThe committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n");
    assert_eq!(
        d.fields.get("byline").map(String::as_str),
        Some("Mary Example")
    );
    assert!(d.fields.contains_key("date"));
    assert!(!d.text.contains("By Mary"));
    assert!(
        d.text.starts_with("The Budget Is Late Again\n"),
        "headline kept for title: {}",
        d.text
    );
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
        assert!(d
            .log
            .removals
            .iter()
            .any(|r| r.rule == "repeated-in-source"));
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

/// A bad pattern among good ones (which may be merged with it) fails the build, naming the
/// key, its rule and the pattern, the first bad one in rule order when there are several.
#[test]
fn a_bad_regex_is_named_with_its_rule() {
    let toml = r#"
[[extra_rules]]
name = "fine"
regex = ['^Fine \d+$']
[[extra_rules]]
name = "broken"
regex = ['^Good (a|b)$', '^Bad (unclosed$', '^Good (c|d)$']
[[extra_rules]]
name = "broken-too"
regex = ['^Bad [z-a]$']
"#;
    let cfg: Config = toml::from_str(toml).unwrap();
    let err = cfg
        .build()
        .err()
        .expect("a bad regex fails the build")
        .to_string();
    assert!(err.contains("stages.boilerplate.extra_rules"), "{err}");
    assert!(
        err.contains("`broken`") && err.contains("unclosed"),
        "{err}"
    );
    assert!(!err.contains("broken-too"), "{err}");
}

/// Regression: the line memo is per thread, and a thread may serve stages built with other
/// rules one after the other (two pipelines in one process, or these tests): each must see its
/// own rules' verdict on a line the other has already judged.
#[test]
fn stages_with_other_rules_on_one_thread_each_judge_by_their_own() {
    let promo: Config = toml::from_str(
        "[[extra_rules]]\nname = \"house-promo\"\nprefixes = [\"buy the print edition\"]\n",
    )
    .unwrap();
    let (plain, promo) = (Config::default().build().unwrap(), promo.build().unwrap());
    let text = "The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.\nBuy the print edition today\nThe chair said a vote would be held in March, after the public consultation had closed and the figures were in.\n";
    let removed = |st: &Stage| {
        let mut d = doc(text);
        st.apply(&mut d, None).unwrap();
        d.log.removals.iter().any(|r| r.rule == "house-promo")
    };
    for _ in 0..2 {
        assert!(!removed(&plain));
        assert!(removed(&promo));
    }
}

#[test]
fn never_panics_on_odd_input() {
    let st = Config::default().build().unwrap();
    let odd = [
        "",
        "\n\n\n",
        "a",
        "é\u{a0}\u{200b}",
        "((((",
        "MOSCOW (",
        "—\n—\n",
        "広告\n大臣は月曜日に協議が続くと述べた。",
        "By ",
        "@",
        "12:30",
        "LONDON — ",
        "\u{feff}\r\n\r\n",
    ];
    for t in odd {
        for format in [Format::Text, Format::Html, Format::Jsonl] {
            let mut d = doc(t);
            d.format = format;
            st.apply(&mut d, None).unwrap();
            let mut d2 = doc(t);
            d2.format = format;
            st.apply(&mut d2, None).unwrap();
            assert_eq!(d.text, d2.text, "deterministic");
        }
    }
    // every prefix of a mixed-script page, cut at char boundaries
    let page = fixture("ru_news.txt") + &fixture("zh_news.txt") + &fixture("en_news.txt");
    for (i, _) in page.char_indices().step_by(97) {
        let _ = run(&page[..i]);
    }
}

const P1: &str = "The committee met on Tuesday to discuss the budget, and members said that the plan was not yet final.";
const P2: &str = "The chair said a vote would be held in March, after the public consultation had closed and the figures were in.";
const P3: &str = "Residents said that they would go to court if the road was built through the park, which they use every day.";

#[test]
fn comments_after_a_comment_form_are_cut() {
    let text = format!("{P1}\n{P2}\n{P3}\nLeave a Reply\nreader_one says:\nMay 5, 2023 at 10:15 am\nI think that the council is wrong about this and that the vote should have been held much earlier in the year.\n");
    let d = run(&text);
    assert!(d.text.contains(P3));
    assert!(!d.text.contains("I think that the council"), "{}", d.text);
    assert!(d.log.removals.iter().any(|r| r.rule == "after-article"));
}

#[test]
fn a_related_box_mid_article_does_not_end_it() {
    let text = format!("{P1}\n{P2}\nRelated\nCouncil approves new bus lanes\nSchool opening delayed again\nWeather warning for the coast\n{P3}\nThe mayor said that the work would start in the spring, and that the road would stay open while it was done.\n");
    let d = run(&text);
    assert!(d.text.contains(P3), "{}", d.text);
    assert!(d.text.contains("The mayor said"), "{}", d.text);
}

#[test]
fn trailing_related_teasers_after_a_related_heading_go() {
    let text = format!("{P1}\n{P2}\n{P3}\nMore stories\nShare this\nFacebook Twitter Email\nCouncil approves new bus lanes on the main road\nThe council said on Monday that the new lanes would be ready by the end of the year.\n");
    let d = run(&text);
    assert!(d.text.contains(P3));
    assert!(!d.text.contains("new lanes would be ready"), "{}", d.text);
}

#[test]
fn trailing_teaser_grid_goes_but_article_subheads_stay() {
    // a dump: navigation on top, so the text is not "already clean"
    let mut text = String::from("Home\nNews\nPolitics\nBusiness\nSport\nCulture\nOpinion\nWeather\nVideo\nPodcasts\nNewsletters\nSearch\n");
    text.push_str("Local News\nNational News\nWorld News\nElection Coverage\nHealth And Science\nEducation Desk\nMoney Matters\nReal Estate Listings\nArts And Entertainment\nFood And Drink\nTravel Guides\nObituaries Archive\nClassified Adverts\nPuzzles And Games\n");
    text.push_str(&format!(
        "{P1}\nA costly delay\n{P2}\n{P3}\n{P1} {P2}\n{P3} {P1}\n"
    ));
    for (h, p) in [
        ("Bus lanes approved for the main road", "The council said on Monday that the new lanes would be ready by the end of the year."),
        ("School opening is delayed again", "Parents were told that the new school would not open until the spring because of the works."),
        ("Weather warning issued for the coast", "Forecasters said that strong winds would reach the coast on Friday night and last all weekend."),
        ("Library to close for repairs", "The town library will close for two months while the roof is repaired, the council said today."),
    ] {
        text.push_str(&format!("{h}\n{p}\n"));
    }
    text.push_str(
        "About us\nContact\nPrivacy policy\nTerms of use\nCareers\nAdvertise\nSitemap\nRSS\n",
    );
    let d = run(&text);
    assert!(d.text.contains("A costly delay"), "{}", d.text);
    assert!(d.text.contains(P3));
    assert!(!d.text.contains("Library to close"), "{}", d.text);
    assert!(d.log.removals.iter().any(|r| r.rule == "teaser-list"));
    // the same grid as the body of a short post (a deals list) is the article
    let mut post = String::from("Home\nNews\nPolitics\nBusiness\nSport\nCulture\nOpinion\nWeather\nVideo\nPodcasts\nNewsletters\nSearch\n");
    post.push_str(&format!("{P1}\n"));
    for (h, p) in [
        ("Bus lanes approved for the main road", "The council said on Monday that the new lanes would be ready by the end of the year."),
        ("School opening is delayed again", "Parents were told that the new school would not open until the spring because of the works."),
        ("Weather warning issued for the coast", "Forecasters said that strong winds would reach the coast on Friday night and last all weekend."),
        ("Library to close for repairs", "The town library will close for two months while the roof is repaired, the council said today."),
    ] {
        post.push_str(&format!("{h}\n{p}\n"));
    }
    post.push_str(
        "About us\nContact\nPrivacy policy\nTerms of use\nCareers\nAdvertise\nSitemap\nRSS\n",
    );
    let d = run(&post);
    assert!(d.text.contains("Library to close"), "{}", d.text);
}

#[test]
fn clean_text_keeps_its_short_interior_lines() {
    // an already-clean article (as from extract): a short list in the middle stays
    let text = format!("{P1}\n\n{P2}\n\nThe options are:\n\nRebuild the wall\n\nRaise the road\n\n{P3}\n\nThe mayor said that the work would start in the spring, and that the road would stay open while it was done.\n\nShe added that the town had waited long enough for a decision on the matter, and that the work was urgent.");
    let d = run(&text);
    assert!(
        d.text.contains("Rebuild the wall\n\nRaise the road"),
        "{}",
        d.text
    );
    let mut h = doc(&format!("Menu\n{P1}\nShort line here\n{P2}\n"));
    h.format = Format::Html;
    Config::default()
        .build()
        .unwrap()
        .apply(&mut h, None)
        .unwrap();
    assert!(!h.text.contains("Menu"));
    assert!(h.text.contains("Short line here"));
}

#[test]
fn gallery_captions_repeated_in_a_document_go() {
    let cap = "The harbour wall after the storm on Tuesday (Photo agency)";
    let text = format!("{cap}\n{P1}\n{cap}\n{P2}\n{cap}\n{P3}\n");
    let d = run(&text);
    assert!(!d.text.contains(cap), "{}", d.text);
    assert!(d.log.removals.iter().any(|r| r.rule == "repeated-in-doc"));
    // repeated questions of an interview are content
    let q = "What made you start the project?";
    let text = format!("{P1}\n{q}\n{P2}\n{q}\n{P3}\n{q}\nThe answer was the same each time, said the organisers of the project in the town.\n");
    assert!(run(&text).text.contains(q));
}

#[test]
fn gallery_captions_with_their_toggle_go() {
    let full = "The mayor, left, and the harbour master open the new gate in the port on Tuesday. The gate was built after the storm. less";
    let cut = "The mayor, left, and the harbour master open the new gate in the port on Tuesday. The gate was built ... more";
    let plain = "The council said the new gate would cost less";
    let text = format!("{P1}\n{full}\n{cut}\n{P2}\n{plain}\n{P3}\n");
    let d = run(&text);
    assert!(!d.text.contains("harbour master"), "{}", d.text);
    assert_eq!(
        d.log
            .removals
            .iter()
            .filter(|r| r.rule == "photo-caption")
            .count(),
        2
    );
    assert!(d.text.contains(plain), "{}", d.text);
}

#[test]
fn author_bio_goes() {
    let text = format!("{P1}\n{P2}\n{P3}\nJane Example is a freelance writer based in Lisbon who covers local politics.\n");
    let d = run(&text);
    assert!(!d.text.contains("freelance writer"), "{}", d.text);
    assert!(d.log.removals.iter().any(|r| r.rule == "author-bio"));
}

#[test]
fn no_prose_by_stop_words_falls_back_to_punctuation() {
    let text = "Team A 3 Team B 1\nSmith 2 goals. Jones 1 goal. Brown 5 saves. Green 1 assist. White 2 assists. Black 1 goal.\nTeam C 2 Team D 0\nGray 2 goals. Stone 4 saves. Hill 1 assist. Wood 1 goal. Field 3 saves. Lake 1 assist.\n";
    let d = run(text);
    assert!(d.text.contains("Smith 2 goals."), "{}", d.text);
}

#[test]
fn a_one_sentence_record_is_kept() {
    let t = "Second story about the harbour reopening after the storm, officials said.";
    assert_eq!(run(t).text, t);
    let t = "Вторая новость о том, что порт открылся после шторма, сообщили власти.";
    assert_eq!(run(t).text, t);
}
