//! Library error types. `anyhow` is only used at the edge (`main`); the library says what
//! went wrong with which file, line or config key.

use std::path::PathBuf;

/// A configuration problem: reported before any document is read, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("bad config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("bad config value for `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid { key: key.into(), message: message.into() }
    }
}

/// Errors that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("input not found: {0}")]
    MissingInput(PathBuf),
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("internal accounting error: {0}")]
    Accounting(String),
    #[error("{0}")]
    Other(String),
}

impl RunError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RunError::Io { path: path.into(), source }
    }
}
