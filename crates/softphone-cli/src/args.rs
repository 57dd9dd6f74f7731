//! Command-line arguments.

use std::path::PathBuf;

/// How to use the program.
pub const USAGE: &str = "usage: softphone-cli --sipinfo FILE [--ca FILE] (--dial NUMBER | --wait)
       [--play WAV | --tone HZ] [--record WAV] [--duration SECS] [--dtmf DIGITS]
       [--caller-id NUMBER] [--instance-id ID] [--debug]";

/// Dial out or wait for a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Call this number.
    Dial(String),
    /// Answer the first inbound call.
    Wait,
}

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub sipinfo: PathBuf,
    pub ca: Option<PathBuf>,
    pub mode: Mode,
    pub play: Option<PathBuf>,
    pub tone: Option<f64>,
    pub record: Option<PathBuf>,
    pub duration: f64,
    pub dtmf: Option<String>,
    pub caller_id: Option<String>,
    pub instance_id: Option<String>,
    pub debug: bool,
}

impl Args {
    /// Reads the arguments (without the program name).
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let (mut sipinfo, mut ca, mut mode, mut play, mut tone, mut record) = (None, None, None, None, None, None);
        let (mut duration, mut dtmf, mut caller_id, mut instance_id, mut debug) = (10.0, None, None, None, false);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--sipinfo" => sipinfo = Some(PathBuf::from(value()?)),
                "--ca" => ca = Some(PathBuf::from(value()?)),
                "--dial" => mode = Some(Mode::Dial(value()?)),
                "--wait" => mode = Some(Mode::Wait),
                "--play" => play = Some(PathBuf::from(value()?)),
                "--tone" => tone = Some(value()?.parse::<f64>().map_err(|e| format!("--tone: {e}"))?),
                "--record" => record = Some(PathBuf::from(value()?)),
                "--duration" => duration = value()?.parse::<f64>().map_err(|e| format!("--duration: {e}"))?,
                "--dtmf" => dtmf = Some(value()?),
                "--caller-id" => caller_id = Some(value()?),
                "--instance-id" => instance_id = Some(value()?),
                "--debug" => debug = true,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        if !(duration.is_finite() && duration > 0.0) {
            return Err("--duration must be a positive number of seconds".into());
        }
        Ok(Args {
            sipinfo: sipinfo.ok_or("--sipinfo is required")?,
            ca,
            mode: mode.ok_or("--dial NUMBER or --wait is required")?,
            play,
            tone,
            record,
            duration,
            dtmf,
            caller_id,
            instance_id,
            debug,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Args, String> {
        Args::parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn reads_flags_and_names_what_is_missing() {
        let a = parse("--sipinfo s.json --dial 600 --tone 1000 --record out.wav --duration 2.5").unwrap();
        assert_eq!(a.mode, Mode::Dial("600".into()));
        assert_eq!((a.tone, a.duration), (Some(1000.0), 2.5));
        assert_eq!(parse("--dial 600").unwrap_err(), "--sipinfo is required");
        assert_eq!(parse("--sipinfo s.json").unwrap_err(), "--dial NUMBER or --wait is required");
        assert_eq!(parse("--sipinfo s.json --wait --bogus").unwrap_err(), "unknown argument --bogus");
        assert_eq!(parse("--sipinfo").unwrap_err(), "--sipinfo needs a value");
        assert!(parse("--sipinfo s --wait --duration -1").is_err());
    }
}
