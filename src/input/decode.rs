//! Byte decoding: BOM, UTF-8, detection (placeholder; replaced by the full decoder).

/// Decoded text and the encoding it was decoded from (WHATWG name).
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// Why bytes could not be turned into text.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("binary data: {0}")]
    Binary(String),
    #[error("undecodable: {0}")]
    Undecodable(String),
}

/// Decode a whole document's bytes.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(Decoded { text: text.into_owned(), encoding: enc.name() });
    }
    if memchr::memchr(0, bytes).is_some() {
        return Err(DecodeError::Binary("NUL bytes".into()));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Decoded { text: s.to_string(), encoding: "UTF-8" });
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let enc = det.guess(None, true);
    let (text, _, _) = enc.decode(bytes);
    Ok(Decoded { text: text.into_owned(), encoding: enc.name() })
}

/// Decode an HTML page (meta charset honoured by the full decoder).
pub fn decode_html(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode(bytes)
}
