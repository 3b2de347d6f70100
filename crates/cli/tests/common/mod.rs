//! Helpers the CLI's integration tests share.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (where `quarry.toml`, `examples/` and `rules/` are).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An empty scratch directory of this name under the target's temporary directory.
pub fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs quarry from the repository root with no standard input, and fails the test with its
/// stderr unless it exits 0.
pub fn quarry_ok(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "quarry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
