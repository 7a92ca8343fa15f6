//! Main-content selection: split the page into text blocks, score containers by the
//! paragraphs they hold (readability's idea: sentence-like text scores, links and furniture
//! class names cost), pick the best container and the siblings that continue it, then keep
//! the blocks of that region that are not furniture.

use super::entities::push_text;
use super::hints::{self, Hint};
use super::html::{Dom, Kind, NodeId, Tag, NONE};

/// One run of inline content between block boundaries: one paragraph of output.
#[derive(Debug, Clone)]
pub struct Block {
    /// Nearest block-level element containing the text.
    pub owner: NodeId,
    /// First text node of the block: increases along the block list (document order).
    pub start: NodeId,
    pub text: String,
    pub chars: u32,
    pub link_chars: u32,
    /// Deepest ancestor marked as furniture (by tag or class/id), with its rule.
    pub boiler: NodeId,
    pub boiler_rule: &'static str,
}

impl Block {
    pub fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

/// Per-element facts gathered while segmenting.
pub struct Page<'a> {
    pub dom: Dom<'a>,
    pub blocks: Vec<Block>,
    pub hints: Vec<Hint>,
    /// Last node id of each node's subtree (pre-order ids: `x..=end[x]` is the subtree).
    pub end: Vec<NodeId>,
    pub body: NodeId,
    /// Nodes the walk did not enter (hidden or never content), with the reason.
    pub skipped: Vec<(NodeId, &'static str)>,
}

/// Elements whose content is never text of the page.
fn never_content(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::Script
            | Tag::Style
            | Tag::Noscript
            | Tag::Template
            | Tag::Svg
            | Tag::Math
            | Tag::Iframe
            | Tag::Object
            | Tag::Canvas
            | Tag::Video
            | Tag::Audio
            | Tag::Select
            | Tag::Button
            | Tag::Textarea
            | Tag::Input
            | Tag::Head
            | Tag::Title
            | Tag::Meta
            | Tag::Option
    )
}

/// Structural furniture by tag, with the rule name.
fn boiler_tag(tag: Tag) -> Option<&'static str> {
    match tag {
        Tag::Nav | Tag::Menu => Some("nav"),
        Tag::Aside => Some("aside"),
        Tag::Footer => Some("footer"),
        Tag::Header => Some("header"),
        Tag::Figure | Tag::Figcaption | Tag::Picture => Some("caption"),
        Tag::Dialog => Some("popup"),
        Tag::Form | Tag::Fieldset | Tag::Label => Some("form"),
        Tag::Address => Some("byline"),
        _ => None,
    }
}

fn is_hidden(dom: &Dom, id: NodeId) -> bool {
    for (k, v) in dom.attrs(id) {
        if k.eq_ignore_ascii_case(b"hidden") {
            return true;
        }
        if k.eq_ignore_ascii_case(b"aria-hidden") && v.eq_ignore_ascii_case(b"true") {
            return true;
        }
        if k.eq_ignore_ascii_case(b"style") && v.len() < 400 {
            let mut compact = [0u8; 400];
            let mut n = 0;
            for &c in v {
                if !c.is_ascii_whitespace() {
                    compact[n] = c.to_ascii_lowercase();
                    n += 1;
                }
            }
            let s = &compact[..n];
            if memchr::memmem::find(s, b"display:none").is_some()
                || memchr::memmem::find(s, b"visibility:hidden").is_some()
            {
                return true;
            }
        }
    }
    false
}

struct Segmenter {
    blocks: Vec<Block>,
    cur: String,
    cur_links: u32,
    cur_start: NodeId,
    owner: Vec<NodeId>,
    boiler: Vec<(NodeId, &'static str)>,
    link_depth: u32,
    pre_depth: u32,
}

impl Segmenter {
    fn flush(&mut self) {
        let trimmed = self.cur.trim();
        if trimmed.chars().any(|c| c.is_alphanumeric()) {
            let text = if trimmed.len() == self.cur.len() {
                std::mem::take(&mut self.cur)
            } else {
                trimmed.to_string()
            };
            let text = if text.contains(" \n") || text.contains("\n ") {
                tidy_lines(&text)
            } else {
                text
            };
            let chars = text.chars().count() as u32;
            let (boiler, boiler_rule) = self.boiler.last().copied().unwrap_or((NONE, ""));
            self.blocks.push(Block {
                owner: self.owner.last().copied().unwrap_or(0),
                start: self.cur_start,
                text,
                chars,
                link_chars: self.cur_links.min(chars),
                boiler,
                boiler_rule,
            });
        }
        self.cur.clear();
        self.cur_links = 0;
    }

    fn push(&mut self, raw: &str, node: NodeId) {
        if self.cur.is_empty() {
            self.cur_start = node;
        }
        let before = self.cur.len();
        push_text(&mut self.cur, raw, self.pre_depth == 0);
        if self.link_depth > 0 {
            self.cur_links += self.cur[before..].chars().count() as u32;
        }
    }

    fn line_break(&mut self) {
        let t = self.cur.trim_end_matches(' ').len();
        self.cur.truncate(t);
        if self.cur.ends_with('\n') {
            // Two line breaks in a row separate paragraphs.
            self.flush();
        } else if !self.cur.is_empty() {
            self.cur.push('\n');
        }
    }
}

fn tidy_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// Parse and segment a page into blocks.
pub fn segment<'a>(html: &'a str, extra: &hints::Extra) -> Page<'a> {
    let dom = Dom::parse(html);
    let n = dom.nodes.len();
    let mut end: Vec<NodeId> = (0..n as NodeId).collect();
    for id in (1..n).rev() {
        let p = dom.nodes[id].parent;
        if p != NONE && end[p as usize] < end[id] {
            end[p as usize] = end[id];
        }
    }
    let mut hints = vec![Hint::default(); n];
    let body = dom
        .descendants(0)
        .find(|&i| dom.tag(i) == Some(Tag::Body))
        .unwrap_or(0);
    let mut seg = Segmenter {
        blocks: Vec::new(),
        cur: String::new(),
        cur_links: 0,
        cur_start: 0,
        owner: vec![body],
        boiler: Vec::new(),
        link_depth: 0,
        pre_depth: 0,
    };
    let mut skipped = Vec::new();
    let mut hint_cache: std::collections::HashMap<(&str, &str), Hint> =
        std::collections::HashMap::new();
    // Iterative walk with explicit enter/exit.
    let mut id = body;
    'walk: loop {
        let node = &dom.nodes[id as usize];
        let mut descend = false;
        match node.kind {
            Kind::Text(s, e) => {
                if let Some(raw) = dom.src.get(s as usize..e as usize) {
                    seg.push(raw, id);
                }
            }
            Kind::Element { tag, .. } => {
                let skip = if never_content(tag) {
                    Some("non-text")
                } else if is_hidden(&dom, id) {
                    Some("hidden")
                } else {
                    None
                };
                if let Some(reason) = skip {
                    if tag.is_block() {
                        seg.flush();
                    }
                    if !never_content(tag) {
                        skipped.push((id, reason));
                    }
                } else {
                    let class = dom.attr(id, "class").unwrap_or("");
                    let ident = dom.attr(id, "id").unwrap_or("");
                    let mut hint = if class.is_empty() && ident.is_empty() {
                        Hint::default()
                    } else {
                        // Templates repeat class names: classify each distinct pair once.
                        *hint_cache
                            .entry((class, ident))
                            .or_insert_with(|| hints::classify_with(class, ident, extra))
                    };
                    if tag == Tag::Body || tag == Tag::Html {
                        hint.boiler = None;
                    }
                    // The class names the kind of furniture more precisely than the tag.
                    hint.boiler = hint.boiler.or(boiler_tag(tag));
                    if hint.boiler == Some("hidden") {
                        skipped.push((id, "hidden"));
                        if tag.is_block() {
                            seg.flush();
                        }
                    } else {
                        hints[id as usize] = hint;
                        enter(&mut seg, &dom, id, tag, hint.boiler);
                        descend = node.first_child != NONE;
                        if !descend {
                            exit(&mut seg, id, tag, hint.boiler);
                        }
                    }
                }
            }
        }
        if descend {
            id = node.first_child;
            continue;
        }
        // Move to the next sibling, leaving finished elements on the way up.
        let mut cur = id;
        loop {
            if cur == body {
                break 'walk;
            }
            let c = &dom.nodes[cur as usize];
            if c.next != NONE {
                id = c.next;
                continue 'walk;
            }
            cur = c.parent;
            if cur == NONE {
                break 'walk;
            }
            if let Some(tag) = dom.tag(cur) {
                exit(&mut seg, cur, tag, hints[cur as usize].boiler);
            }
        }
    }
    seg.flush();
    Page {
        dom,
        blocks: seg.blocks,
        hints,
        end,
        body,
        skipped,
    }
}

fn enter(seg: &mut Segmenter, _dom: &Dom, id: NodeId, tag: Tag, boiler: Option<&'static str>) {
    match tag {
        Tag::Br => {
            seg.line_break();
            return;
        }
        Tag::A => seg.link_depth += 1,
        Tag::Pre => seg.pre_depth += 1,
        _ => {}
    }
    if tag.is_block() {
        seg.flush();
        seg.owner.push(id);
    }
    if let Some(rule) = boiler {
        seg.boiler.push((id, rule));
    }
}

fn exit(seg: &mut Segmenter, id: NodeId, tag: Tag, boiler: Option<&'static str>) {
    match tag {
        Tag::Br => return,
        Tag::A => seg.link_depth = seg.link_depth.saturating_sub(1),
        Tag::Pre => seg.pre_depth = seg.pre_depth.saturating_sub(1),
        _ => {}
    }
    if tag.is_block() {
        seg.flush();
        if seg.owner.last() == Some(&id) {
            seg.owner.pop();
        }
    }
    if boiler.is_some() && seg.boiler.last().map(|b| b.0) == Some(id) {
        seg.boiler.pop();
    }
}

/// What the selection decided: the content roots (subtrees) and each block's fate.
pub struct Selection {
    pub roots: Vec<NodeId>,
    /// For every block: `None` = kept, `Some(rule)` = dropped by that rule.
    pub verdict: Vec<Option<&'static str>>,
    /// The best-scoring containers (score, node), best first: for tracing.
    pub candidates: Vec<(f32, NodeId)>,
}

/// Signals from outside the DOM walk that help scoring.
#[derive(Default)]
pub struct Evidence {
    /// Per block: does its text occur in the page's structured-data article body?
    pub in_article_body: Vec<bool>,
    pub has_article_body: bool,
}

fn tag_weight(tag: Tag) -> f32 {
    match tag {
        Tag::Div | Tag::Article | Tag::Main | Tag::Section | Tag::Other | Tag::Custom => 5.0,
        Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
        Tag::Address | Tag::Ol | Tag::Ul | Tag::Dl | Tag::Dd | Tag::Dt | Tag::Li | Tag::Form => {
            -3.0
        }
        Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 | Tag::Th => -5.0,
        _ => 0.0,
    }
}

fn commas(s: &str) -> u32 {
    s.chars()
        .filter(|&c| matches!(c, ',' | '，' | '、' | '،' | '。' | '؛'))
        .count() as u32
}

/// Choose the content region of a segmented page.
pub fn select(page: &Page, ev: &Evidence) -> Selection {
    let dom = &page.dom;
    let n = dom.nodes.len();
    // Text and link characters per element (reverse pre-order accumulates children first).
    let mut chars = vec![0u32; n];
    let mut links = vec![0u32; n];
    for b in &page.blocks {
        chars[b.owner as usize] += b.chars;
        links[b.owner as usize] += b.link_chars;
    }
    for id in (1..n).rev() {
        let p = dom.nodes[id].parent;
        if p != NONE {
            chars[p as usize] += chars[id];
            links[p as usize] += links[id];
        }
    }
    let body_chars = chars[page.body as usize].max(1) as f32;
    let mut owner_blocks = vec![0u32; n];
    for b in &page.blocks {
        owner_blocks[b.owner as usize] += 1;
    }
    let mut score = vec![0f32; n];
    let mut touched = vec![false; n];
    // Naming and markup make a container more or less likely, in proportion to the text
    // it holds (an empty "content" wrapper must not win on its name).
    let factor = |id: NodeId| -> f32 {
        let tag = dom.tag(id).unwrap_or(Tag::Other);
        let h = &page.hints[id as usize];
        let mut f = 1.0 + tag_weight(tag) / 25.0 + h.weight / 100.0;
        if h.boiler.is_some() {
            f -= 0.25;
        }
        if tag == Tag::Article || tag == Tag::Main {
            f += 0.1;
        }
        if let Some(v) = dom.attr(id, "itemprop") {
            if v.eq_ignore_ascii_case("articleBody") || v.eq_ignore_ascii_case("text") {
                f += 0.5;
            }
        }
        f.max(0.1)
    };
    let init = |id: NodeId, _score: &mut [f32], touched: &mut [bool]| {
        touched[id as usize] = true;
    };
    for (bi, b) in page.blocks.iter().enumerate() {
        let owner_tag = dom.tag(b.owner).unwrap_or(Tag::Other);
        if b.chars < 25 || owner_tag.is_heading() || owner_tag == Tag::Li || b.link_density() > 0.5
        {
            continue;
        }
        // Furniture of a modest size (not a wrapper of most of the page) does not vote.
        if b.boiler != NONE && (chars[b.boiler as usize] as f32) < 0.5 * body_chars {
            continue;
        }
        let mut s = 1.0 + commas(&b.text) as f32 + (b.chars as f32 / 100.0).min(3.0);
        if ev.has_article_body && ev.in_article_body.get(bi).copied().unwrap_or(false) {
            s *= 3.0;
        }
        // Text straight in a container (split by line breaks, beside other blocks) makes
        // the container itself the candidate; a paragraph element credits its parent.
        let container = owner_blocks[b.owner as usize] >= 2
            && !matches!(
                owner_tag,
                Tag::P | Tag::Pre | Tag::Blockquote | Tag::Td | Tag::Dd | Tag::Li
            )
            && b.owner != page.body;
        let mut anc = if container {
            b.owner
        } else {
            dom.nodes[b.owner as usize].parent
        };
        let mut level = 0;
        while anc != NONE && level < 5 {
            if matches!(dom.tag(anc), Some(Tag::Root | Tag::Html)) {
                break;
            }
            init(anc, &mut score, &mut touched);
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            score[anc as usize] += s / div;
            if anc == page.body {
                break;
            }
            anc = dom.nodes[anc as usize].parent;
            level += 1;
        }
    }
    let ld = |id: NodeId| {
        if chars[id as usize] == 0 {
            0.0
        } else {
            links[id as usize] as f32 / chars[id as usize] as f32
        }
    };
    let mut cands: Vec<(f32, NodeId)> = (0..n)
        .filter(|&i| touched[i])
        .map(|i| {
            (
                score[i] * factor(i as NodeId) * (1.0 - ld(i as NodeId)),
                i as NodeId,
            )
        })
        .collect();
    cands.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    let final_score = |id: NodeId| {
        if touched[id as usize] {
            score[id as usize] * factor(id) * (1.0 - ld(id))
        } else {
            0.0
        }
    };

    let mut top = match cands.first() {
        Some(&(_, id)) => id,
        None => page.body,
    };
    let is_ancestor = |a: NodeId, d: NodeId| a <= d && d <= page.end[a as usize];
    let first_choice = top;
    if top != page.body {
        // Several strong candidates under one ancestor: the ancestor is the article.
        let top_score = cands[0].0;
        let alts: Vec<NodeId> = cands
            .iter()
            .skip(1)
            .take(4)
            .filter(|c| c.0 >= 0.75 * top_score)
            .map(|c| c.1)
            .collect();
        if alts.len() >= 3 {
            let mut p = dom.nodes[top as usize].parent;
            while p != NONE && p != page.body {
                let holds = alts.iter().filter(|&&a| is_ancestor(p, a)).count();
                if holds >= 3 {
                    top = p;
                    break;
                }
                p = dom.nodes[p as usize].parent;
            }
        }
        // An only child stands for its parent.
        loop {
            let p = dom.nodes[top as usize].parent;
            if p == NONE || p == page.body || p == 0 {
                break;
            }
            let elem_children = dom.children(p).filter(|&c| dom.tag(c).is_some()).count();
            if elem_children == 1 {
                top = p;
            } else {
                break;
            }
        }
        // Climb while the parent scores higher (the text continues beside us).
        let mut last = final_score(top);
        let threshold = last / 3.0;
        let mut p = dom.nodes[top as usize].parent;
        while p != NONE && p != page.body && p != 0 {
            if !touched[p as usize] {
                p = dom.nodes[p as usize].parent;
                continue;
            }
            let ps = final_score(p);
            if ps < threshold {
                break;
            }
            if ps > last {
                top = p;
                break;
            }
            last = ps;
            p = dom.nodes[p as usize].parent;
        }
    }

    // Siblings that continue the article.
    let mut roots = vec![top];
    let parent = dom.nodes[top as usize].parent;
    if top != page.body && parent != NONE {
        let ts = final_score(top);
        let threshold = (ts * 0.2).max(10.0);
        let top_class = dom.attr(top, "class").unwrap_or("");
        roots.clear();
        for s in dom.children(parent) {
            if s == top {
                roots.push(s);
                continue;
            }
            let Some(tag) = dom.tag(s) else { continue };
            if page.hints[s as usize].boiler.is_some() || boiler_tag(tag).is_some() {
                continue;
            }
            let mut bonus = 0.0;
            if !top_class.is_empty() && dom.attr(s, "class") == Some(top_class) {
                bonus = ts * 0.2;
            }
            if touched[s as usize] && final_score(s) + bonus >= threshold {
                roots.push(s);
                continue;
            }
            // Paragraph-like siblings (a `<p>`, or a `<div>` used as one) continue the text.
            if chars[s as usize] == 0
                || tag.is_heading()
                || matches!(tag, Tag::Ul | Tag::Ol | Tag::Table)
            {
                continue;
            }
            // Count only text that is not furniture inside the sibling, and want sentences.
            let last = page.end[s as usize];
            let (mut len, mut link, mut sentence_chars) = (0u32, 0u32, 0u32);
            let from = page.blocks.partition_point(|b| b.start < s);
            let to = page.blocks.partition_point(|b| b.start <= last);
            for b in page.blocks[from..to.max(from)]
                .iter()
                .filter(|b| b.owner >= s && b.owner <= last)
            {
                if b.boiler != NONE && b.boiler >= s {
                    continue;
                }
                len += b.chars;
                link += b.link_chars;
                if ends_sentence(&b.text) {
                    sentence_chars += b.chars;
                }
            }
            let sentence = sentence_chars * 2 >= len && len > 0;
            let d = if len == 0 {
                1.0
            } else {
                link as f32 / len as f32
            };
            if sentence && ((len > 80 && d < 0.25) || (len > 0 && d == 0.0 && tag == Tag::P)) {
                roots.push(s);
            }
        }
    }

    // Articles cut into chunks (around ads or embeds) repeat the container's class: the
    // other chunks with text belong to the article too.
    if top != page.body {
        if let Some(tc) = dom
            .attr(first_choice, "class")
            .filter(|c| !c.trim().is_empty())
        {
            let tag = dom.tag(first_choice);
            let extra: Vec<NodeId> = cands
                .iter()
                .map(|&(_, id)| id)
                .filter(|&id| {
                    dom.tag(id) == tag
                        && dom.attr(id, "class") == Some(tc)
                        && !roots
                            .iter()
                            .any(|&r| is_ancestor(r, id) || is_ancestor(id, r))
                        && page.hints[id as usize].boiler.is_none()
                        && ld(id) < 0.3
                })
                .collect();
            for id in extra {
                if !roots
                    .iter()
                    .any(|&r| is_ancestor(r, id) || is_ancestor(id, r))
                {
                    roots.push(id);
                }
            }
        }
    }

    // Verdict per block.
    let in_roots = |id: NodeId| roots.iter().any(|&r| is_ancestor(r, id));
    let root_chars: u32 = roots.iter().map(|&r| chars[r as usize]).sum();
    // Furniture inside the region, unless it wraps most of the region (then its name lies).
    let inner_boiler = |b: &Block| {
        b.boiler != NONE
            && (chars[b.boiler as usize] as f32) < 0.5 * root_chars as f32
            && roots
                .iter()
                .any(|&r| r < b.boiler && is_ancestor(r, b.boiler))
    };
    // Images per subtree, for captions that sit in a wrapper beside their picture.
    let mut imgs = vec![0u32; n];
    for id in (1..n).rev() {
        if matches!(
            dom.tag(id as NodeId),
            Some(Tag::Img | Tag::Picture | Tag::Video | Tag::Svg)
        ) {
            imgs[id] += 1;
        }
        let p = dom.nodes[id].parent;
        if p != NONE {
            imgs[p as usize] += imgs[id];
        }
    }
    let beside_image = |b: &Block| {
        if b.chars >= 250 || ends_sentence(&b.text) {
            return false;
        }
        let mut anc = dom.nodes[b.owner as usize].parent;
        for _ in 0..3 {
            if anc == NONE || chars[anc as usize] != b.chars || !in_roots(anc) {
                return false;
            }
            if imgs[anc as usize] > 0 {
                return true;
            }
            anc = dom.nodes[anc as usize].parent;
        }
        false
    };
    let mut verdict: Vec<Option<&'static str>> = page
        .blocks
        .iter()
        .enumerate()
        .map(|(bi, b)| {
            let structured =
                ev.has_article_body && ev.in_article_body.get(bi).copied().unwrap_or(false);
            if dom.tag(b.owner) == Some(Tag::H1) {
                return Some("headline");
            }
            if !in_roots(b.owner) {
                // Outside the article: name the furniture when its markup says what it is.
                return Some(if b.boiler != NONE {
                    b.boiler_rule
                } else {
                    "outside"
                });
            }
            if structured {
                return None;
            }
            if inner_boiler(b) {
                return Some(b.boiler_rule);
            }
            let ld = b.link_density();
            if ld > 0.65 || (ld > 0.5 && !ends_sentence(&b.text)) {
                return Some("link-dense");
            }
            if beside_image(b) {
                return Some("caption");
            }
            None
        })
        .collect();
    // The tail of the region: subheads with nothing under them, short link-bearing lines
    // and linked list items ("More stories", "Follow us on ...", "Subscribe to ...").
    for (bi, b) in page.blocks.iter().enumerate().rev() {
        if verdict[bi].is_some() {
            continue;
        }
        if ev.has_article_body && ev.in_article_body.get(bi).copied().unwrap_or(false) {
            break;
        }
        let tag = dom.tag(b.owner).unwrap_or(Tag::Other);
        let tail = tag.is_heading()
            || (b.chars < 25 && !ends_sentence(&b.text))
            || (b.chars < 160 && b.link_density() > 0.25)
            || (tag == Tag::Li && b.link_density() > 0.4);
        if !tail {
            break;
        }
        verdict[bi] = Some("tail");
    }
    cands.truncate(8);
    Selection {
        roots,
        verdict,
        candidates: cands,
    }
}

/// Does the text end like a sentence (terminal punctuation, maybe followed by a quote)?
pub fn ends_sentence(s: &str) -> bool {
    let t = s.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '”' | '’' | '»' | ')' | '」')
    });
    t.ends_with(['.', '!', '?', '。', '！', '？', '…', ':', ';', '؟', '।'])
}
