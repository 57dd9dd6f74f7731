//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same check
//! the fuzz target runs, so the corpus guards against regressions without libFuzzer.
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

#[test]
fn parse_corpus_passes_the_fuzz_check() {
    let files = corpus("parse");
    assert!(files.len() >= 20, "the parse corpus looks truncated: {} files", files.len());
    for (name, bytes) in files {
        let outcome = std::panic::catch_unwind(|| sip::fuzzing::parse(&bytes));
        assert!(outcome.is_ok(), "fuzz corpus file parse/{name} fails the check");
    }
}
