//! Shared parts of the benchmark: command-line flags of the workload processes, statistics,
//! and readings of a process tree's CPU time and memory from `/proc`.
//!
//! Each side of a workload (our engine in `bench-engine`, the seed SDK in
//! `bench/seed-bench.mjs`) is a process that prints JSON lines: `{"event":"ready"}`, for the
//! `load` workload `{"event":"window-start"}` and `{"event":"window-end"}` around the measured
//! window, and finally `{"event":"done", …results}` (or `{"event":"error","message":…}`).

pub mod procfs;
pub mod stats;

use std::collections::HashMap;

/// The flags a workload process takes (`--name value` pairs).
#[derive(Debug, Clone, Default)]
pub struct Flags(HashMap<String, String>);

impl Flags {
    /// Reads `--name value` pairs; a flag without a value is an error.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Flags, String> {
        let mut map = HashMap::new();
        let mut args = args.into_iter();
        while let Some(name) = args.next() {
            let name = name.strip_prefix("--").ok_or_else(|| format!("expected --flag, got {name:?}"))?.to_owned();
            let value = args.next().ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name, value);
        }
        Ok(Flags(map))
    }

    /// The value of `--name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `--name`, which must be given.
    pub fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("--{name} is required"))
    }

    /// `--name` as a number, or `default`.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        self.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{name} {v:?} is not a number")))
    }
}

/// Prints one JSON line on standard output.
pub fn emit(value: serde_json::Value) {
    println!("{value}");
}
