//! The saved dedup index (`--state` runs): a compact little-endian binary file.
//!
//! ```text
//! magic "PWDEDUPX" | version u32 | settings fingerprint u64 | bands u32
//! entries u32 | sketch values u32 | band keys u32 | bucket blocks u32 | exact hashes u32 | paragraphs u32
//! per entry: seq u64, shingles u32, chars u32, best f32, sketch_len u32, parent u32, published u8, id_len u32, id
//! sketch values (u32 each) | bucket blocks (8 × u32: previous block, 7 entries)
//! band keys (key u64, bucket handle u32) | exact hashes (hash u64, entry u32) | paragraphs (hash u64, count u32)
//! ```
//! Never any text but the ids. Every count and link is checked on load: a damaged file is an
//! error, never a panic or an unbounded allocation.

use std::io::{self, Read, Write};

use super::{Buckets, Chunked, Entry, Index, KeyMap};

const MAGIC: &[u8; 8] = b"PWDEDUPX";
/// 4: band keys from one-permutation MinHash (3: new word hashes; 2: buckets record their band).
const VERSION: u32 = 4;
/// Longest id accepted on load.
const MAX_ID: usize = 1 << 16;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("dedup index: {}", msg.into()),
    )
}

struct W<'a>(&'a mut dyn Write);

impl W<'_> {
    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.0.write_all(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.0.write_all(&v.to_le_bytes())
    }
}

struct R<'a>(&'a mut dyn Read);

impl R<'_> {
    fn arr<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.0.read_exact(&mut b).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad("file cut short")
            } else {
                e
            }
        })?;
        Ok(b)
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
}

fn len32(n: usize, what: &str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| bad(format!("too many {what} to save")))
}

/// Write `index` (built with `bands` bands and settings `fingerprint`).
pub(super) fn save(
    index: &Index,
    paragraphs: &KeyMap<u32>,
    bands: usize,
    fingerprint: u64,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut w = W(w);
    w.0.write_all(MAGIC)?;
    w.u32(VERSION)?;
    w.u64(fingerprint)?;
    w.u32(len32(bands, "bands")?)?;
    w.u32(len32(index.entries.len(), "documents")?)?;
    let n_sketch: usize = index.sizes.iter().map(|z| z.len as usize).sum();
    w.u32(len32(n_sketch, "sketch values")?)?;
    w.u32(len32(index.buckets.keys(), "band keys")?)?;
    let blocks: Vec<&[u32; 8]> = index.buckets.blocks().collect();
    w.u32(len32(blocks.len(), "bucket blocks")?)?;
    w.u32(len32(index.exact.len(), "text hashes")?)?;
    w.u32(len32(paragraphs.len(), "paragraphs")?)?;
    for (i, e) in index.entries.iter().enumerate() {
        w.u64(e.seq)?;
        w.u32(e.shingles)?;
        w.u32(e.chars)?;
        w.0.write_all(&e.best.to_le_bytes())?;
        w.u32(index.sizes[i].len)?;
        w.u32(index.parent[i])?;
        w.0.write_all(&[e.published as u8])?;
        w.u32(len32(e.id.len(), "id bytes")?)?;
        w.0.write_all(e.id.as_bytes())?;
    }
    // Every sketch whole, in document order (the index keeps its first values apart).
    let mut buf = Vec::with_capacity(1 << 16);
    for i in 0..index.entries.len() as u32 {
        for part in [index.prefix(i), index.tail(i)] {
            part.iter()
                .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
        }
        if buf.len() >= 1 << 15 {
            w.0.write_all(&buf)?;
            buf.clear();
        }
    }
    w.0.write_all(&buf)?;
    for part in blocks.chunks(1 << 10) {
        buf.clear();
        part.iter()
            .flat_map(|b| b.iter())
            .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
        w.0.write_all(&buf)?;
    }
    // Hash maps in key order, so that the same index always gives the same bytes.
    let heads: Vec<(u64, u32)> = index.buckets.handles().collect();
    let pairs_of = |m: &KeyMap<u32>| m.iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>();
    for mut pairs in [heads, pairs_of(&index.exact), pairs_of(paragraphs)] {
        pairs.sort_unstable();
        for (k, v) in pairs {
            w.u64(k)?;
            w.u32(v)?;
        }
    }
    w.0.flush()
}

/// Read an index saved by [`save`] into the (empty) `index` and `paragraphs`.
pub(super) fn load(
    index: &mut Index,
    paragraphs: &mut KeyMap<u32>,
    bands: usize,
    fingerprint: u64,
    r: &mut dyn Read,
) -> io::Result<()> {
    let mut r = R(r);
    if &r.arr::<8>()? != MAGIC {
        return Err(bad("not a presswash dedup index"));
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(bad(format!(
            "format version {version}, this presswash reads {VERSION}: start a new state directory (or finish with the presswash that wrote it)"
        )));
    }
    if r.u64()? != fingerprint || r.u32()? as usize != bands {
        return Err(bad("built with other [stages.dedup] settings (shingles, hashes, bands, sketch size or line filter); start a new state directory"));
    }
    let n = r.u32()? as usize;
    let n_sketch = r.u32()? as usize;
    let n_heads = r.u32()? as usize;
    let n_blocks = r.u32()? as usize;
    let n_exact = r.u32()? as usize;
    let n_par = r.u32()? as usize;
    // Grow as data arrives, never trusting a count for one big allocation.
    let cap = |x: usize| x.min(1 << 16);
    let mut entries = Chunked::new();
    let mut lens: Vec<u32> = Vec::with_capacity(cap(n));
    let mut parent = Chunked::new();
    let mut at = 0u64;
    for _ in 0..n {
        let seq = r.u64()?;
        let shingles = r.u32()?;
        let chars = r.u32()?;
        let best = f32::from_le_bytes(r.arr()?);
        let sketch_len = r.u32()?;
        let p = r.u32()?;
        let published = match r.arr::<1>()?[0] {
            0 => false,
            1 => true,
            _ => return Err(bad("bad flag")),
        };
        let id_len = r.u32()? as usize;
        if id_len > MAX_ID {
            return Err(bad("id too long"));
        }
        let mut id = vec![0u8; id_len];
        r.0.read_exact(&mut id)?;
        let id = String::from_utf8(id).map_err(|_| bad("id not UTF-8"))?;
        // Union-find links point to earlier documents (or to themselves): no cycles.
        if p as usize > entries.len() {
            return Err(bad("cluster link out of range"));
        }
        at += sketch_len as u64;
        lens.push(sketch_len);
        entries.push(Entry {
            id: id.into_boxed_str(),
            seq,
            shingles,
            chars,
            best,
            published,
        });
        parent.push(p);
    }
    if at != n_sketch as u64 {
        return Err(bad("sketch lengths do not add up"));
    }
    let mut sketches = Index::default();
    let mut sketch = Vec::new();
    for (e, &len) in entries.iter().zip(&lens) {
        sketch.clear();
        for _ in 0..len {
            sketch.push(r.u32()?);
        }
        sketches.push_sketch(&sketch, e.shingles);
    }
    let mut blocks = Chunked::new();
    for _ in 0..n_blocks {
        let mut b = [0u32; 8];
        for v in b.iter_mut() {
            *v = r.u32()?;
        }
        blocks.push(b);
    }
    let mut read_pairs =
        |count: usize, check: bool, put: &mut dyn FnMut(u64, u32)| -> io::Result<()> {
            for _ in 0..count {
                let k = r.u64()?;
                let v = r.u32()?;
                if check && v as usize >= n {
                    return Err(bad("document number out of range"));
                }
                put(k, v);
            }
            Ok(())
        };
    let mut handles = Vec::with_capacity(cap(n_heads));
    read_pairs(n_heads, false, &mut |k, v| handles.push((k, v)))?;
    let buckets = Buckets::from_parts(blocks, &handles, n as u32).map_err(bad)?;
    drop(handles);
    let (mut exact, mut pars) = (KeyMap::default(), KeyMap::default());
    exact.reserve(cap(n_exact));
    read_pairs(n_exact, true, &mut |k, v| {
        exact.insert(k, v);
    })?;
    read_pairs(n_par, false, &mut |k, v| {
        pars.insert(k, v);
    })?;
    // Nothing may follow.
    if r.0.read(&mut [0u8; 1])? != 0 {
        return Err(bad("trailing bytes"));
    }
    index.entries = entries;
    index.parent = parent;
    index.prefixes = sketches.prefixes;
    index.sizes = sketches.sizes;
    index.sketches = sketches.sketches;
    index.buckets = buckets;
    index.exact = exact;
    index.loaded = n as u32;
    *paragraphs = pars;
    Ok(())
}
