//! A small exact-duplicate barrier for the sharding and cron tests: documents whose text is
//! equal after case and spacing are folded are duplicates. `keep_last` defers every verdict
//! to `finish` (like dedup's non-`first` keep policies) and keeps the last copy.
#![allow(dead_code)]

use std::collections::HashMap;

use presswash::dedup::{Admission, BarrierStage, Summary};
use presswash::document::Document;

pub struct ExactDedup {
    pub keep_last: bool,
    first: HashMap<u64, String>,
    seen: Vec<(u64, u64, String)>,
}

impl ExactDedup {
    pub fn new(keep_last: bool) -> ExactDedup {
        ExactDedup {
            keep_last,
            first: HashMap::new(),
            seen: Vec::new(),
        }
    }
}

fn key(text: &str) -> u64 {
    let folded: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    xxhash_rust::xxh3::xxh3_64(folded.join(" ").as_bytes())
}

impl BarrierStage for ExactDedup {
    fn name(&self) -> &'static str {
        "dedup"
    }
    fn summarise(&self, doc: &mut Document) -> Summary {
        Box::new(key(&doc.text))
    }
    fn admit(&mut self, doc: &mut Document, summary: Summary) -> Admission {
        let k = *summary.downcast::<u64>().expect("ours");
        if self.keep_last {
            self.seen.push((doc.seq, k, doc.id.clone()));
            return Admission::Deferred;
        }
        match self.first.get(&k) {
            Some(of) => Admission::Duplicate {
                of: of.clone(),
                similarity: 1.0,
            },
            None => {
                self.first.insert(k, doc.id.clone());
                Admission::Keep
            }
        }
    }
    fn streaming(&self) -> bool {
        !self.keep_last
    }
    fn finish(&mut self) -> Vec<(u64, Admission)> {
        let mut last: HashMap<u64, String> = HashMap::new();
        for (_, k, id) in &self.seen {
            last.insert(*k, id.clone());
        }
        self.seen
            .iter()
            .map(|(seq, k, id)| {
                let keeper = &last[k];
                if keeper == id {
                    (*seq, Admission::Keep)
                } else {
                    (
                        *seq,
                        Admission::Duplicate {
                            of: keeper.clone(),
                            similarity: 1.0,
                        },
                    )
                }
            })
            .collect()
    }
    fn encode_summary(&self, summary: &Summary) -> Option<Vec<u8>> {
        summary
            .downcast_ref::<u64>()
            .map(|k| k.to_le_bytes().to_vec())
    }
    fn decode_summary(&self, bytes: &[u8]) -> Option<Summary> {
        Some(Box::new(u64::from_le_bytes(bytes.try_into().ok()?)))
    }
    fn save_index(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut v: Vec<_> = self.first.iter().collect();
        v.sort();
        for (k, id) in v {
            writeln!(w, "{k}\t{id}")?;
        }
        Ok(())
    }
    fn load_index(&mut self, r: &mut dyn std::io::Read) -> std::io::Result<()> {
        let mut s = String::new();
        r.read_to_string(&mut s)?;
        for line in s.lines() {
            let (k, id) = line
                .split_once('\t')
                .ok_or_else(|| std::io::Error::other("bad index"))?;
            self.first
                .insert(k.parse().map_err(std::io::Error::other)?, id.to_string());
        }
        Ok(())
    }
    fn report(&self) -> serde_json::Value {
        serde_json::json!({"index": self.first.len()})
    }
}

/// Sentences for fixtures: `n` distinct stories from a seed (no real text needed).
pub fn story(seed: u64) -> String {
    const W: &[&str] = &[
        "council", "river", "budget", "school", "storm", "market", "minister", "harbour",
        "festival", "railway", "hospital", "election", "bridge", "farmers", "museum", "court",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for p in 0..3 {
        if p > 0 {
            out.push_str("\n\n");
        }
        for i in 0..25 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i > 0 {
                out.push(' ');
            }
            out.push_str(W[(x % W.len() as u64) as usize]);
        }
        out.push('.');
    }
    out
}
