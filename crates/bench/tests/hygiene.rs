//! Test hygiene (issue 18): no test sleeps to synchronise, and no test asserts an upper bound
//! on wall-clock time. A sleep-then-check passes or fails with the machine's load, and so does
//! "it took less than N ms"; tests wait on events with a deadline instead, drive time with a
//! fake or paused clock, or assert what the code under test reports (its scheduled back-off,
//! its reason for giving up, counts and order).
//!
//! This scans the repository's test code: every `.rs` file under `crates/*/tests/`,
//! `packaging/*/tests/` and `src-tauri/tests/`, and the `#[cfg(test)]` modules in the sources
//! of `crates/*`, `packaging/*` and `src-tauri` (inline, or the files they name). It finds
//!
//! - **sleeps**: `sleep(`, `sleep_until(`, `sleep_ms(` in code (comments are skipped);
//! - **upper bounds on measured time**: an `assert!` whose condition compares a measured
//!   duration (`….elapsed()`, `duration_since(`, or a `let` bound to one of these in the same
//!   file) as less than something (`took < …`, `…elapsed() <= …`, `LIMIT > t.elapsed()`).
//!   Lower bounds ("the retry waited at least its back-off") are fine: the machine can only
//!   make them longer.
//!
//! Whatever it finds must be in `hygiene-allow.txt` next to this file: the file, a snippet of
//! the line (not its number, so that edits around it do not break the list) and why it is
//! legitimate. The legitimate kinds are few: the one poll interval (`common/poll.rs`, for
//! conditions with no event to wait on), pacing real-time audio, and letting real-time media
//! flow for as long as the test is about. An entry that no longer matches anything fails too,
//! so the list cannot outlive its reasons.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sleep,
    UpperBound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    /// Path from the repository's root, with `/`.
    file: String,
    /// 1-based.
    line: usize,
    kind: Kind,
    text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::Sleep => "sleep",
            Kind::UpperBound => "upper bound on wall-clock time",
        };
        write!(f, "{}:{}: {what}: {}", self.file, self.line, self.text.trim())
    }
}

/// One entry of the allow-list.
#[derive(Debug)]
struct Allowed {
    file: String,
    code: String,
    why: String,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository")
}

// ---------------------------------------------------------------- which code is test code

/// A line of a source: its number (1-based), its text, and its code alone (string and char
/// literals emptied to `""` and `' '`, comments gone).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    n: usize,
    text: String,
    code: String,
}

/// The test code of the repository as (relative path, lines).
fn test_sources(root: &Path) -> Vec<(String, Vec<Line>)> {
    let mut out = Vec::new();
    let mut parents = Vec::new();
    for group in ["crates", "packaging"] {
        let Ok(dir) = std::fs::read_dir(root.join(group)) else { continue };
        let mut members: Vec<PathBuf> = dir.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        members.sort();
        parents.extend(members);
    }
    parents.push(root.join("src-tauri"));
    for member in parents {
        for file in rust_files(&member.join("tests")) {
            out.push((relative(root, &file), read_lines(&file)));
        }
        for file in rust_files(&member.join("src")) {
            let (inline, children) = test_modules(&file);
            if !inline.is_empty() {
                out.push((relative(root, &file), inline));
            }
            for child in children {
                out.push((relative(root, &child), read_lines(&child)));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Every `.rs` file under `dir`, sorted (none when it does not exist).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).unwrap_or(file).to_string_lossy().replace('\\', "/")
}

fn read_lines(file: &Path) -> Vec<Line> {
    lines_of(&std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
}

fn lines_of(text: &str) -> Vec<Line> {
    text.lines().zip(code_lines(text)).enumerate().map(|(i, (t, c))| Line { n: i + 1, text: t.to_owned(), code: c }).collect()
}

/// `text`'s lines with string, raw string and char literals emptied and comments removed,
/// one entry per line of `text`.
fn code_lines(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    // Skips to the end of a literal, keeping its line breaks; returns the index after it.
    let newlines = |from: usize, to: usize, line: &mut String, lines: &mut Vec<String>| {
        for &ch in &c[from..to] {
            if ch == '\n' {
                lines.push(std::mem::take(line));
            }
        }
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            lines.push(std::mem::take(&mut line));
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < c.len() && depth > 0 {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            newlines(i, j.min(c.len()), &mut line, &mut lines);
            i = j;
        } else if (ch == 'r' || (ch == 'b' && next == Some('r'))) && (i == 0 || !ident(c[i - 1])) && {
            let k = if ch == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            c.get(k + hashes) == Some(&'"')
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let k = if ch == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            let mut j = k + hashes + 1;
            while j < c.len() && !(c[j] == '"' && c[j + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(c.len());
            newlines(i, end, &mut line, &mut lines);
            line.push_str("\"\"");
            i = end;
        } else if ch == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(c.len());
            newlines(i, end, &mut line, &mut lines);
            line.push_str("\"\"");
            i = end;
        } else if ch == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A char literal ('{', '\n', '\''), not a lifetime ('a).
            let mut j = i + 1;
            while j < c.len() && c[j] != '\'' && c[j] != '\n' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            line.push_str("' '");
            i = (j + 1).min(c.len());
        } else {
            line.push(ch);
            i += 1;
        }
    }
    if !line.is_empty() || !text.ends_with('\n') {
        lines.push(line);
    }
    lines.resize(text.lines().count(), String::new());
    lines
}

/// The lines of `file`'s inline `#[cfg(test)] mod … { … }` blocks, and the files of its
/// out-of-line `#[cfg(test)] mod name;` declarations.
fn test_modules(file: &Path) -> (Vec<Line>, Vec<PathBuf>) {
    let lines = read_lines(file);
    let (inline, names) = cfg_test_blocks(&lines);
    let stem = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let dir = file.parent().unwrap_or(Path::new("."));
    let base = if matches!(stem.as_str(), "mod" | "lib" | "main") { dir.to_path_buf() } else { dir.join(&stem) };
    let children = names
        .into_iter()
        .filter_map(|n| [base.join(format!("{n}.rs")), base.join(&n).join("mod.rs")].into_iter().find(|p| p.is_file()))
        .collect();
    (inline, children)
}

/// The lines inside inline `#[cfg(test)]` modules, and the names of out-of-line ones.
fn cfg_test_blocks(lines: &[Line]) -> (Vec<Line>, Vec<String>) {
    let mut inline = Vec::new();
    let mut names = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].code.trim();
        if !line.starts_with("#[cfg(test)]") {
            i += 1;
            continue;
        }
        // The item: the rest of this line, or the next line that is not an attribute.
        let rest = line.trim_start_matches("#[cfg(test)]").trim();
        let mut j = i;
        if rest.is_empty() {
            j += 1;
            while j < lines.len() && lines[j].code.trim().starts_with("#[") {
                j += 1;
            }
        }
        let item = if rest.is_empty() { lines.get(j).map(|l| l.code.trim()).unwrap_or("") } else { rest };
        let after_mod = ["mod ", "pub mod ", "pub(crate) mod ", "pub(super) mod "].iter().find_map(|p| item.strip_prefix(p));
        let Some(after_mod) = after_mod else {
            i = j.max(i + 1);
            continue;
        };
        if let Some(name) = after_mod.strip_suffix(';') {
            names.push(name.trim().to_owned());
            i = j + 1;
            continue;
        }
        // An inline module: to its closing brace.
        let (mut depth, mut opened, mut k) = (0i32, false, j);
        while k < lines.len() {
            inline.push(lines[k].clone());
            for ch in lines[k].code.chars() {
                match ch {
                    '{' => (depth, opened) = (depth + 1, true),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            k += 1;
            if opened && depth <= 0 {
                break;
            }
        }
        i = k;
    }
    (inline, names)
}

// ---------------------------------------------------------------- what is looked for

/// The sleeps in `lines`.
fn sleeps(file: &str, lines: &[Line]) -> Vec<Finding> {
    lines
        .iter()
        .filter(|l| ["sleep(", "sleep_until(", "sleep_ms("].iter().any(|p| l.code.contains(p)))
        .map(|l| Finding { file: file.to_owned(), line: l.n, kind: Kind::Sleep, text: l.text.clone() })
        .collect()
}

/// The `assert!`s in `lines` that bound measured time from above.
fn upper_bounds(file: &str, lines: &[Line]) -> Vec<Finding> {
    let measured = measured_names(lines);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(at) = assert_start(&lines[i].code) else {
            i += 1;
            continue;
        };
        // The whole macro call, over as many lines as it takes.
        let mut call = lines[i].code[at..].to_owned();
        let mut j = i;
        while paren_depth(&call) > 0 && j + 1 < lines.len() {
            j += 1;
            call.push(' ');
            call.push_str(&lines[j].code);
        }
        if bounds_from_above(&first_argument(&call), &measured) {
            out.push(Finding { file: file.to_owned(), line: lines[i].n, kind: Kind::UpperBound, text: lines[i].text.clone() });
        }
        i = j + 1;
    }
    out
}

/// Where an `assert!(` (also `debug_assert!(`, not `assert_eq!`) starts in `code`.
fn assert_start(code: &str) -> Option<usize> {
    let at = code.find("assert!(")?;
    code[..at].chars().last().is_none_or(|c| !c.is_alphanumeric()).then_some(at)
}

fn paren_depth(s: &str) -> i32 {
    s.chars()
        .map(|c| match c {
            '(' | '[' | '{' => 1,
            ')' | ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

/// The condition of `assert!(cond, …)`.
fn first_argument(call: &str) -> String {
    let inner = &call[call.find('(').map(|i| i + 1).unwrap_or(0)..];
    let mut depth = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return inner[..i].to_owned(),
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return inner[..i].to_owned(),
            _ => {}
        }
    }
    inner.to_owned()
}

/// Names bound to a measured duration: `let took = t0.elapsed();`.
fn measured_names(lines: &[Line]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in lines {
        let Some(rest) = l.code.trim().strip_prefix("let ") else { continue };
        let Some((name, value)) = rest.split_once('=') else { continue };
        let name = name.trim().trim_start_matches("mut ").split(':').next().unwrap_or("").trim();
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') && is_measurement(value) {
            out.insert(name.to_owned());
        }
    }
    out
}

fn is_measurement(expr: &str) -> bool {
    expr.contains(".elapsed()") || expr.contains("duration_since(")
}

/// True when `cond` says a measured duration is less than something.
fn bounds_from_above(cond: &str, measured: &BTreeSet<String>) -> bool {
    let timed = |side: &str| is_measurement(side) || words(side).any(|w| measured.contains(w));
    comparisons(cond).into_iter().any(|(left, op, right)| match op {
        "<" | "<=" => timed(&left),
        _ => timed(&right),
    })
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The comparisons at the top level of `cond`'s clauses (split at `&&` and `||`), as
/// (left, op, right).
fn comparisons(cond: &str) -> Vec<(String, &'static str, String)> {
    let mut out = Vec::new();
    for clause in split_top(cond) {
        let b = clause.as_bytes();
        let mut depth = 0;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b'<' | b'>' if depth == 0 => {
                    let prev = if i > 0 { b[i - 1] } else { b' ' };
                    let next = b.get(i + 1).copied().unwrap_or(b' ');
                    // Not `->`, `=>`, `<<`, `>>` or a turbofish `::<`.
                    let arrow = c == b'>' && (prev == b'-' || prev == b'=');
                    let shift = next == c || prev == c;
                    let turbofish = c == b'<' && prev == b':';
                    if !(arrow || shift || turbofish) {
                        let op: &'static str = match (c, next) {
                            (b'<', b'=') => "<=",
                            (b'>', b'=') => ">=",
                            (b'<', _) => "<",
                            _ => ">",
                        };
                        let after = i + op.len();
                        out.push((clause[..i].to_owned(), op, clause[after..].to_owned()));
                        i = after;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// `cond` split at its top-level `&&` and `||`.
fn split_top(cond: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0, 0, 0);
    let b = cond.as_bytes();
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'&' | b'|' if depth == 0 && b.get(i + 1) == Some(&b[i]) => {
                out.push(cond[start..i].to_owned());
                start = i + 2;
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(cond[start..].to_owned());
    out
}

fn scan(file: &str, lines: &[Line]) -> Vec<Finding> {
    let mut found = sleeps(file, lines);
    found.extend(upper_bounds(file, lines));
    found.sort_by_key(|f| f.line);
    found
}

// ---------------------------------------------------------------- the allow-list

/// Entries of `file:`, `code:` and `why:` lines (the reason may go on over indented lines),
/// separated by blank lines; `#` starts a comment line.
fn parse_allow_list(text: &str) -> Vec<Allowed> {
    let mut out = Vec::new();
    let mut current: Option<Allowed> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let entry = current.get_or_insert_with(|| Allowed { file: String::new(), code: String::new(), why: String::new() });
        if let Some(v) = line.strip_prefix("file:") {
            entry.file = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("code:") {
            entry.code = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("why:") {
            entry.why = v.trim().to_owned();
        } else if line.starts_with(char::is_whitespace) && !entry.why.is_empty() {
            entry.why.push(' ');
            entry.why.push_str(line.trim());
        } else {
            panic!("hygiene-allow.txt line {}: expected file:, code:, why: or an indented reason, got {line:?}", n + 1);
        }
    }
    out.extend(current);
    out
}

fn allows(entry: &Allowed, f: &Finding) -> bool {
    entry.file == f.file && f.text.contains(&entry.code)
}

// ---------------------------------------------------------------- the tests

#[test]
fn tests_neither_sleep_to_synchronise_nor_bound_wall_clock_time() {
    let root = repo_root();
    let list_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hygiene-allow.txt");
    let allowed = parse_allow_list(&std::fs::read_to_string(&list_path).expect("the allow-list"));
    let mut problems = Vec::new();
    for a in &allowed {
        if a.file.is_empty() || a.code.is_empty() || a.why.len() < 20 {
            problems.push(format!("allow-list entry without its file, code or a reason: {a:?}"));
        }
    }

    let sources = test_sources(&root);
    assert!(sources.len() > 50, "the scan found only {} test sources under {}: is the layout still crates/*/tests?", sources.len(), root.display());
    let found: Vec<Finding> = sources.iter().flat_map(|(file, lines)| scan(file, lines)).collect();
    for f in &found {
        if !allowed.iter().any(|a| allows(a, f)) {
            problems.push(format!("{f}"));
        }
    }
    for a in &allowed {
        if !found.iter().any(|f| allows(a, f)) {
            problems.push(format!("allow-list entry that matches nothing any more (remove it): {} `{}`", a.file, a.code));
        }
    }
    assert!(
        problems.is_empty(),
        "test hygiene (crates/bench/tests/hygiene.rs): wait on an event with a deadline (phone events, rc-sim's log stream), \
         use common::poll's Poll for a condition nothing announces, and assert what the code reports instead of how long it took; \
         a sleep that is legitimate (pacing real-time audio) goes into crates/bench/tests/hygiene-allow.txt with its reason.\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scan_finds_sleeps_and_upper_bounds_and_spares_deadlines_and_lower_bounds() {
    let source = r#"
async fn t() {
    tokio::time::sleep(Duration::from_millis(800)).await;
    std::thread::sleep(Duration::from_millis(20));
    tokio::time::sleep_until(at).await;
    // tokio::time::sleep(Duration::from_secs(1)) in a comment
    let s = "sleep( in a string";
    let t0 = Instant::now();
    let took = t0.elapsed();
    assert!(took <= Duration::from_millis(1500), "{took:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(
        WAIT > t0.elapsed(),
        "within"
    );
    assert!(ok && t0.elapsed().as_millis() < 100);
    assert!(took >= Duration::from_millis(700), "lower bound: {took:?}");
    assert!(tokio::time::Instant::now() < deadline, "a deadline");
    assert!(sent <= 4, "a count, {took:?}");
    assert!(waits[3] > waits[0] * 2, "engine-reported waits");
    assert_eq!(f(), 1);
    let v: Vec<u8> = Vec::<u8>::new();
}
"#;
    let found = scan("x.rs", &lines_of(source));
    let at = |kind| found.iter().filter(|f| f.kind == kind).map(|f| f.line).collect::<Vec<_>>();
    assert_eq!(at(Kind::Sleep), [3, 4, 5], "{found:#?}");
    assert_eq!(at(Kind::UpperBound), [10, 11, 12, 16], "{found:#?}");
}

#[test]
fn test_modules_in_sources_are_found_inline_and_out_of_line() {
    let source = r#"
fn production() {
    std::thread::sleep(Duration::from_secs(1));
}

#[cfg(test)]
mod in_call_tests;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn t() {
        if x { y() }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn after() {
    std::thread::sleep(Duration::from_secs(1));
}
"#;
    let (inline, names) = cfg_test_blocks(&lines_of(source));
    assert_eq!(names, ["in_call_tests"]);
    assert_eq!(inline.first().map(|l| l.n), Some(10));
    assert_eq!(inline.last().map(|l| l.n), Some(17));
    assert_eq!(sleeps("x.rs", &inline).iter().map(|f| f.line).collect::<Vec<_>>(), [15]);
}

#[test]
fn an_allow_list_entry_allows_its_file_and_snippet_only() {
    let list = parse_allow_list(
        "# comment\n\nfile: a/b.rs\ncode: std::thread::sleep(next\nwhy: paces a tone in real time,\n  10 ms at a time\n\nfile: c.rs\ncode: x\nwhy: y\n",
    );
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].why, "paces a tone in real time, 10 ms at a time");
    let f = |file: &str, text: &str| Finding { file: file.into(), line: 1, kind: Kind::Sleep, text: text.into() };
    assert!(allows(&list[0], &f("a/b.rs", "        std::thread::sleep(next.saturating_duration_since(now));")));
    assert!(!allows(&list[0], &f("a/c.rs", "        std::thread::sleep(next.saturating_duration_since(now));")));
    assert!(!allows(&list[0], &f("a/b.rs", "        std::thread::sleep(Duration::from_millis(50));")));
}
