//! Library error types. `anyhow` is only used at the edge (`main`); the library says what
//! went wrong with which file, line or config key.

use std::path::PathBuf;

/// A configuration problem: reported before any document is read, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // (The I/O errors are fields, not `source`s: the message already says them, and a
    // source would be printed a second time by the `{:#}` of `main`.)
    #[error("cannot read config {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("bad config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("bad config value for `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Errors that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("input not found: {0}")]
    MissingInput(PathBuf),
    #[error("I/O error on {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("internal accounting error: {0}")]
    Accounting(String),
    #[error("{0}")]
    Other(String),
}

impl RunError {
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        RunError::Io {
            path: path.into(),
            error,
        }
    }
}
