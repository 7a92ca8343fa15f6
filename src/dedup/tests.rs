//! Cross-document tests of the dedup stage on the fixture `tests/fixtures/dedup/reports.jsonl`
//! (invented reports: one story with a copy for each kind of republishing edit, and one
//! document for each kind of hard negative), plus config and policy tests.

use std::collections::HashMap;

use super::*;
use crate::document::{Document, Format};

const FIXTURE: &str = include_str!("../../tests/fixtures/dedup/reports.jsonl");

struct Fix {
    id: String,
    text: String,
    cluster: String,
    kind: String,
}

fn fixture() -> Vec<Fix> {
    FIXTURE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line is JSON");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Fix {
                id: s("id"),
                text: s("text"),
                cluster: s("cluster"),
                kind: s("kind"),
            }
        })
        .collect()
}

fn docs(f: &[Fix]) -> Vec<Document> {
    f.iter()
        .enumerate()
        .map(|(i, x)| {
            Document::new(
                i as u64,
                x.id.clone(),
                "fixture".into(),
                Format::Jsonl,
                x.text.clone(),
            )
        })
        .collect()
}

/// Run the stage over `docs` in order; returns id -> kept document id (itself if kept).
fn run(cfg: &Config, docs: &mut [Document]) -> (HashMap<String, String>, Dedup) {
    let mut d = cfg.build().expect("valid config");
    let mut out = HashMap::new();
    let mut verdicts = Vec::new();
    for doc in docs.iter_mut() {
        let s = d.summarise(doc);
        verdicts.push(d.admit(doc, s));
    }
    let fin: HashMap<u64, Admission> = d.finish().into_iter().collect();
    for (doc, v) in docs.iter().zip(verdicts) {
        let outranked = v == Admission::Outranked;
        let v = if v.pending() {
            fin.get(&doc.seq).cloned().expect("final verdict")
        } else {
            v
        };
        assert!(
            !outranked || matches!(v, Admission::Duplicate { .. }),
            "{} was outranked, then kept",
            doc.id
        );
        match v {
            Admission::Keep => out.insert(doc.id.clone(), doc.id.clone()),
            Admission::Duplicate { of, similarity } => {
                assert!((0.0..=1.0).contains(&similarity));
                out.insert(doc.id.clone(), of)
            }
            Admission::Deferred | Admission::Outranked => panic!("pending after finish"),
        };
    }
    (out, d)
}

fn check_clusters(f: &[Fix], kept: &HashMap<String, String>) {
    let cluster: HashMap<&str, &str> = f
        .iter()
        .map(|x| (x.id.as_str(), x.cluster.as_str()))
        .collect();
    for x in f {
        let of = &kept[&x.id];
        assert_eq!(
            cluster[of.as_str()],
            x.cluster,
            "{} ({}) was judged a duplicate of {}",
            x.id,
            x.kind,
            of
        );
        assert_eq!(kept[of], *of, "{} points at {} which is not kept", x.id, of);
    }
    // Exactly one kept document per true cluster.
    let mut per: HashMap<&str, usize> = HashMap::new();
    for x in f {
        if kept[&x.id] == x.id {
            *per.entry(x.cluster.as_str()).or_default() += 1;
        }
    }
    for x in f {
        assert_eq!(
            per.get(x.cluster.as_str()),
            Some(&1),
            "cluster {} ({}) not kept exactly once",
            x.cluster,
            x.kind
        );
    }
}

#[test]
fn every_copy_found_and_every_distinct_report_kept() {
    let f = fixture();
    let (kept, d) = run(&Config::default(), &mut docs(&f));
    check_clusters(&f, &kept);
    let rep = d.report();
    assert_eq!(rep["exact_duplicates"], 1);
    assert_eq!(rep["near_duplicates"], 4);
    assert_eq!(rep["cluster_size_histogram"]["5"], 1);
    assert_eq!(rep["cluster_size_histogram"]["2"], 1);
}

#[test]
fn same_clusters_in_reverse_order() {
    let mut f = fixture();
    f.reverse();
    let (kept, _) = run(&Config::default(), &mut docs(&f));
    check_clusters(&f, &kept);
}

#[test]
fn truncated_copy_is_found_by_containment_alone() {
    let f: Vec<Fix> = fixture()
        .into_iter()
        .filter(|x| x.id == "a-origin" || x.id == "a-truncated")
        .collect();
    let cfg = Config {
        jaccard_threshold: 0.95,
        ..Config::default()
    };
    let (kept, _) = run(&cfg, &mut docs(&f));
    assert_eq!(kept["a-truncated"], "a-origin");
    // Without the containment test the truncated copy would be kept.
    let cfg = Config {
        jaccard_threshold: 0.95,
        containment_threshold: 1.0,
        ..Config::default()
    };
    let (kept, _) = run(&cfg, &mut docs(&f));
    assert_eq!(kept["a-truncated"], "a-truncated");
}

#[test]
fn keep_policies_choose_the_fullest_copy() {
    let f = fixture();
    for keep in [KeepPolicy::Longest, KeepPolicy::MostComplete] {
        let cfg = Config {
            keep,
            ..Config::default()
        };
        let mut ds = docs(&f);
        // Put the truncated copy first: `first` would keep it.
        let t = ds.iter().position(|d| d.id == "a-truncated").unwrap_or(0);
        ds.swap(0, t);
        for (i, d) in ds.iter_mut().enumerate() {
            d.seq = i as u64;
        }
        let fx: Vec<Fix> = ds
            .iter()
            .map(|d| {
                f.iter()
                    .find(|x| x.id == d.id)
                    .map(|x| Fix {
                        id: x.id.clone(),
                        text: String::new(),
                        cluster: x.cluster.clone(),
                        kind: x.kind.clone(),
                    })
                    .expect("id")
            })
            .collect();
        let (kept, stage) = run(&cfg, &mut ds);
        assert!(!stage.streaming());
        check_clusters(&fx, &kept);
        assert_ne!(
            kept["a-origin"], "a-truncated",
            "{keep:?} kept the truncated copy"
        );
    }
    let (kept, _) = run(&streaming(), &mut docs(&f));
    assert_eq!(kept["a-truncated"], "a-origin");
}

/// The default configuration with the streaming `first` policy (verdicts at once).
fn streaming() -> Config {
    Config {
        keep: KeepPolicy::First,
        ..Config::default()
    }
}

#[test]
fn default_policy_keeps_the_most_complete_copy() {
    assert_eq!(Config::default().keep, KeepPolicy::MostComplete);
    assert!(!Config::default().build().expect("config").streaming());
}

#[test]
fn intra_document_repeats_counted_in_the_log() {
    let mut d = Document::new(
        0,
        "x".into(),
        "t".into(),
        Format::Text,
        "Council Backs New Flood Wall\n\nCouncil backs new flood wall\n\nThe council backed the new flood wall on Thursday after a long debate\n\nKELMSBY (Agency - 4 May) The council backed the new flood wall on Thursday after a long debate.\n\nWork starts in spring.".into(),
    );
    let stage = Config::default().build().expect("config");
    let _ = stage.summarise(&mut d);
    assert_eq!(
        d.text,
        "Council Backs New Flood Wall\n\nKELMSBY (Agency - 4 May) The council backed the new flood wall on Thursday after a long debate.\n\nWork starts in spring."
    );
    let c = d
        .log
        .counts
        .iter()
        .find(|c| c.rule == "repeated-paragraph")
        .map(|c| c.n);
    assert_eq!(c, Some(2));
    // With a title, the first paragraph repeating it goes too.
    let mut d = Document::new(
        0,
        "y".into(),
        "t".into(),
        Format::Text,
        "Council backs new flood wall\n\nThe council backed it.".into(),
    );
    d.title = Some("Council Backs New Flood Wall".into());
    let _ = stage.summarise(&mut d);
    assert_eq!(d.text, "The council backed it.");
}

#[test]
fn paragraph_level_pass_drops_only_widespread_paragraphs() {
    let cfg = Config {
        paragraphs: ParagraphConfig {
            enabled: true,
            min_docs: 3,
            ..ParagraphConfig::default()
        },
        ..streaming()
    };
    let mut stage = cfg.build().expect("config");
    let stories = [
        "Lifeboat crew rescues two kayakers swept out beyond the harbour mouth by a strong tide on Saturday.",
        "The library will open until eight in the evening on weekdays from next month, the council said.",
        "Train drivers called off their strike after late talks on pay and working hours on Sunday night.",
        "A new bakery opened on the high street, selling bread made with flour from the old windmill.",
        "The football club appointed a former player as manager after a poor run of results this season.",
    ];
    let boiler = "Sign up to our free daily newsletter to get the most important stories delivered every morning.";
    let shared_lead = "The mayor resigned on Friday after a row over the budget that had divided the council for months.";
    let mut texts: Vec<String> = stories.iter().map(|s| format!("{s}\n\n{boiler}")).collect();
    // Two different reports share one lead: it must stay in both.
    texts.push(format!("{shared_lead}\n\nShe said she was proud of what had been done for the town and its people."));
    texts.push(format!("{shared_lead}\n\nHer opponents welcomed the decision and called for an early election soon."));
    let mut out = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let mut d = Document::new(
            i as u64,
            format!("d{i}"),
            "t".into(),
            Format::Text,
            t.clone(),
        );
        let s = stage.summarise(&mut d);
        assert_eq!(stage.admit(&mut d, s), Admission::Keep, "{i}");
        out.push(d.text);
    }
    for t in &out[..3] {
        assert!(t.contains(boiler));
    }
    for t in &out[3..5] {
        assert!(!t.contains(boiler), "{t}");
        assert!(!t.is_empty());
    }
    for t in &out[5..] {
        assert!(t.starts_with(shared_lead));
    }
    assert_eq!(stage.report()["boilerplate_paragraphs_removed"], 2);
}

#[test]
fn same_verdicts_from_encoded_summaries() {
    let f = fixture();
    let cfg = Config::default();
    let stage = cfg.build().expect("config");
    for mut d in docs(&f) {
        let s = stage.summarise(&mut d);
        let bytes = stage.encode_summary(&s).expect("encodable");
        let back = stage.decode_summary(&bytes).expect("decodable");
        assert_eq!(
            back.downcast_ref::<DocSummary>(),
            s.downcast_ref::<DocSummary>()
        );
        assert!(stage.decode_summary(&bytes[..bytes.len() / 2]).is_none());
    }
}

#[test]
fn config_is_validated_with_the_key_named() {
    let bad = |c: Config, key: &str| {
        let e = c.build().err().expect("invalid config").to_string();
        assert!(e.contains(key), "{e}");
    };
    bad(
        Config {
            bands: 10,
            ..Config::default()
        },
        "stages.dedup.num_hashes",
    );
    bad(
        Config {
            rows: 0,
            ..Config::default()
        },
        "stages.dedup.rows",
    );
    bad(
        Config {
            jaccard_threshold: 1.5,
            ..Config::default()
        },
        "stages.dedup.jaccard_threshold",
    );
    bad(
        Config {
            shingle_size: 0,
            ..Config::default()
        },
        "stages.dedup.shingle_size",
    );
    bad(
        Config {
            sketch_size: 4,
            ..Config::default()
        },
        "stages.dedup.sketch_size",
    );
    let c: Config =
        toml::from_str("keep = \"most-complete\"\nbands = 16\nrows = 4\nnum_hashes = 64")
            .expect("toml");
    assert_eq!(c.keep, KeepPolicy::MostComplete);
    assert!(c.build().is_ok());
    assert!(toml::from_str::<Config>("no_such_key = 1").is_err());
}

#[test]
fn no_panic_on_odd_documents() {
    let stage_cfg = Config::default();
    let mut stage = stage_cfg.build().expect("config");
    for (i, t) in [
        "",
        "\n\n\n",
        "x",
        "é",
        "1,2.3,,4..",
        "’’’",
        "a\u{0}b",
        &"word ".repeat(5000),
    ]
    .iter()
    .enumerate()
    {
        let mut d = Document::new(
            i as u64,
            format!("o{i}"),
            "t".into(),
            Format::Text,
            t.to_string(),
        );
        let s = stage.summarise(&mut d);
        let _ = stage.admit(&mut d, s);
    }
    let _ = stage.report();
}

/// Verdicts of a run split in two at `cut`, the second half admitted by a stage that loaded
/// the index saved by the first.
fn run_in_two(
    cfg: &Config,
    docs: &mut [Document],
    cut: usize,
) -> (HashMap<String, String>, Vec<u8>) {
    let (mut first, _) = run(cfg, &mut docs[..cut]);
    let mut a = cfg.build().expect("config");
    for doc in docs[..cut].iter_mut() {
        let s = a.summarise(doc);
        let _ = a.admit(doc, s);
    }
    let _ = a.finish();
    let mut bytes = Vec::new();
    a.save_index(&mut bytes).expect("saved");
    let mut b = cfg.build().expect("config");
    b.load_index(&mut &bytes[..]).expect("loaded");
    let mut verdicts = Vec::new();
    for doc in docs[cut..].iter_mut() {
        let s = b.summarise(doc);
        verdicts.push(b.admit(doc, s));
    }
    let fin: HashMap<u64, Admission> = b.finish().into_iter().collect();
    for (doc, v) in docs[cut..].iter().zip(verdicts) {
        let v = if v.pending() {
            fin[&doc.seq].clone()
        } else {
            v
        };
        let of = match v {
            Admission::Keep => doc.id.clone(),
            Admission::Duplicate { of, .. } => of,
            Admission::Deferred | Admission::Outranked => panic!("pending after finish"),
        };
        first.insert(doc.id.clone(), of);
    }
    (first, bytes)
}

#[test]
fn saved_index_gives_the_verdicts_of_one_run() {
    let f = fixture();
    let cfg = streaming();
    let (whole, _) = run(&cfg, &mut docs(&f));
    for cut in [1, f.len() / 2, f.len() - 1] {
        let (split, bytes) = run_in_two(&cfg, &mut docs(&f), cut);
        assert_eq!(split, whole, "split at {cut}");
        // Bounded bytes per document: sketches, links and ids, never the texts.
        let text_bytes: usize = f[..cut].iter().map(|x| x.text.len()).sum();
        assert!(
            bytes.len() < 64 + cut * (4 * cfg.sketch_size + 16 * cfg.bands + 64),
            "{} bytes for {cut} documents",
            bytes.len()
        );
        if text_bytes > 4000 {
            assert!(
                !bytes
                    .windows(20)
                    .any(|w| f[0].text.as_bytes().windows(20).next() == Some(w)),
                "text in the index"
            );
        }
    }
}

#[test]
fn a_kept_document_of_an_earlier_run_stays_the_keeper() {
    // Under `longest` a fuller later copy would be preferred; not when the shorter one has
    // already been published by an earlier run.
    let f = fixture();
    let cfg = Config {
        keep: KeepPolicy::Longest,
        ..Config::default()
    };
    let (whole, _) = run(&cfg, &mut docs(&f));
    let (split, _) = run_in_two(&cfg, &mut docs(&f), 1);
    let first = &f[0].id;
    assert_eq!(split[first], *first);
    for x in &f[1..] {
        if x.cluster == f[0].cluster {
            assert_eq!(split[&x.id], *first, "{}", x.id);
        } else {
            assert_eq!(split[&x.id], whole[&x.id], "{}", x.id);
        }
    }
}

#[test]
fn damaged_or_foreign_index_is_an_error_not_a_panic() {
    let f = fixture();
    let cfg = Config::default();
    let (_, bytes) = run_in_two(&cfg, &mut docs(&f), f.len());
    let load = |b: &[u8], c: &Config| c.build().expect("config").load_index(&mut &b[..]);
    assert!(load(&bytes, &cfg).is_ok());
    for n in (0..bytes.len()).step_by(7) {
        assert!(load(&bytes[..n], &cfg).is_err(), "cut at {n}");
    }
    let mut x = bytes.clone();
    for i in (8..x.len()).step_by(13) {
        x[i] ^= 0xA5;
        let _ = load(&x, &cfg);
        x[i] ^= 0xA5;
    }
    let other = Config {
        bands: 16,
        rows: 4,
        ..Config::default()
    };
    let e = load(&bytes, &other).expect_err("other settings");
    assert!(e.to_string().contains("settings"), "{e}");
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(load(&longer, &cfg).is_err());
}

/// The split form's model (what `presswash buckets` and `clusters` do, in memory): the
/// candidates of each band range verified on their own, merged by candidate, decided by
/// `admit_matches`.
fn split_verdicts(
    cfg: &Config,
    sums: &[(String, u64, DocSummary)],
    ranges: usize,
) -> Vec<Admission> {
    let d = cfg.build().expect("config");
    let mut per_doc: Vec<Vec<(u32, f64)>> = vec![Vec::new(); sums.len()];
    for j in 0..ranges {
        let (lo, hi) = (j * cfg.bands / ranges, (j + 1) * cfg.bands / ranges);
        let mut buckets = Buckets::default();
        let (mut hm, mut cands) = (Vec::new(), Vec::new());
        let mut exact = std::collections::HashSet::new();
        for (me, (_, _, s)) in sums.iter().enumerate() {
            let keys = if s.bands.is_empty() {
                &[][..]
            } else {
                &s.bands[lo..hi]
            };
            link_bands(&mut buckets, me as u32, keys, &mut hm);
            if exact.insert(s.exact) {
                walk_bands(&buckets, &hm, cfg.max_bucket_scan, &mut cands);
                for &c in &cands {
                    let o = &sums[c as usize].2;
                    if d.quick_look(
                        &s.sketch,
                        s.shingles,
                        sketch::prefix(&o.sketch, QUICK),
                        o.shingles,
                    ) {
                        if let Some(sim) = d.verify(&s.sketch, s.shingles, &o.sketch, o.shingles) {
                            per_doc[me].push((c, sim));
                        }
                    }
                }
            }
        }
    }
    let mut d = cfg.build().expect("config");
    let mut out: Vec<Admission> = Vec::new();
    for ((id, seq, s), m) in sums.iter().zip(per_doc.iter_mut()) {
        m.sort_by_key(|x| x.0);
        m.dedup_by_key(|x| x.0);
        out.push(d.admit_matches(id, *seq, s.shingles, s.chars, s.exact, m));
    }
    let fin: HashMap<u64, Admission> = d.finish().into_iter().collect();
    sums.iter()
        .zip(out)
        .map(|((_, seq, _), a)| if a.pending() { fin[seq].clone() } else { a })
        .collect()
}

#[test]
fn band_ranges_give_the_single_runs_verdicts() {
    let f = fixture();
    // Every fixture document twice, then a third time with its paragraphs in another order:
    // exact copies, near copies and long buckets (more than the bucket scan) throughout.
    let mut all = docs(&f);
    let n = all.len() as u64;
    for (i, x) in f.iter().enumerate() {
        all.push(Document::new(
            n + i as u64,
            format!("{}-again", x.id),
            "fixture".into(),
            Format::Jsonl,
            x.text.clone(),
        ));
        let mut paras: Vec<&str> = x.text.split("\n\n").collect();
        paras.rotate_left(1);
        all.push(Document::new(
            2 * n + i as u64,
            format!("{}-moved", x.id),
            "fixture".into(),
            Format::Jsonl,
            paras.join("\n\n"),
        ));
    }
    for keep in [
        KeepPolicy::First,
        KeepPolicy::Longest,
        KeepPolicy::MostComplete,
    ] {
        for scan in [1, 2, 256] {
            let cfg = Config {
                keep,
                max_bucket_scan: scan,
                ..Config::default()
            };
            let mut d = cfg.build().expect("config");
            let mut sums = Vec::new();
            let mut single = Vec::new();
            for doc in all.iter_mut() {
                let mut copy = doc.clone();
                let s = d.summarise_doc(&mut copy);
                sums.push((copy.id.clone(), copy.seq, s.clone()));
                single.push(d.admit_summary(&mut copy, s));
            }
            let fin: HashMap<u64, Admission> = d.finish().into_iter().collect();
            let single: Vec<Admission> = all
                .iter()
                .zip(single)
                .map(|(doc, a)| {
                    if a.pending() {
                        fin[&doc.seq].clone()
                    } else {
                        a
                    }
                })
                .collect();
            assert!(
                single
                    .iter()
                    .filter(|a| matches!(a, Admission::Duplicate { .. }))
                    .count()
                    > f.len()
            );
            for ranges in [1, 2, 3, 7, 32] {
                assert_eq!(
                    split_verdicts(&cfg, &sums, ranges),
                    single,
                    "keep {keep:?}, scan {scan}, {ranges} ranges"
                );
            }
        }
    }
}

#[test]
fn band_walks_of_a_partition_of_the_bands_unite_to_the_whole_walk() {
    // Few distinct keys per band: long buckets, so the scan limit cuts them.
    let (nb, docs) = (12usize, 300u32);
    let key = |d: u32, b: usize| ((d as u64 * 2654435761 + b as u64 * 97) % 5) | ((b as u64) << 32);
    for scan in [1, 3, 8] {
        let (mut buckets, mut hm, mut whole) = (Buckets::default(), Vec::new(), Vec::new());
        let mut expect = Vec::new();
        for d in 0..docs {
            let keys: Vec<u64> = (0..nb).map(|b| key(d, b)).collect();
            link_bands(&mut buckets, d, &keys, &mut hm);
            walk_bands(&buckets, &hm, scan, &mut whole);
            expect.push(whole.clone());
        }
        for ranges in [1, 2, 5, 12] {
            let mut got: Vec<Vec<u32>> = vec![Vec::new(); docs as usize];
            for j in 0..ranges {
                let (lo, hi) = (j * nb / ranges, (j + 1) * nb / ranges);
                let (mut buckets, mut hm, mut part) = (Buckets::default(), Vec::new(), Vec::new());
                for d in 0..docs {
                    let keys: Vec<u64> = (lo..hi).map(|b| key(d, b)).collect();
                    link_bands(&mut buckets, d, &keys, &mut hm);
                    walk_bands(&buckets, &hm, scan, &mut part);
                    got[d as usize].extend_from_slice(&part);
                }
            }
            for g in got.iter_mut() {
                g.sort_unstable();
                g.dedup();
            }
            assert_eq!(got, expect, "scan {scan}, {ranges} ranges");
        }
    }
}

/// The pipeline's batch form (chunks linked while later ones are summarised, the look-ups in
/// parallel) gives the verdicts, texts and report of one-by-one admission at any batch size
/// and thread count: also with exact copies, bucket walks cut short, the paragraph pass on
/// and a deferred keep policy.
#[test]
fn run_batch_matches_one_by_one_admission() {
    let f = fixture();
    // The fixture six times over (exact copies, and copies without their first line): more
    // than two chunks of the linking.
    let corpus = || {
        let base = docs(&f);
        let mut d = Vec::new();
        for r in 0..6u64 {
            for x in &base {
                let text = if r % 2 == 1 {
                    x.text
                        .split_once('\n')
                        .map_or("", |(_, rest)| rest)
                        .to_string()
                } else {
                    x.text.clone()
                };
                d.push(Document::new(
                    r * 1000 + x.seq,
                    format!("{}-{r}", x.id),
                    "fixture".into(),
                    Format::Jsonl,
                    text,
                ));
            }
        }
        d
    };
    let mut cfgs = vec![streaming()];
    let mut c = streaming();
    c.max_bucket_scan = 1;
    cfgs.push(c);
    let mut c = streaming();
    c.paragraphs.enabled = true;
    c.paragraphs.min_docs = 2;
    cfgs.push(c);
    cfgs.push(Config {
        keep: KeepPolicy::Longest,
        ..Config::default()
    });
    for (ci, cfg) in cfgs.iter().enumerate() {
        let mut one = corpus();
        let mut d = cfg.build().expect("config");
        let want: Vec<Admission> = one
            .iter_mut()
            .map(|doc| {
                let s = d.summarise(doc);
                d.admit(doc, s)
            })
            .collect();
        let (want_fin, want_report) = (d.finish(), d.report());
        assert!(
            want.iter()
                .any(|v| matches!(v, Admission::Duplicate { .. }))
                || ci == 3,
            "the corpus has duplicates"
        );
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            for batch in [1, 5, 33, 70, 1000] {
                let mut many = corpus();
                let mut d = cfg.build().expect("config");
                let mut got = Vec::new();
                for chunk in many.chunks_mut(batch) {
                    got.extend(d.run_batch(chunk.iter_mut().collect(), &pool));
                }
                let at = format!("config {ci}, {threads} threads, batches of {batch}");
                assert_eq!(got, want, "{at}");
                assert_eq!(d.finish(), want_fin, "{at}");
                assert_eq!(d.report(), want_report, "{at}");
                for (a, b) in many.iter().zip(&one) {
                    assert_eq!(a.text, b.text, "{at}: {}", a.id);
                }
            }
        }
    }
}

/// A story of `paras` paragraphs of made-up words (every 3-word shingle all but unique).
fn made_up_story(seed: u64, paras: usize) -> Vec<String> {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "do", "pe", "gu", "ha", "ze", "bo", "fi",
        "wa",
    ];
    let mut st = seed;
    let mut next = || sketch::splitmix(&mut st);
    (0..paras)
        .map(|_| {
            let words: Vec<String> = (0..24)
                .map(|_| {
                    let r = next();
                    (0..2 + r % 3)
                        .map(|k| SYL[(r >> (4 + 4 * k)) as usize & 15])
                        .collect()
                })
                .collect();
            format!("{}.", words.join(" "))
        })
        .collect()
}

#[test]
fn a_fuller_copy_seen_last_joins_two_partial_copies_into_one_cluster() {
    // A copy cut short after five paragraphs and one that starts at the sixth share nothing;
    // the whole story, seen after both, contains each. The default policy keeps the whole
    // story alone; `first` has published both partial copies before the story comes.
    let story = made_up_story(7, 12);
    let texts = [
        story[..5].join("\n\n"),
        story[5..].join("\n\n"),
        story.join("\n\n"),
    ];
    let ids = ["cut-short", "second-half", "whole"];
    let mk = || -> Vec<Document> {
        texts
            .iter()
            .zip(ids)
            .enumerate()
            .map(|(i, (t, id))| {
                Document::new(i as u64, id.into(), "t".into(), Format::Text, t.clone())
            })
            .collect()
    };
    let (kept, _) = run(&Config::default(), &mut mk());
    assert_eq!(kept["whole"], "whole");
    assert_eq!(kept["cut-short"], "whole");
    assert_eq!(kept["second-half"], "whole");
    let (kept, _) = run(&streaming(), &mut mk());
    assert_eq!(
        (
            kept["cut-short"].as_str(),
            kept["second-half"].as_str(),
            kept["whole"].as_str()
        ),
        ("cut-short", "second-half", "cut-short")
    );
}

#[test]
fn a_copy_that_cannot_win_its_cluster_is_outranked_at_once() {
    // Under a deferring policy a copy that is no better than a member already in its cluster
    // can never be kept; one that is better must wait for the end like a first report.
    let story = made_up_story(11, 10);
    let texts = [
        story[..8].join("\n\n"),
        story[..8].join("\n\n"),
        story[..6].join("\n\n"),
        story.join("\n\n"),
        story[..7].join("\n\n"),
    ];
    let admit_all = |cfg: &Config| -> Vec<Admission> {
        let mut d = cfg.build().expect("valid config");
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut doc = Document::new(
                    i as u64,
                    format!("c{i}"),
                    "t".into(),
                    Format::Text,
                    t.clone(),
                );
                let s = d.summarise(&mut doc);
                d.admit(&mut doc, s)
            })
            .collect()
    };
    use Admission::{Deferred, Outranked};
    // first report; its exact copy (a tie goes to the earlier); a shorter cut; the whole
    // story (better than all before); a cut shorter than the whole story
    assert_eq!(
        admit_all(&Config::default()),
        [Deferred, Outranked, Outranked, Deferred, Outranked]
    );
    let longest = Config {
        keep: KeepPolicy::Longest,
        ..Config::default()
    };
    assert_eq!(
        admit_all(&longest),
        [Deferred, Outranked, Outranked, Deferred, Outranked]
    );
}

#[test]
fn a_fragment_of_two_stories_does_not_glue_them() {
    // Two different stories open with the same three paragraphs (a shared lead) and go on
    // with five of their own: too little in common to be copies. A copy cut short after the
    // lead lies inside each of them. It is a duplicate of one, but must not make the two
    // stories one cluster (and so drop one of them).
    let lead = made_up_story(21, 3);
    let story = |seed| {
        let mut p = lead.clone();
        p.extend(made_up_story(seed, 5));
        p.join("\n\n")
    };
    let (a, b, cut) = (story(22), story(23), lead.join("\n\n"));
    let verdicts = |texts: &[(&str, &String)]| {
        let mut docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, (id, t))| {
                Document::new(
                    i as u64,
                    (*id).into(),
                    "t".into(),
                    Format::Text,
                    (*t).clone(),
                )
            })
            .collect();
        run(&Config::default(), &mut docs).0
    };
    // The cut copy matches each story on its own, and the stories do not match each other.
    assert_eq!(verdicts(&[("a", &a), ("cut", &cut)])["cut"], "a");
    assert_eq!(verdicts(&[("b", &b), ("cut", &cut)])["cut"], "b");
    let kept = verdicts(&[("a", &a), ("b", &b)]);
    assert_eq!((kept["a"].as_str(), kept["b"].as_str()), ("a", "b"));
    // All three: both stories stay, the cut copy goes as a copy of one of them.
    let kept = verdicts(&[("a", &a), ("b", &b), ("cut", &cut)]);
    assert_eq!((kept["a"].as_str(), kept["b"].as_str()), ("a", "b"));
    assert!(["a", "b"].contains(&kept["cut"].as_str()), "{kept:?}");
}

#[test]
fn an_exact_copy_is_no_candidate_of_later_documents() {
    // A later copy of a story with an exact copy before it is looked at against the first
    // copy only (the exact copy joined no bucket), and still lands in their cluster.
    let story = made_up_story(31, 8);
    let whole = story.join("\n\n");
    let edited = format!("{}\n\n{}", story[..7].join("\n\n"), made_up_story(32, 1)[0]);
    let texts = [&whole, &whole, &edited];
    let mut docs: Vec<Document> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Document::new(
                i as u64,
                format!("d{i}"),
                "t".into(),
                Format::Text,
                (*t).clone(),
            )
        })
        .collect();
    let (kept, d) = run(&Config::default(), &mut docs);
    assert_eq!(d.index.candidates_checked, 1);
    assert_eq!(
        (
            kept["d0"].as_str(),
            kept["d1"].as_str(),
            kept["d2"].as_str()
        ),
        ("d0", "d0", "d0")
    );
}
