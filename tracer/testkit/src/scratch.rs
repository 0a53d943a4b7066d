//! Scratch folders, removed with everything in them on drop (and, if an aborted run left
//! one, by the next run: see [`crate::ns`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{ns::clean_up_after_aborted_runs, unique_name};

/// A scratch directory `$TMPDIR/tracer-TAG-PID-N`, removed with everything in it on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn try_new(tag: &str) -> Result<TempDir> {
        clean_up_after_aborted_runs();
        let path = std::env::temp_dir().join(unique_name("tracer", tag));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("{}", path.display()))?;
        Ok(TempDir { path })
    }

    /// [`TempDir::try_new`], panicking.
    pub fn new(tag: &str) -> TempDir {
        TempDir::try_new(tag).unwrap_or_else(|e| panic!("scratch folder: {e:#}"))
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
