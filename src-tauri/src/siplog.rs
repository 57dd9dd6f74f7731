//! The SIP log view's memory: the latest messages of debug mode (secrets already redacted by
//! the engine), newest last, bounded so a long day in debug mode cannot eat the memory.

use serde::Serialize;
use std::collections::VecDeque;

/// Messages kept at most.
pub const CAPACITY: usize = 1000;

/// One message, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// `sent` or `received`.
    pub direction: &'static str,
    /// When, in milliseconds since 1970.
    pub at_ms: u64,
    /// The first line (request line or status line), for the list.
    pub summary: String,
    /// The whole message, redacted.
    pub text: String,
}

impl Line {
    /// The window's view of an engine trace.
    pub fn from_trace(trace: &webphone::SipTrace) -> Line {
        let summary = trace.text.lines().next().unwrap_or_default().trim().to_owned();
        Line { direction: if trace.sent { "sent" } else { "received" }, at_ms: trace.at_ms, summary, text: trace.text.clone() }
    }
}

/// The latest [`CAPACITY`] lines.
#[derive(Debug, Default)]
pub struct SipLog {
    lines: VecDeque<Line>,
}

impl SipLog {
    /// Adds a line, dropping the oldest when full.
    pub fn push(&mut self, line: Line) {
        if self.lines.len() == CAPACITY {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// The lines whose text contains `filter` (any case), oldest first; all when it is empty.
    pub fn matching(&self, filter: &str) -> Vec<Line> {
        let needle = filter.trim().to_lowercase();
        self.lines.iter().filter(|l| needle.is_empty() || l.text.to_lowercase().contains(&needle)).cloned().collect()
    }

    /// Forgets every line.
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(sent: bool, text: &str) -> webphone::SipTrace {
        webphone::SipTrace { sent, at_ms: 1, text: text.into() }
    }

    #[test]
    fn keeps_the_latest_lines_and_filters_them() {
        let mut log = SipLog::default();
        for i in 0..CAPACITY + 5 {
            log.push(Line::from_trace(&trace(i % 2 == 0, &format!("OPTIONS sip:{i}@d SIP/2.0\r\nCSeq: {i} OPTIONS\r\n\r\n"))));
        }
        let all = log.matching("");
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].summary, "OPTIONS sip:5@d SIP/2.0", "the oldest went first");
        assert_eq!(all[0].direction, "received");
        assert_eq!(log.matching("csEQ: 1004 ").len(), 1);
        assert!(log.matching("INVITE").is_empty());
        log.clear();
        assert!(log.matching("").is_empty());
    }
}
