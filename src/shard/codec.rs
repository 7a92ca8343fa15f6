//! Binary records of the shard parts: documents between the stages before dedup and the
//! stages after it, rejects, summaries and verdicts. Length-prefixed little-endian fields;
//! a reader never panics on a damaged file, it reports it.

use std::borrow::Cow;
use std::io::{self, Read};

use crate::dedup::Admission;
use crate::document::{Count, DocLog, Document, Format, Reject, Removal};
use crate::input::RejectRecord;

/// Appends fields to a buffer.
pub struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads fields from a stream; `Ok(None)` from [`Dec::tag`] at a clean end of file.
pub struct Dec<R: Read> {
    pub r: R,
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("damaged shard record: {what}"),
    )
}

impl<R: Read> Dec<R> {
    pub fn tag(&mut self) -> io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        match self.r.read(&mut b)? {
            0 => Ok(None),
            _ => Ok(Some(b[0])),
        }
    }
    pub fn u8(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }
    pub fn u64(&mut self) -> io::Result<u64> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    pub fn f64(&mut self) -> io::Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u64()?;
        self.bytes_of_len(n)
    }
    /// The `n` bytes of a field whose length was read.
    fn bytes_of_len(&mut self, n: u64) -> io::Result<Vec<u8>> {
        if n > 1 << 36 {
            return Err(damaged("length out of range"));
        }
        // A long field (a text) is read into spare capacity: zero-filling it first cost as
        // much as the read. A short one (a name, an id) is zero-filled and read exactly:
        // `read_to_end` probes such a small buffer through a copy of its own.
        let mut v = Vec::with_capacity(n as usize);
        if n <= 256 {
            v.resize(n as usize, 0);
            match self.r.read_exact(&mut v) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => v.clear(),
                r => r?,
            }
        } else {
            (&mut self.r).take(n).read_to_end(&mut v)?;
        }
        if v.len() as u64 != n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "damaged shard record: truncated",
            ));
        }
        Ok(v)
    }
    /// A name (stage, rule, encoding) as its interned `&'static str`: a short one is read
    /// into a stack buffer, so the records of the second pass (a dozen names each) cost no
    /// allocation per name.
    pub fn name(&mut self) -> io::Result<&'static str> {
        let n = self.u64()?;
        let (mut small, long);
        let b: &[u8] = if n <= 64 {
            small = [0u8; 64];
            let b = &mut small[..n as usize];
            self.r.read_exact(b)?;
            b
        } else {
            long = self.bytes_of_len(n)?;
            &long
        };
        std::str::from_utf8(b)
            .map(intern)
            .map_err(|_| damaged("not UTF-8"))
    }
    pub fn string(&mut self) -> io::Result<String> {
        let v = self.bytes()?;
        // Why simdutf8: the second pass reads every kept text back; the standard library's
        // check was a tenth of its time.
        if simdutf8::basic::from_utf8(&v).is_err() {
            return Err(damaged("not UTF-8"));
        }
        // SAFETY: just checked to be UTF-8.
        Ok(unsafe { String::from_utf8_unchecked(v) })
    }
}

pub use crate::document::intern;

fn format_code(f: Format) -> u8 {
    match f {
        Format::Text => 0,
        Format::Html => 1,
        Format::Jsonl => 2,
        Format::Csv => 3,
    }
}

fn format_of(c: u8) -> Format {
    match c {
        1 => Format::Html,
        2 => Format::Jsonl,
        3 => Format::Csv,
        _ => Format::Text,
    }
}

/// Every field of a document, so the stages after dedup see exactly what they would have.
pub fn put_doc(e: &mut Enc, d: &Document) {
    e.u64(d.seq);
    e.str(&d.id);
    e.str(&d.source);
    e.str(&d.input);
    e.u8(format_code(d.format));
    match &d.title {
        Some(t) => {
            e.u8(1);
            e.str(t);
        }
        None => e.u8(0),
    }
    e.str(&d.text);
    e.str(d.encoding);
    let meta = if d.meta.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&d.meta).unwrap_or_default()
    };
    e.bytes(&meta);
    e.u64(d.fields.len() as u64);
    for (k, v) in &d.fields {
        e.str(k);
        e.str(v);
    }
    e.u64(d.chars_in as u64);
    e.u8(d.log.audit as u8);
    e.u64(d.log.counts.len() as u64);
    for c in &d.log.counts {
        e.str(c.stage);
        e.str(&c.rule);
        e.u64(c.n);
    }
    e.u64(d.log.removals.len() as u64);
    for r in &d.log.removals {
        e.str(r.stage);
        e.str(&r.rule);
        e.u64(r.line as u64);
        e.str(&r.text);
    }
}

pub fn get_doc<R: Read>(d: &mut Dec<R>) -> io::Result<Document> {
    let seq = d.u64()?;
    let id = d.string()?;
    let source = d.string()?;
    let input = d.string()?;
    let format = format_of(d.u8()?);
    let title = if d.u8()? == 1 {
        Some(d.string()?)
    } else {
        None
    };
    let text = d.string()?;
    let encoding = d.name()?;
    let meta_bytes = d.bytes()?;
    let meta = if meta_bytes.is_empty() {
        serde_json::Map::new()
    } else {
        serde_json::from_slice(&meta_bytes).map_err(|_| damaged("metadata"))?
    };
    let mut fields = std::collections::BTreeMap::new();
    for _ in 0..d.u64()? {
        let k = d.string()?;
        fields.insert(k, d.string()?);
    }
    let chars_in = d.u64()? as usize;
    let audit = d.u8()? == 1;
    let mut log = DocLog {
        audit,
        ..Default::default()
    };
    for _ in 0..d.u64()? {
        let stage = d.name()?;
        let rule = Cow::Borrowed(d.name()?);
        let n = d.u64()?;
        log.counts.push(Count { stage, rule, n });
    }
    for _ in 0..d.u64()? {
        let stage = d.name()?;
        let rule = Cow::Borrowed(d.name()?);
        let line = d.u64()? as usize;
        let text = d.string()?;
        log.removals.push(Removal {
            stage,
            rule,
            line,
            text,
        });
    }
    Ok(Document {
        seq,
        id,
        source,
        input,
        format,
        title,
        text,
        encoding,
        meta,
        fields,
        chars_in,
        log,
    })
}

pub fn put_reject(e: &mut Enc, r: &RejectRecord) {
    e.u64(r.seq);
    e.str(&r.id);
    e.str(&r.source);
    e.str(&r.reject.reason);
    e.str(&r.reject.detail);
}

pub fn get_reject<R: Read>(d: &mut Dec<R>) -> io::Result<RejectRecord> {
    let seq = d.u64()?;
    let id = d.string()?;
    let source = d.string()?;
    let reason = d.string()?;
    let detail = d.string()?;
    Ok(RejectRecord {
        seq,
        id,
        source,
        reject: Reject::new(reason, detail),
    })
}

pub fn put_admission(e: &mut Enc, a: &Admission) {
    match a {
        Admission::Keep => e.u8(0),
        Admission::Duplicate { of, similarity } => {
            e.u8(1);
            e.str(of);
            e.f64(*similarity);
        }
        Admission::Deferred => e.u8(2),
        Admission::Outranked => e.u8(3),
    }
}

pub fn get_admission<R: Read>(d: &mut Dec<R>) -> io::Result<Admission> {
    Ok(match d.u8()? {
        0 => Admission::Keep,
        1 => {
            let of = d.string()?;
            Admission::Duplicate {
                of,
                similarity: d.f64()?,
            }
        }
        2 => Admission::Deferred,
        3 => Admission::Outranked,
        _ => return Err(damaged("verdict")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_round_trips_every_field() {
        let mut doc = Document::new(
            7 << 40 | 3,
            "a/b".into(),
            "a.jsonl:4".into(),
            Format::Jsonl,
            "Über\n\nzwei".into(),
        );
        doc.title = Some("T".into());
        doc.encoding = "windows-1252";
        doc.source = "site.example".into();
        doc.meta.insert("z".into(), serde_json::json!(1));
        doc.meta
            .insert("a".into(), serde_json::json!({"k": [1, 2]}));
        doc.fields.insert("byline".into(), "By X".into());
        doc.log.audit = true;
        doc.log.removed("boilerplate", "menu", 2, "Home | News");
        doc.log.count("repair", "entity", 3);
        let mut buf = Vec::new();
        put_doc(&mut Enc(&mut buf), &doc);
        let back = get_doc(&mut Dec { r: &buf[..] }).unwrap();
        assert_eq!(
            crate::output::serialize_kept(&back),
            crate::output::serialize_kept(&doc)
        );
        assert_eq!(back.seq, doc.seq);
        assert_eq!(back.log.counts, doc.log.counts);
        assert_eq!(back.log.removals, doc.log.removals);
        assert_eq!(back.encoding, "windows-1252");
        assert_eq!(back.meta.keys().collect::<Vec<_>>(), vec!["z", "a"]);
    }

    #[test]
    fn names_of_any_length_round_trip_and_bad_bytes_are_errors() {
        let long = "r".repeat(100);
        for name in ["", "dedup", long.as_str()] {
            let mut buf = Vec::new();
            Enc(&mut buf).str(name);
            let back = Dec { r: &buf[..] }.name().unwrap();
            assert_eq!(back, name);
            assert!(std::ptr::eq(back, intern(name)));
        }
        let mut buf = Vec::new();
        Enc(&mut buf).bytes(&[0xff, 0xfe]);
        assert!(Dec { r: &buf[..] }.name().is_err());
        assert!(Dec { r: &buf[..3] }.name().is_err());
    }

    #[test]
    fn truncated_record_is_an_error_not_a_panic() {
        let doc = Document::new(1, "x".into(), "x".into(), Format::Text, "text".into());
        let mut buf = Vec::new();
        put_doc(&mut Enc(&mut buf), &doc);
        for cut in [1, 9, buf.len() - 1] {
            assert!(get_doc(&mut Dec { r: &buf[..cut] }).is_err());
        }
    }

    #[test]
    fn admissions_round_trip() {
        for a in [
            Admission::Keep,
            Admission::Deferred,
            Admission::Outranked,
            Admission::Duplicate {
                of: "d1".into(),
                similarity: 0.875,
            },
        ] {
            let mut buf = Vec::new();
            put_admission(&mut Enc(&mut buf), &a);
            assert_eq!(get_admission(&mut Dec { r: &buf[..] }).unwrap(), a);
        }
    }
}
