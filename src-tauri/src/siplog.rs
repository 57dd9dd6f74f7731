//! The SIP log view's memory: the latest messages of debug mode (secrets already redacted by
//! the engine), newest last, bounded so a long day in debug mode cannot eat the memory.

use serde::Serialize;
use std::collections::VecDeque;

/// Messages kept at most.
pub const CAPACITY: usize = 1000;

/// Bytes of message text kept at most (a few hundred ordinary messages fit many times over;
/// a server sending 256 KiB messages cannot make the log hold 256 MiB).
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The longest message kept whole; a longer one keeps its start and says how much was cut.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

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
        let summary: String = trace.text.lines().next().unwrap_or_default().trim().chars().take(200).collect();
        Line { direction: if trace.sent { "sent" } else { "received" }, at_ms: trace.at_ms, summary, text: cut(&trace.text) }
    }

    fn size(&self) -> usize {
        self.text.len() + self.summary.len()
    }
}

/// `text` whole when it is at most [`MAX_LINE_BYTES`], else its start and a note.
fn cut(text: &str) -> String {
    if text.len() <= MAX_LINE_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_LINE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[… {} more bytes not kept]", &text[..end], text.len() - end)
}

/// The latest lines: at most [`CAPACITY`] of them and [`MAX_BYTES`] of text.
#[derive(Debug, Default)]
pub struct SipLog {
    lines: VecDeque<Line>,
    bytes: usize,
}

impl SipLog {
    /// Adds a line, dropping the oldest ones while the log is over either bound.
    pub fn push(&mut self, line: Line) {
        self.bytes += line.size();
        self.lines.push_back(line);
        while self.lines.len() > CAPACITY || self.bytes > MAX_BYTES {
            let Some(old) = self.lines.pop_front() else { break };
            self.bytes -= old.size();
        }
    }

    /// The lines whose text contains `filter` (any case), oldest first; all when it is empty.
    pub fn matching(&self, filter: &str) -> Vec<Line> {
        let needle = filter.trim().to_lowercase();
        self.lines.iter().filter(|l| needle.is_empty() || l.text.to_lowercase().contains(&needle)).cloned().collect()
    }

    /// Forgets every line.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
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

    #[test]
    fn huge_messages_are_cut_and_the_log_stays_within_its_bytes() {
        let mut log = SipLog::default();
        let big = format!("MESSAGE sip:a@b SIP/2.0\r\nX-Pad: {}\r\n\r\n", "é".repeat(150_000));
        for _ in 0..1000 {
            log.push(Line::from_trace(&trace(false, &big)));
        }
        let all = log.matching("");
        let bytes: usize = all.iter().map(|l| l.text.len() + l.summary.len()).sum();
        assert!(bytes <= MAX_BYTES && !all.is_empty(), "{bytes} bytes in {} lines", all.len());
        assert!(all[0].text.len() < MAX_LINE_BYTES + 64 && all[0].text.ends_with("more bytes not kept]"), "{}", &all[0].text[all[0].text.len() - 40..]);
        assert!(all[0].summary.chars().count() <= 200);
    }
}
