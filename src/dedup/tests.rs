//! Cross-document tests of the dedup stage.
