//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same check
//! its fuzz target runs, so the corpora guard against regressions without libFuzzer.
//! `scripts/fuzz` runs the targets themselves.

use std::fs;
use std::path::PathBuf;

/// The files of one target's corpus, sorted by name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// Runs `check` on every file of `target`'s corpus and names the first that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let files = corpus(target);
    assert!(files.len() >= 8, "the {target} corpus looks truncated: {} files", files.len());
    for (name, bytes) in files {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "fuzz corpus file {target}/{name} fails the check");
    }
}

#[test]
fn message_corpus_passes_the_fuzz_check() {
    replay("message", rc_dialect::fuzzing::message);
}

#[test]
fn control_corpus_passes_the_fuzz_check() {
    replay("control", rc_dialect::fuzzing::control);
}

#[test]
fn sipinfo_corpus_passes_the_fuzz_check() {
    replay("sipinfo", rc_dialect::fuzzing::sipinfo);
}
