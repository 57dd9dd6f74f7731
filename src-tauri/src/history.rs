//! Call history kept on disk: who, when, which way, how long, how it ended.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Entries kept at most (the oldest go first).
const CAPACITY: usize = 500;

/// How a call ended, from the user's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Talked.
    Answered,
    /// Rang in and nobody answered here.
    Missed,
    /// Rang in and was declined, sent to voicemail, forwarded or replied to.
    Declined,
    /// Our call was not answered (cancelled or refused).
    Unanswered,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The other party's number.
    pub number: String,
    /// Their name, if known.
    pub name: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// When it started (seconds since 1970).
    pub started_at: u64,
    /// Seconds of conversation.
    pub duration_secs: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Our call into a conference we hosted: shown as "Conference", never by its number (a
    /// one-time token of the conference, of no use to call back).
    #[serde(default)]
    pub conference: bool,
}

/// How RingCentral's conference tokens (`voiceCallToken`) begin. Only for entries written
/// before [`Entry::conference`] existed: new entries carry the flag.
const CONFERENCE_TOKEN_PREFIX: &str = "conf_";

impl Entry {
    /// An entry read from a file written before [`Entry::conference`] existed, flagged when
    /// its number is a conference token.
    fn upgraded(self) -> Entry {
        let conference = self.conference || self.number.starts_with(CONFERENCE_TOKEN_PREFIX);
        Entry { conference, ..self }
    }
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be read or written.
    #[error("call history {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The history file and its entries, newest first.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl History {
    /// Loads `path`; a missing file is an empty history. A file that cannot be read as a
    /// history is kept beside it as `….damaged-…` (nothing is lost) and the history starts empty;
    /// the returned message says so.
    pub fn load(path: &Path) -> (History, Option<String>) {
        let empty = || History { path: path.to_owned(), entries: Vec::new() };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (empty(), None),
            Err(e) => return (empty(), Some(format!("call history {} could not be read: {e}", path.display()))),
        };
        match serde_json::from_str::<Vec<Entry>>(&text) {
            Ok(entries) => (History { path: path.to_owned(), entries: entries.into_iter().map(Entry::upgraded).collect() }, None),
            Err(e) => {
                let note = match crate::files::keep_aside(path) {
                    Ok(aside) => format!("; the old file is kept as {}", aside.display()),
                    Err(_) => String::new(),
                };
                (empty(), Some(format!("call history {} is damaged ({e}){note}", path.display())))
            }
        }
    }

    /// The entries, newest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds an entry and writes the file (atomically and readable by the user only, see
    /// [`crate::files::write_private`]: a crash never leaves half a history).
    pub fn add(&mut self, entry: Entry) -> Result<(), HistoryError> {
        self.entries.insert(0, entry);
        self.entries.truncate(CAPACITY);
        self.save()
    }

    fn save(&self) -> Result<(), HistoryError> {
        let io = |source| HistoryError::Io { path: self.path.display().to_string(), source };
        let text = serde_json::to_string_pretty(&self.entries).expect("entries serialise");
        crate::files::write_private(&self.path, text.as_bytes()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> Entry {
        Entry { number: format!("60{n}"), name: None, direction: "outbound".into(), started_at: n, duration_secs: 3, outcome: Outcome::Answered, conference: false }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("softphone-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn entries_survive_a_restart_newest_first_and_capped() {
        let path = dir("roundtrip").join("history.json");
        let (mut h, warning) = History::load(&path);
        assert!(warning.is_none() && h.entries().is_empty());
        for n in 0..(CAPACITY as u64 + 5) {
            h.add(entry(n)).unwrap();
        }
        let (again, _) = History::load(&path);
        assert_eq!(again.entries().len(), CAPACITY);
        assert_eq!(again.entries()[0], entry(CAPACITY as u64 + 4));
    }

    #[test]
    fn a_conference_is_flagged_also_in_a_history_written_before_the_flag() {
        let d = dir("conference");
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("history.json");
        let old = r#"[{"number":"conf_8f2a1c","name":null,"direction":"outbound","startedAt":5,"durationSecs":9,"outcome":"answered"},
                      {"number":"600","name":null,"direction":"outbound","startedAt":4,"durationSecs":3,"outcome":"answered"}]"#;
        std::fs::write(&path, old).unwrap();
        let (h, warning) = History::load(&path);
        assert!(warning.is_none(), "{warning:?}");
        assert_eq!(h.entries().iter().map(|e| e.conference).collect::<Vec<_>>(), [true, false]);
        let json = serde_json::to_value(&h.entries()[0]).unwrap();
        assert_eq!(json["conference"], true, "the window reads the flag");
    }

    #[test]
    fn a_damaged_file_is_kept_aside_not_lost() {
        let d = dir("damaged");
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("history.json");
        std::fs::write(&path, "{ not json").unwrap();
        let (h, warning) = History::load(&path);
        assert!(h.entries().is_empty());
        let warning = warning.unwrap();
        assert!(warning.contains("damaged") && warning.contains("kept as"), "{warning}");
        let aside = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().contains("history.json.damaged-")).expect("kept aside");
        assert_eq!(std::fs::read_to_string(aside).unwrap(), "{ not json");
    }
}
