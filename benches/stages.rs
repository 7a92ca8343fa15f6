//! Micro-benchmarks of each stage on fixed inputs generated here (deterministic, no files):
//! `cargo bench --bench stages [-- FILTER]`. Throughput is reported in input bytes.
//!
//! The inputs imitate a scraped news batch: prose paragraphs in a few languages, site
//! chrome (menus, share lines, copyright), some mojibake, HTML entities, straight quotes,
//! a republished near-copy, and HTML pages for `extract`. Stages are built with their
//! default configuration exactly as `presswash run` builds them.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use presswash::dedup::BarrierStage;
use presswash::document::{Document, Format};
use presswash::stages::{DocStage, StagesConfig};

/// xorshift64*: a fixed, dependency-free pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "government",
    "said",
    "on",
    "Tuesday",
    "that",
    "prices",
    "would",
    "rise",
    "after",
    "a",
    "long",
    "winter",
    "minister",
    "council",
    "report",
    "market",
    "shares",
    "fell",
    "per",
    "cent",
    "while",
    "analysts",
    "expected",
    "growth",
    "in",
    "the",
    "second",
    "quarter",
    "city",
    "police",
    "officials",
    "residents",
    "school",
    "company",
    "Regierung",
    "sagte",
    "Preise",
    "würden",
    "steigen",
    "gouvernement",
    "a",
    "déclaré",
    "que",
    "les",
    "prix",
    "правительство",
    "заявило",
    "что",
    "цены",
    "вырастут",
    "café",
    "naïve",
    "São",
    "Paulo",
    "Zürich",
];
const CHROME: &[&str] = &[
    "Home | News | World | Business | Sport | Tech",
    "Share this article",
    "Advertisement",
    "Sign up to our newsletter",
    "Read more",
    "© 2024 Example Media Ltd. All rights reserved.",
    "Privacy Policy | Terms of Use | Cookie Settings",
];
const NOISE: &[&str] = &[
    "CafÃ© sociÃ©tÃ©",
    "it&#39;s &amp; more",
    "\"quoted\" and 'single'",
    "--",
    "...",
    "Ã¼ber",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 8 + (rng.next() % 14) as usize;
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let w = rng.pick(WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(w);
        }
        if rng.next().is_multiple_of(40) {
            s.push(' ');
            s.push_str(rng.pick(NOISE));
        }
    }
    s.push('.');
    s
}

/// A scraped article as flat text: chrome lines, a title, paragraphs, footer chrome.
fn article(rng: &mut Rng) -> String {
    let mut t = String::new();
    for _ in 0..2 {
        t.push_str(rng.pick(CHROME));
        t.push_str("\n\n");
    }
    t.push_str(&sentence(rng));
    t.push_str("\n\n");
    let paras = 4 + rng.next() % 8;
    for _ in 0..paras {
        let sents = 2 + rng.next() % 4;
        for k in 0..sents {
            if k > 0 {
                t.push(' ');
            }
            t.push_str(&sentence(rng));
        }
        t.push_str("\n\n");
    }
    for _ in 0..3 {
        t.push_str(rng.pick(CHROME));
        t.push_str("\n\n");
    }
    t.truncate(t.trim_end().len());
    t
}

fn html_page(rng: &mut Rng) -> String {
    let mut h = String::from("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    h.push_str(&sentence(rng));
    h.push_str(
        "</title><style>body{margin:0}</style><script>var x = 1;</script></head><body><nav><ul>",
    );
    for _ in 0..8 {
        h.push_str("<li><a href=\"/s\">");
        h.push_str(rng.pick(WORDS));
        h.push_str("</a></li>");
    }
    h.push_str("</ul></nav><main><article><h1>");
    h.push_str(&sentence(rng));
    h.push_str("</h1>");
    for _ in 0..(5 + rng.next() % 8) {
        h.push_str("<p>");
        h.push_str(&sentence(rng));
        h.push(' ');
        h.push_str(&sentence(rng));
        h.push_str("</p>");
    }
    h.push_str("</article><aside>");
    h.push_str(rng.pick(CHROME));
    h.push_str("</aside></main><footer>");
    h.push_str(rng.pick(CHROME));
    h.push_str("</footer></body></html>");
    h
}

/// About 1 MB of documents: articles from 8 sources, every 5th a near-copy of an earlier one.
fn text_batch() -> Vec<Document> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut docs: Vec<Document> = Vec::new();
    let mut bytes = 0;
    let mut seq = 0u64;
    while bytes < 1_000_000 {
        let text = if seq % 5 == 4 && !docs.is_empty() {
            let k = (rng.next() % docs.len() as u64) as usize;
            let mut t = docs[k].text.replace("said", "stated");
            t.push_str("\n\nRead more");
            t
        } else {
            article(&mut rng)
        };
        bytes += text.len();
        let mut d = Document::new(
            seq,
            format!("doc-{seq}"),
            format!("bench.jsonl:{}", seq + 1),
            Format::Jsonl,
            text,
        );
        d.source = format!("site{}.example", seq % 8);
        docs.push(d);
        seq += 1;
    }
    docs
}

fn html_batch() -> Vec<Document> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    (0..200u64)
        .map(|seq| {
            Document::new(
                seq,
                format!("page-{seq}"),
                format!("page-{seq}.html"),
                Format::Html,
                html_page(&mut rng),
            )
        })
        .collect()
}

fn bytes_of(docs: &[Document]) -> u64 {
    docs.iter().map(|d| d.text.len() as u64).sum()
}

/// Run a per-document stage over a batch the way the driver does: prepare, then apply.
fn run_stage(stage: &dyn DocStage, docs: &mut [Document]) -> usize {
    let state = {
        let refs: Vec<&Document> = docs.iter().collect();
        stage.prepare(&refs)
    };
    let mut kept = 0;
    for d in docs.iter_mut() {
        if stage.apply(d, state.as_ref()).is_ok() {
            kept += 1;
        }
    }
    kept
}

fn doc_stages(c: &mut Criterion) {
    let cfg = StagesConfig::default();
    let text = text_batch();
    let html = html_batch();
    let mut g = c.benchmark_group("stage");
    g.sample_size(20);
    for name in presswash::stages::DOC_STAGE_NAMES {
        let stage = match cfg.build(name) {
            Some(Ok(s)) => s,
            _ => continue,
        };
        let input = if *name == "extract" { &html } else { &text };
        g.throughput(Throughput::Bytes(bytes_of(input)));
        g.bench_function(*name, |b| {
            b.iter_batched(
                || input.clone(),
                |mut docs| black_box(run_stage(stage.as_ref(), &mut docs)),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn dedup(c: &mut Criterion) {
    let text = text_batch();
    let cfg = presswash::dedup::Config::default();
    let Ok(stage) = cfg.build() else { return };
    let mut g = c.benchmark_group("dedup");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes_of(&text)));
    g.bench_function("summarise", |b| {
        b.iter_batched(
            || text.clone(),
            |mut docs| {
                for d in docs.iter_mut() {
                    black_box(stage.summarise(d));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("summarise+admit", |b| {
        b.iter_batched(
            || (text.clone(), cfg.build().ok()),
            |(mut docs, st)| {
                let Some(mut st) = st else { return };
                for d in docs.iter_mut() {
                    let s = st.summarise(d);
                    black_box(st.admit(d, s));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn output(c: &mut Criterion) {
    let text = text_batch();
    let mut g = c.benchmark_group("driver");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes_of(&text)));
    g.bench_function("serialize_kept", |b| {
        b.iter(|| {
            let mut n = 0;
            for d in &text {
                let (j, c) = presswash::output::serialize_kept(d);
                n += j.len() + c.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, doc_stages, dedup, output);
criterion_main!(benches);
