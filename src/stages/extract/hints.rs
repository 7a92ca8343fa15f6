//! What an element's `class` and `id` say about it: general naming conventions of web
//! templates (not any one site's), split into words on `-`, `_`, whitespace and camelCase.
//!
//! `boiler` names a rule when the words mark page furniture (comments, share bars,
//! related links, newsletters, ads, captions, bylines, navigation ...); `weight` is the
//! readability-style hint (+ for article/content/story words, - for furniture).

/// Word stems that mark furniture, matched as a prefix of a word, with the rule name used
/// in counts. Order matters only for which rule names a removal.
const BOILER_PREFIX: &[(&str, &str)] = &[
    ("comment", "comments"),
    ("disqus", "comments"),
    ("respond", "comments"),
    ("reply", "comments"),
    ("share", "share"),
    ("sharing", "share"),
    ("social", "share"),
    ("sociable", "share"),
    ("follow", "share"),
    ("related", "related"),
    ("recommend", "related"),
    ("trending", "related"),
    ("popular", "related"),
    ("mostread", "related"),
    ("readmore", "related"),
    ("readalso", "related"),
    ("seealso", "related"),
    ("outbrain", "related"),
    ("taboola", "related"),
    ("newsletter", "newsletter"),
    ("subscri", "newsletter"),
    ("signup", "newsletter"),
    ("cookie", "cookie"),
    ("consent", "cookie"),
    ("gdpr", "cookie"),
    ("promo", "ad"),
    ("advert", "ad"),
    ("sponsor", "ad"),
    ("adslot", "ad"),
    ("adunit", "ad"),
    ("adsense", "ad"),
    ("adsbygoogle", "ad"),
    ("dfp", "ad"),
    ("banner", "ad"),
    ("sidebar", "sidebar"),
    ("widget", "sidebar"),
    ("breadcrumb", "nav"),
    ("navbar", "nav"),
    ("navigation", "nav"),
    ("menu", "nav"),
    ("pagination", "nav"),
    ("pager", "nav"),
    ("masthead", "nav"),
    ("toolbar", "nav"),
    ("footer", "footer"),
    ("caption", "caption"),
    ("credit", "caption"),
    ("byline", "byline"),
    ("author", "byline"),
    ("dateline", "byline"),
    ("timestamp", "byline"),
    ("popup", "popup"),
    ("modal", "popup"),
    ("overlay", "popup"),
    ("login", "popup"),
    ("signin", "popup"),
    ("print", "tools"),
    ("tools", "tools"),
    ("rating", "tools"),
    ("survey", "tools"),
    ("skip", "nav"),
];

/// Words that mark furniture only as a whole word.
const BOILER_WORD: &[(&str, &str)] = &[
    ("ad", "ad"),
    ("ads", "ad"),
    ("adv", "ad"),
    ("nav", "nav"),
    ("tags", "tags"),
    ("tag", "tags"),
    ("topics", "tags"),
    ("keywords", "tags"),
    ("meta", "byline"),
    ("more", "related"),
    ("also", "related"),
    ("next", "related"),
    ("prev", "related"),
    ("header", "header"),
    ("bio", "byline"),
    ("gallery", "caption"),
    ("slideshow", "caption"),
    ("carousel", "caption"),
    ("slider", "caption"),
    ("icon", "tools"),
];

/// Words that suggest the main text.
const CONTENT_WORD: &[&str] = &[
    "article",
    "content",
    "story",
    "body",
    "entry",
    "post",
    "text",
    "main",
    "blog",
    "prose",
    "richtext",
    "paragraph",
    "artikel",
    "noticia",
    "materia",
    "news",
    "detail",
    "single",
];

/// Class tokens that hide an element from readers (screen-reader-only text included).
const HIDDEN_CLASS: &[&str] = &[
    "hidden",
    "hide",
    "is-hidden",
    "d-none",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "screen-reader-only",
    "element-invisible",
    "invisible",
    "u-hidden",
    "offscreen",
];

/// Words that mark an embedded post (a quoted tweet or video), which is content even when
/// the name also says "social" or "twitter".
const EMBED_WORD: &[&str] = &["embed", "tweet", "instagram"];

/// Class/id verdict for one element.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hint {
    pub weight: f32,
    pub boiler: Option<&'static str>,
    pub content: bool,
}

/// Every rule name a furniture word can map to.
pub const RULES: &[&str] = &[
    "comments",
    "share",
    "related",
    "newsletter",
    "cookie",
    "ad",
    "sidebar",
    "nav",
    "footer",
    "header",
    "caption",
    "byline",
    "popup",
    "tools",
    "tags",
    "hidden",
];

/// Words added from the configuration, on top of the built-in conventions.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Lowercase word prefix that marks furniture, with its rule (one of [`RULES`]).
    pub furniture: Vec<(String, &'static str)>,
    /// Lowercase word prefix that marks the main text.
    pub content: Vec<String>,
}

/// Classify the `class` and `id` values of an element with the built-in words only.
pub fn classify(class: &str, id: &str) -> Hint {
    classify_with(class, id, &Extra::default())
}

/// Classify the `class` and `id` values of an element; `extra` words are checked first.
pub fn classify_with(class: &str, id: &str, extra: &Extra) -> Hint {
    let mut hint = Hint::default();
    // Hidden-text conventions, as whole class tokens only ("hidden-xs" hides on phones only).
    if class
        .split_ascii_whitespace()
        .any(|t| HIDDEN_CLASS.iter().any(|h| t.eq_ignore_ascii_case(h)))
    {
        hint.boiler = Some("hidden");
        return hint;
    }
    let mut neg = false;
    let mut embed = false;
    // The rule of the last furniture word when it came after every content word.
    let mut last_boiler: Option<&'static str> = None;
    for value in [class, id] {
        for_words(value, |w| {
            if extra.content.iter().any(|x| w.starts_with(x.as_str())) {
                hint.content = true;
                last_boiler = None;
                return;
            }
            let rule = extra
                .furniture
                .iter()
                .find(|(x, _)| w.starts_with(x.as_str()))
                .map(|&(_, r)| r)
                .or_else(|| BOILER_WORD.iter().find(|(x, _)| *x == w).map(|&(_, r)| r))
                .or_else(|| {
                    BOILER_PREFIX
                        .iter()
                        .find(|(x, _)| w.starts_with(x))
                        .map(|&(_, r)| r)
                });
            if let Some(rule) = rule {
                hint.boiler.get_or_insert(rule);
                last_boiler = Some(rule);
                neg = true;
            } else if CONTENT_WORD.iter().any(|x| w.starts_with(x)) {
                hint.content = true;
                last_boiler = None;
            } else if EMBED_WORD.iter().any(|x| w.starts_with(x)) {
                // Posts quoted from social networks are part of the story.
                embed = true;
                last_boiler = None;
            }
        });
    }
    if hint.content {
        hint.weight += 25.0;
    }
    if neg {
        hint.weight -= 25.0;
    }
    if (hint.content || embed) && hint.boiler.is_some() {
        // Mixed names ("content-with-sidebar", "entry author-x", "post-meta body"): the
        // element is furniture only when a strong furniture word is the last one
        // ("article-comments", "story-related").
        hint.boiler = last_boiler.filter(|r| {
            matches!(
                *r,
                "comments" | "share" | "related" | "newsletter" | "caption" | "cookie" | "byline"
            )
        });
    }
    hint
}

/// Call `f` with each lowercase word of `s` (split on non-alphanumerics and camelCase
/// humps); pieces are glued when a separator sits between two single letters, so that
/// `sr-only` gives `sronly`. Words longer than 31 bytes are cut.
fn for_words(s: &str, mut f: impl FnMut(&str)) {
    let mut buf = [0u8; 32];
    let mut len = 0usize;
    let mut prev_lower = false;
    let bytes = s.as_bytes();
    let emit = |buf: &[u8], len: &mut usize, f: &mut dyn FnMut(&str)| {
        if *len > 0 {
            if let Ok(w) = std::str::from_utf8(&buf[..*len]) {
                f(w);
            }
        }
        *len = 0;
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                emit(&buf, &mut len, &mut f);
            }
            if len < buf.len() {
                buf[len] = c.to_ascii_lowercase();
                len += 1;
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            // "sr-only", "read-more", "see-also": joined spellings of common compounds.
            let next_word_len = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let joined = (2..=4).contains(&len) && next_word_len == 4;
            if joined && (c == b'-' || c == b'_') {
                let word = std::str::from_utf8(&buf[..len]).unwrap_or("");
                let next = &bytes[i + 1..i + 1 + next_word_len];
                let glue = matches!(
                    (word, next.to_ascii_lowercase().as_slice()),
                    ("sr", b"only")
                        | ("read", b"more")
                        | ("see", b"also")
                        | ("most", b"read")
                        | ("read", b"also")
                        | ("ad", b"slot")
                        | ("ad", b"unit")
                );
                if glue {
                    i += 1;
                    prev_lower = false;
                    continue;
                }
            }
            emit(&buf, &mut len, &mut f);
            prev_lower = false;
        }
        i += 1;
    }
    emit(&buf, &mut len, &mut f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_words() {
        assert_eq!(classify("article-comments", "").boiler, Some("comments"));
        assert_eq!(classify("social-media-embed", "").boiler, None);
        assert_eq!(
            classify("InlineImage-imageEmbedCaption", "").boiler,
            Some("caption")
        );
        assert_eq!(classify("social-links", "").boiler, Some("share"));
        assert_eq!(classify("c-share-bar", "").boiler, Some("share"));
        assert_eq!(classify("", "relatedStories").boiler, Some("related"));
        assert_eq!(classify("sr-only", "").boiler, Some("hidden"));
        assert_eq!(classify("label hidden", "").boiler, Some("hidden"));
        assert_eq!(classify("hidden-xs", "").boiler, None);
        assert_eq!(classify("entry-meta", "").boiler, Some("byline"));
        assert_eq!(classify("ad ad--top", "").boiler, Some("ad"));
        assert_eq!(classify("image-caption", "").boiler, Some("caption"));
        assert_eq!(classify("read-more", "").boiler, Some("related"));
    }

    #[test]
    fn extra_words_from_the_configuration() {
        let extra = Extra {
            furniture: vec![("zusatz".into(), "related")],
            content: vec!["inhalt".into()],
        };
        assert_eq!(
            classify_with("zusatzbox", "", &extra).boiler,
            Some("related")
        );
        assert_eq!(classify("zusatzbox", "").boiler, None);
        assert!(classify_with("inhalt", "", &extra).content);
    }

    #[test]
    fn no_false_furniture_inside_words() {
        // "ad" only as a whole word; "header"-like substrings do not count as "ad".
        assert_eq!(classify("shadow loaded heading", "").boiler, None);
        assert_eq!(classify("article-body", "story").boiler, None);
        assert_eq!(classify("content-with-sidebar", "").boiler, None);
        assert_eq!(classify("entry author-jane post", "").boiler, None);
        assert_eq!(classify("article-comments", "").boiler, Some("comments"));
        assert_eq!(classify("social-media-embed", "").boiler, None);
        assert_eq!(
            classify("InlineImage-imageEmbedCaption", "").boiler,
            Some("caption")
        );
        assert_eq!(classify("social-links", "").boiler, Some("share"));
        assert!(classify("article-body", "").content);
        assert!(classify("article-body", "").weight > 0.0);
        assert!(classify("sidebar", "").weight < 0.0);
    }
}
