//! A small, forgiving HTML tokenizer and tree builder, made for content extraction.
//!
//! It is not a full HTML5 parser: it knows what an extractor needs (void and raw-text
//! elements, comments, the implied end tags of `p`, `li`, `dt`/`dd`, `option`, table cells
//! and headings, end tags that close what was left open) and nothing else. Text and
//! attribute values stay as byte ranges into the source, so building the tree allocates
//! only the node arena. Nesting is capped so that no walk over the tree can run deep.

use memchr::{memchr, memmem};

/// Index of a node in [`Dom::nodes`]. `NONE` marks "no node".
pub type NodeId = u32;
pub const NONE: NodeId = u32::MAX;

/// Elements the extractor treats specially; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Root,
    Html,
    Head,
    Body,
    Title,
    Meta,
    Script,
    Style,
    Noscript,
    Template,
    Svg,
    Math,
    Iframe,
    Object,
    Canvas,
    Video,
    Audio,
    Picture,
    Img,
    Br,
    Hr,
    Wbr,
    Input,
    Button,
    Select,
    Option,
    Textarea,
    Label,
    Form,
    Fieldset,
    A,
    P,
    Div,
    Span,
    Section,
    Article,
    Main,
    Header,
    Footer,
    Nav,
    Aside,
    Figure,
    Figcaption,
    H1,
    H2,
    H3,
    H4,
    H5,
    H6,
    Ul,
    Ol,
    Li,
    Dl,
    Dt,
    Dd,
    Blockquote,
    Pre,
    Table,
    Thead,
    Tbody,
    Tfoot,
    Tr,
    Td,
    Th,
    Caption,
    Address,
    Details,
    Summary,
    Dialog,
    Menu,
    Center,
    Time,
    Strong,
    B,
    Em,
    I,
    /// A custom element (`<story-body>`, `<amp-img>`): inline like unknown elements (many
    /// wrap citations or images inside a sentence), closed by name.
    Custom,
    Other,
}

impl Tag {
    fn from_name(name: &[u8]) -> Tag {
        let mut buf = [0u8; 10];
        if name.contains(&b'-') {
            return Tag::Custom;
        }
        if name.len() > buf.len() {
            return Tag::Other;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        match &buf[..name.len()] {
            b"html" => Tag::Html,
            b"head" => Tag::Head,
            b"body" => Tag::Body,
            b"title" => Tag::Title,
            b"meta" => Tag::Meta,
            b"script" => Tag::Script,
            b"style" => Tag::Style,
            b"noscript" => Tag::Noscript,
            b"template" => Tag::Template,
            b"svg" => Tag::Svg,
            b"math" => Tag::Math,
            b"iframe" => Tag::Iframe,
            b"object" | b"embed" => Tag::Object,
            b"canvas" => Tag::Canvas,
            b"video" => Tag::Video,
            b"audio" => Tag::Audio,
            b"picture" => Tag::Picture,
            b"img" => Tag::Img,
            b"br" => Tag::Br,
            b"hr" => Tag::Hr,
            b"wbr" => Tag::Wbr,
            b"input" => Tag::Input,
            b"button" => Tag::Button,
            b"select" => Tag::Select,
            b"option" => Tag::Option,
            b"textarea" => Tag::Textarea,
            b"label" => Tag::Label,
            b"form" => Tag::Form,
            b"fieldset" => Tag::Fieldset,
            b"a" => Tag::A,
            b"p" => Tag::P,
            b"div" => Tag::Div,
            b"span" => Tag::Span,
            b"section" => Tag::Section,
            b"article" => Tag::Article,
            b"main" => Tag::Main,
            b"header" => Tag::Header,
            b"footer" => Tag::Footer,
            b"nav" => Tag::Nav,
            b"aside" => Tag::Aside,
            b"figure" => Tag::Figure,
            b"figcaption" => Tag::Figcaption,
            b"h1" => Tag::H1,
            b"h2" => Tag::H2,
            b"h3" => Tag::H3,
            b"h4" => Tag::H4,
            b"h5" => Tag::H5,
            b"h6" => Tag::H6,
            b"ul" => Tag::Ul,
            b"ol" => Tag::Ol,
            b"li" => Tag::Li,
            b"dl" => Tag::Dl,
            b"dt" => Tag::Dt,
            b"dd" => Tag::Dd,
            b"blockquote" => Tag::Blockquote,
            b"pre" | b"listing" => Tag::Pre,
            b"table" => Tag::Table,
            b"thead" => Tag::Thead,
            b"tbody" => Tag::Tbody,
            b"tfoot" => Tag::Tfoot,
            b"tr" => Tag::Tr,
            b"td" => Tag::Td,
            b"th" => Tag::Th,
            b"caption" => Tag::Caption,
            b"address" => Tag::Address,
            b"details" => Tag::Details,
            b"summary" => Tag::Summary,
            b"dialog" => Tag::Dialog,
            b"menu" => Tag::Menu,
            b"center" => Tag::Center,
            b"time" => Tag::Time,
            b"strong" => Tag::Strong,
            b"b" => Tag::B,
            b"em" => Tag::Em,
            b"i" => Tag::I,
            _ => Tag::Other,
        }
    }

    /// Void elements never have children.
    fn is_void(self, name: &[u8]) -> bool {
        match self {
            Tag::Meta | Tag::Img | Tag::Br | Tag::Hr | Tag::Wbr | Tag::Input => true,
            Tag::Other => {
                const VOID: &[&[u8]] = &[
                    b"area", b"base", b"col", b"link", b"param", b"source", b"track", b"keygen",
                    b"embed",
                ];
                VOID.iter().any(|v| v.eq_ignore_ascii_case(name))
            }
            _ => false,
        }
    }

    /// Elements whose content is raw text up to the matching end tag.
    fn is_raw_text(self, name: &[u8]) -> bool {
        match self {
            Tag::Script | Tag::Style | Tag::Title | Tag::Textarea | Tag::Noscript | Tag::Iframe => {
                true
            }
            Tag::Other => {
                const RAW: &[&[u8]] = &[b"xmp", b"noembed", b"noframes", b"plaintext"];
                RAW.iter().any(|v| v.eq_ignore_ascii_case(name))
            }
            _ => false,
        }
    }

    /// Block-level: starts and ends a text block (a paragraph of output).
    pub fn is_block(self) -> bool {
        !matches!(
            self,
            Tag::A
                | Tag::Span
                | Tag::Strong
                | Tag::B
                | Tag::Em
                | Tag::I
                | Tag::Time
                | Tag::Label
                | Tag::Img
                | Tag::Wbr
                | Tag::Br
                | Tag::Input
                | Tag::Other
                | Tag::Custom
                | Tag::Picture
        )
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }

    /// A start tag of this element closes an open `<p>`.
    fn closes_p(self) -> bool {
        matches!(
            self,
            Tag::Address
                | Tag::Article
                | Tag::Aside
                | Tag::Blockquote
                | Tag::Details
                | Tag::Dialog
                | Tag::Div
                | Tag::Dl
                | Tag::Fieldset
                | Tag::Figcaption
                | Tag::Figure
                | Tag::Footer
                | Tag::Form
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Header
                | Tag::Hr
                | Tag::Main
                | Tag::Menu
                | Tag::Nav
                | Tag::Ol
                | Tag::P
                | Tag::Pre
                | Tag::Section
                | Tag::Table
                | Tag::Ul
                | Tag::Center
        )
    }
}

#[derive(Debug, Clone)]
pub enum Kind {
    Element {
        tag: Tag,
        attrs: (u32, u32),
    },
    /// Raw (undecoded) text: a byte range of the source.
    Text(u32, u32),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub next: NodeId,
}

/// The parsed page: node 0 is the root.
pub struct Dom<'a> {
    pub src: &'a str,
    pub nodes: Vec<Node>,
}

/// Deepest nesting kept; deeper start tags are flattened into their ancestor at the cap.
const MAX_DEPTH: usize = 256;

impl<'a> Dom<'a> {
    pub fn tag(&self, id: NodeId) -> Option<Tag> {
        match self.nodes[id as usize].kind {
            Kind::Element { tag, .. } => Some(tag),
            Kind::Text(..) => None,
        }
    }

    /// The raw attribute area of an element (between its name and `>`).
    pub fn attrs(&self, id: NodeId) -> Attrs<'a> {
        match self.nodes[id as usize].kind {
            Kind::Element { attrs: (s, e), .. } => Attrs {
                rest: &self.src.as_bytes()[s as usize..e as usize],
            },
            Kind::Text(..) => Attrs { rest: b"" },
        }
    }

    /// Value of attribute `name` (raw, entities not decoded).
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&'a str> {
        let src = self.src;
        let base = match self.nodes[id as usize].kind {
            Kind::Element { attrs: (s, _), .. } => s as usize,
            Kind::Text(..) => return None,
        };
        let attrs = self.attrs(id);
        let start = attrs.rest.as_ptr() as usize;
        for (k, v) in attrs {
            if k.eq_ignore_ascii_case(name.as_bytes()) {
                let off = v.as_ptr() as usize - start + base;
                return src.get(off..off + v.len());
            }
        }
        None
    }

    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            dom: self,
            next: self.nodes[id as usize].first_child,
        }
    }

    pub fn text_of(&self, id: NodeId) -> Option<&'a str> {
        match self.nodes[id as usize].kind {
            Kind::Text(s, e) => self.src.get(s as usize..e as usize),
            Kind::Element { .. } => None,
        }
    }

    /// Node ids of the subtree of `id` in document order (pre-order), `id` included.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_, 'a> {
        Descendants {
            dom: self,
            root: id,
            next: id,
        }
    }

    /// Parse `src` into a tree. Never fails: malformed markup is repaired or ignored.
    pub fn parse(src: &'a str) -> Dom<'a> {
        let mut b = Builder {
            nodes: Vec::with_capacity(src.len() / 40 + 16),
            stack: vec![(0, Tag::Root)],
        };
        b.nodes.push(Node {
            kind: Kind::Element {
                tag: Tag::Root,
                attrs: (0, 0),
            },
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
        });
        let bytes = src.as_bytes();
        let n = bytes.len();
        let mut i = 0usize;
        let mut text_start = 0usize;
        while i < n {
            let lt = match memchr(b'<', &bytes[i..]) {
                Some(off) => i + off,
                None => break,
            };
            let next = bytes.get(lt + 1).copied().unwrap_or(0);
            if next == b'!' {
                b.text(text_start, lt);
                if bytes[lt..].starts_with(b"<!--") {
                    let end = memmem::find(&bytes[lt + 4..], b"-->")
                        .map(|o| lt + 4 + o + 3)
                        .unwrap_or(n);
                    i = end;
                } else if bytes[lt..].starts_with(b"<![CDATA[") {
                    let end = memmem::find(&bytes[lt + 9..], b"]]>")
                        .map(|o| lt + 9 + o + 3)
                        .unwrap_or(n);
                    i = end;
                } else {
                    i = memchr(b'>', &bytes[lt..]).map(|o| lt + o + 1).unwrap_or(n);
                }
                text_start = i;
                continue;
            }
            if next == b'?' {
                b.text(text_start, lt);
                i = memchr(b'>', &bytes[lt..]).map(|o| lt + o + 1).unwrap_or(n);
                text_start = i;
                continue;
            }
            let closing = next == b'/';
            let name_start = if closing { lt + 2 } else { lt + 1 };
            if name_start >= n || !bytes[name_start].is_ascii_alphabetic() {
                // Not a tag: a literal '<' in text.
                i = lt + 1;
                continue;
            }
            let mut name_end = name_start;
            while name_end < n
                && !matches!(
                    bytes[name_end],
                    b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'
                )
            {
                name_end += 1;
            }
            let gt = find_tag_end(bytes, name_end);
            b.text(text_start, lt);
            let name = &bytes[name_start..name_end];
            let tag = Tag::from_name(name);
            let tag_end = (gt + 1).min(n);
            if closing {
                b.close(tag, name, src);
                i = tag_end;
                text_start = i;
                continue;
            }
            let attr_end = if gt > name_end && bytes.get(gt - 1) == Some(&b'/') {
                gt - 1
            } else {
                gt.min(n)
            };
            let id = b.open(
                tag,
                name,
                (name_end as u32, attr_end.max(name_end) as u32),
                src,
            );
            i = tag_end;
            text_start = i;
            if tag.is_void(name) {
                b.stack.pop_if_top(id);
            } else if tag.is_raw_text(name) {
                let end = find_raw_end(bytes, i, name);
                if tag == Tag::Title || tag == Tag::Textarea {
                    b.text(i, end);
                }
                b.stack.pop_if_top(id);
                // Skip the end tag too.
                i = memchr(b'>', &bytes[end.min(n)..])
                    .map(|o| end + o + 1)
                    .unwrap_or(n);
                text_start = i;
            }
        }
        b.text(text_start, n);
        Dom {
            src,
            nodes: b.nodes,
        }
    }
}

trait PopIfTop {
    fn pop_if_top(&mut self, id: NodeId);
}

impl PopIfTop for Vec<(NodeId, Tag)> {
    fn pop_if_top(&mut self, id: NodeId) {
        if self.last().map(|t| t.0) == Some(id) {
            self.pop();
        }
    }
}

/// Index of the `>` ending a tag whose name ends at `from`, skipping quoted values.
fn find_tag_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    let n = bytes.len();
    while i < n {
        match bytes[i] {
            b'>' => return i,
            q @ (b'"' | b'\'') => {
                // Only a quote that starts a value (after '=') opens a quoted section.
                let mut j = i;
                while j > from && matches!(bytes[j - 1], b' ' | b'\t' | b'\n' | b'\r') {
                    j -= 1;
                }
                if j > from && bytes[j - 1] == b'=' {
                    match memchr(q, &bytes[i + 1..]) {
                        Some(o) => i = i + 1 + o + 1,
                        None => return n,
                    }
                    continue;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    n
}

/// Start of `</name` (case-insensitive) at or after `from`, or the end of input.
fn find_raw_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(o) = memmem::find(&bytes[i.min(bytes.len())..], b"</") {
        let at = i + o;
        let s = at + 2;
        if bytes.len() >= s + name.len() && bytes[s..s + name.len()].eq_ignore_ascii_case(name) {
            let after = bytes.get(s + name.len()).copied().unwrap_or(b'>');
            if matches!(after, b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'\x0c') {
                return at;
            }
        }
        i = at + 2;
    }
    bytes.len()
}

struct Builder {
    nodes: Vec<Node>,
    stack: Vec<(NodeId, Tag)>,
}

impl Builder {
    fn append(&mut self, node: Node) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let parent = node.parent as usize;
        let last = self.nodes[parent].last_child;
        if last == NONE {
            self.nodes[parent].first_child = id;
        } else {
            self.nodes[last as usize].next = id;
        }
        self.nodes[parent].last_child = id;
        self.nodes.push(node);
        id
    }

    fn text(&mut self, start: usize, end: usize) {
        if end <= start {
            return;
        }
        let parent = self.stack.last().map(|t| t.0).unwrap_or(0);
        // Merge with a preceding adjacent text node (comments split text otherwise).
        let last = self.nodes[parent as usize].last_child;
        self.append(Node {
            kind: Kind::Text(start as u32, end as u32),
            parent,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
        });
        let _ = last;
    }

    /// Close open elements as an HTML parser would before `tag` starts.
    fn implied_ends(&mut self, tag: Tag) {
        let close_in_scope = |stack: &mut Vec<(NodeId, Tag)>, targets: &[Tag], boundary: &[Tag]| {
            if let Some(pos) = stack
                .iter()
                .rposition(|t| targets.contains(&t.1) || boundary.contains(&t.1))
            {
                if targets.contains(&stack[pos].1) {
                    stack.truncate(pos);
                }
            }
        };
        const SCOPE: &[Tag] = &[
            Tag::Root,
            Tag::Html,
            Tag::Table,
            Tag::Td,
            Tag::Th,
            Tag::Button,
            Tag::Template,
            Tag::Object,
            Tag::Caption,
        ];
        if tag.closes_p() {
            close_in_scope(&mut self.stack, &[Tag::P], SCOPE);
        }
        match tag {
            Tag::Li => close_in_scope(
                &mut self.stack,
                &[Tag::Li],
                &[
                    Tag::Ul,
                    Tag::Ol,
                    Tag::Menu,
                    Tag::Root,
                    Tag::Table,
                    Tag::Td,
                    Tag::Th,
                ],
            ),
            Tag::Dt | Tag::Dd => close_in_scope(
                &mut self.stack,
                &[Tag::Dt, Tag::Dd],
                &[Tag::Dl, Tag::Root, Tag::Table, Tag::Td, Tag::Th],
            ),
            Tag::Option => {
                close_in_scope(&mut self.stack, &[Tag::Option], &[Tag::Select, Tag::Root])
            }
            Tag::Td | Tag::Th => close_in_scope(
                &mut self.stack,
                &[Tag::Td, Tag::Th],
                &[Tag::Tr, Tag::Table, Tag::Root],
            ),
            Tag::Tr => close_in_scope(&mut self.stack, &[Tag::Tr], &[Tag::Table, Tag::Root]),
            Tag::Thead | Tag::Tbody | Tag::Tfoot => close_in_scope(
                &mut self.stack,
                &[Tag::Thead, Tag::Tbody, Tag::Tfoot],
                &[Tag::Table, Tag::Root],
            ),
            _ => {}
        }
        if tag.is_heading() {
            if let Some(&(_, top)) = self.stack.last() {
                if top.is_heading() {
                    self.stack.pop();
                }
            }
        }
    }

    fn open(&mut self, tag: Tag, _name: &[u8], attrs: (u32, u32), _src: &str) -> NodeId {
        self.implied_ends(tag);
        let parent = self.stack.last().map(|t| t.0).unwrap_or(0);
        let id = self.append(Node {
            kind: Kind::Element { tag, attrs },
            parent,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
        });
        if self.stack.len() < MAX_DEPTH {
            self.stack.push((id, tag));
        } else {
            // Too deep: keep the element as an empty leaf; its content goes to the parent.
            self.stack.push((id, tag));
            self.stack.pop();
        }
        id
    }

    fn close(&mut self, tag: Tag, name: &[u8], src: &str) {
        if tag == Tag::Other || tag == Tag::Custom {
            // Unknown and custom elements: match by name.
            let bytes = src.as_bytes();
            let _ = bytes;
            let pos = self.stack.iter().rposition(|&(id, t)| {
                t == tag && self.element_name(id, src).eq_ignore_ascii_case(name)
            });
            if let Some(pos) = pos {
                if pos > 0 {
                    self.stack.truncate(pos);
                }
            }
            return;
        }
        if let Some(pos) = self.stack.iter().rposition(|t| t.1 == tag) {
            if pos > 0 {
                self.stack.truncate(pos);
            }
        }
    }

    fn element_name<'s>(&self, id: NodeId, src: &'s str) -> &'s [u8] {
        match self.nodes[id as usize].kind {
            Kind::Element { attrs: (s, _), .. } => {
                let bytes = src.as_bytes();
                let end = s as usize;
                let mut start = end;
                while start > 0 && bytes[start - 1] != b'<' && bytes[start - 1] != b'/' {
                    start -= 1;
                }
                &bytes[start..end]
            }
            Kind::Text(..) => b"",
        }
    }
}

pub struct Children<'d, 'a> {
    dom: &'d Dom<'a>,
    next: NodeId,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.dom.nodes[id as usize].next;
        Some(id)
    }
}

pub struct Descendants<'d, 'a> {
    dom: &'d Dom<'a>,
    root: NodeId,
    next: NodeId,
}

impl Iterator for Descendants<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let id = self.next;
        if id == NONE {
            return None;
        }
        let nodes = &self.dom.nodes;
        let n = &nodes[id as usize];
        self.next = if n.first_child != NONE {
            n.first_child
        } else {
            let mut cur = id;
            loop {
                if cur == self.root {
                    break NONE;
                }
                let c = &nodes[cur as usize];
                if c.next != NONE {
                    break c.next;
                }
                cur = c.parent;
                if cur == NONE {
                    break NONE;
                }
            }
        };
        Some(id)
    }
}

/// Iterator over `(name, value)` of a raw attribute area. Values are raw (not decoded).
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.rest;
        let mut i = 0;
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let ns = i;
        while i < b.len()
            && !b[i].is_ascii_whitespace()
            && b[i] != b'='
            && b[i] != b'/'
            && b[i] != b'>'
        {
            i += 1;
        }
        if i == ns {
            // Stray character: skip it.
            self.rest = &b[i + 1..];
            return self.next();
        }
        let name = &b[ns..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = memchr(q, &b[vs..]).map(|o| vs + o).unwrap_or(b.len());
                self.rest = &b[(ve + 1).min(b.len())..];
                return Some((name, &b[vs..ve]));
            }
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            self.rest = &b[i..];
            return Some((name, &b[vs..i]));
        }
        self.rest = &b[i..];
        Some((name, &b[i..i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(dom: &Dom, id: NodeId) -> Vec<Tag> {
        dom.children(id).filter_map(|c| dom.tag(c)).collect()
    }

    #[test]
    fn implied_p_end_and_void_elements() {
        let dom = Dom::parse("<body><p>one<br>two<p>three<div>x</div></body>");
        let body = dom.children(0).next().unwrap();
        assert_eq!(dom.tag(body), Some(Tag::Body));
        assert_eq!(tags(&dom, body), vec![Tag::P, Tag::P, Tag::Div]);
    }

    #[test]
    fn raw_text_and_comments_are_not_markup() {
        let dom = Dom::parse("<p>a<!-- <p>no --></p><script>if (a<b) {'</p>'}</script><p>c</p>");
        let ps: Vec<_> = dom
            .descendants(0)
            .filter(|&i| dom.tag(i) == Some(Tag::P))
            .collect();
        assert_eq!(ps.len(), 2);
        let texts: Vec<_> = dom.descendants(0).filter_map(|i| dom.text_of(i)).collect();
        assert_eq!(texts, vec!["a", "c"]);
    }

    #[test]
    fn attributes_quoted_unquoted_and_with_gt() {
        let dom = Dom::parse(r#"<div class="a > b" id=main data-x='y' hidden>t</div>"#);
        let div = dom.children(0).next().unwrap();
        assert_eq!(dom.attr(div, "class"), Some("a > b"));
        assert_eq!(dom.attr(div, "id"), Some("main"));
        assert_eq!(dom.attr(div, "DATA-X"), Some("y"));
        assert_eq!(dom.attr(div, "hidden"), Some(""));
        assert_eq!(dom.attr(div, "style"), None);
    }

    #[test]
    fn list_items_close_each_other_and_garbage_does_not_panic() {
        let dom = Dom::parse("<ul><li>a<li>b</ul>");
        let ul = dom.children(0).next().unwrap();
        assert_eq!(tags(&dom, ul), vec![Tag::Li, Tag::Li]);
        for junk in [
            "<",
            "<a",
            "<a href='",
            "</",
            "<!--",
            "<p>é<",
            "<<>>",
            "</div></div>x",
            "<script>",
            "<x-y>z</x-y>",
            "</x-y>",
            "<a-b><a-b></a-b>",
        ] {
            let dom = Dom::parse(junk);
            assert!(dom.descendants(0).count() >= 1);
        }
    }

    #[test]
    fn deep_nesting_is_capped() {
        let html = "<div>".repeat(10_000) + "deep";
        let dom = Dom::parse(&html);
        let mut depth = 0;
        let mut id = 0;
        while let Some(c) = dom.children(id).find(|&c| dom.tag(c) == Some(Tag::Div)) {
            depth += 1;
            id = c;
        }
        assert!(depth <= MAX_DEPTH + 1, "depth {depth}");
    }
}
