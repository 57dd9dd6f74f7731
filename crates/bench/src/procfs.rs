//! A process tree's CPU time and proportional memory (PSS), read from `/proc` (Linux only).
//!
//! PSS counts a page shared by n processes as 1/n to each, so summing it over all of a
//! browser's processes (or the app and its WebKit helpers) does not count shared pages twice.

use std::collections::HashMap;

/// One process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent's id.
    pub ppid: u32,
    /// Command name (at most 15 characters).
    pub name: String,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

/// Parses the text of `/proc/PID/stat` (the name may hold spaces and brackets).
pub fn parse_stat(text: &str) -> Option<Process> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let name = text[open + 1..close].to_owned();
    // After the name: state(3) ppid(4) … utime(14) stime(15), counted from 1 with pid at 1.
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Process { pid, ppid: field(4)? as u32, name, cpu_ticks: field(14)? + field(15)? })
}

/// Every process now running.
pub fn all_processes() -> Vec<Process> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| {
        let name = e.ok()?.file_name();
        let pid: u32 = name.to_str()?.parse().ok()?;
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    })
    .collect()
}

/// `root` and all its descendants among `all`.
pub fn tree(all: &[Process], root: u32) -> Vec<Process> {
    let mut children: HashMap<u32, Vec<&Process>> = HashMap::new();
    for p in all {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out: Vec<Process> = all.iter().filter(|p| p.pid == root).cloned().collect();
    let mut i = 0;
    while i < out.len() {
        let pid = out[i].pid;
        out.extend(children.get(&pid).into_iter().flatten().map(|p| (*p).clone()));
        i += 1;
    }
    out
}

/// Clock ticks per second (for [`Process::cpu_ticks`]).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The PSS of process `pid` in KiB, from `/proc/PID/smaps_rollup`.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    parse_pss(&text)
}

/// The `Pss:` line of an smaps_rollup text, in KiB.
pub fn parse_pss(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("Pss:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The summed PSS (KiB) of `pids`; processes gone meanwhile count 0.
pub fn pss_sum_kib(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|p| pss_kib(*p)).sum()
}

/// CPU ticks of each process of a tree, to take differences over a window.
pub fn cpu_snapshot(processes: &[Process]) -> HashMap<u32, u64> {
    processes.iter().map(|p| (p.pid, p.cpu_ticks)).collect()
}

/// CPU seconds spent between two snapshots (a process born in between counts from 0; one
/// gone before the end is not counted).
pub fn cpu_seconds_between(start: &HashMap<u32, u64>, end: &HashMap<u32, u64>) -> f64 {
    let ticks: u64 = end.iter().map(|(pid, t)| t.saturating_sub(start.get(pid).copied().unwrap_or(0))).sum();
    ticks as f64 / ticks_per_second()
}

/// The CPU time of the calling thread, in seconds.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "4242 (Web Content (x)) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 31 0 0 20 0 12 0 100 1000 50 18446744073709551615";
        let p = parse_stat(line).unwrap();
        assert_eq!((p.pid, p.ppid, p.name.as_str(), p.cpu_ticks), (4242, 17, "Web Content (x)", 281));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn pss_is_read_from_smaps_rollup() {
        let text = "00400000-7fff [rollup]\nRss:              20480 kB\nPss:               9123 kB\nPss_Anon:  100 kB\n";
        assert_eq!(parse_pss(text), Some(9123));
        assert_eq!(parse_pss("Rss: 1 kB\n"), None);
    }

    #[test]
    fn this_process_is_found_with_its_tree_and_memory() {
        let me = std::process::id();
        let all = all_processes();
        let mine = tree(&all, me);
        assert_eq!(mine.first().map(|p| p.pid), Some(me));
        assert!(pss_kib(me).unwrap() > 100);
        let before = cpu_snapshot(&mine);
        // Spin until this thread has used 0.1 s of CPU: the process tree must show it.
        let t0 = thread_cpu_seconds();
        let mut x = 0u64;
        while thread_cpu_seconds() - t0 < 0.1 {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        let after = cpu_snapshot(&tree(&all_processes(), me));
        let spent = cpu_seconds_between(&before, &after);
        assert!(spent >= 0.08, "the spin used 0.1 s, the process shows {spent} s");
    }
}
