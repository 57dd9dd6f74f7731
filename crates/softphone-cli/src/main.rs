//! `softphone-cli`: the engine without a window, for scripts and benchmarks.
//!
//! ```text
//! softphone-cli --sipinfo FILE [--ca FILE] (--dial NUMBER | --wait)
//!               [--play WAV | --tone HZ] [--record WAV] [--duration SECS]
//!               [--dtmf DIGITS] [--caller-id NUMBER] [--instance-id ID] [--debug]
//! ```
//!
//! Registers with the sipInfo (JSON, as sip-provision returns it), then dials or waits for
//! one inbound call and answers it, plays the WAV (48 kHz mono 16-bit) or a tone as the
//! microphone, records what it hears, hangs up after `--duration` seconds (default 10) or when
//! the far end does, and exits. Every event is one JSON object per line on stdout; errors go
//! to stdout as `{"event":"error",…}` with exit status 1.

mod args;
mod events;

use args::{Args, Mode};
use std::time::Duration;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{Dial, Options, PhoneEvent, SipInfo, WebPhone};

#[tokio::main]
async fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args).await {
        events::print("error", serde_json::json!({ "message": e }));
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.sipinfo).map_err(|e| format!("{}: {e}", args.sipinfo.display()))?;
    let info = SipInfo::from_json(&text).map_err(|e| format!("{}: {e}", args.sipinfo.display()))?;
    let input = match (&args.play, args.tone) {
        (Some(path), _) => Input::Wav(path.clone()),
        (None, Some(hz)) => Input::Tone(hz),
        (None, None) => Input::Silence,
    };
    let output = args.record.clone().map_or(Output::Discard, Output::Wav);
    let (audio, _) = TestAudio::new(input, output);
    let mut options = Options::new(audio);
    // The microphone is a file or a tone and the speaker a file: there is no room to cancel
    // an echo of, and what is played and recorded must not be altered (PESQ, tone checks).
    options.media.processing = media::processing::ProcessingSettings::OFF;
    options.debug = args.debug;
    options.instance_id = args.instance_id.clone();
    if let Some(ca) = &args.ca {
        options.extra_ca_pem = Some(std::fs::read_to_string(ca).map_err(|e| format!("{}: {e}", ca.display()))?);
    }
    let phone = WebPhone::start(info, options).await.map_err(|e| e.to_string())?;
    let mut events = phone.events();
    events::print("registered", serde_json::json!({}));
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            events::print_phone_event(&event);
        }
    });
    let result = talk(&phone, &args).await;
    let _ = phone.dispose().await;
    // Let the last events (disposed, unregistered) reach stdout.
    tokio::time::sleep(Duration::from_millis(100)).await;
    printer.abort();
    result
}

/// Places or takes one call and keeps it for the requested time.
async fn talk(phone: &WebPhone, args: &Args) -> Result<(), String> {
    let mut media_events = phone.events();
    let call = match &args.mode {
        Mode::Dial(number) => {
            let dial = Dial { callee: number.clone(), caller_id: args.caller_id.clone(), headers: Vec::new() };
            let call = phone.call(dial).await.map_err(|e| e.to_string())?;
            call.wait_answered(Duration::from_secs(60)).await.map_err(|e| e.to_string())?;
            call
        }
        Mode::Wait => {
            let mut events = phone.events();
            let call = loop {
                match events.recv().await {
                    Ok(PhoneEvent::InboundCall(session, _)) => break session,
                    Ok(_) => continue,
                    Err(e) => return Err(e.to_string()),
                }
            };
            call.answer().await.map_err(|e| e.to_string())?;
            call
        }
    };
    if let Some(digits) = &args.dtmf {
        // Digits travel in the media stream: wait until it is up.
        let id = call.id();
        let connected = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match media_events.recv().await {
                    Ok(PhoneEvent::MediaConnected(c)) if c == id => return true,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return false,
                }
            }
        });
        if !connected.await.unwrap_or(false) {
            return Err("the call's media did not connect; DTMF not sent".into());
        }
        call.send_dtmf(digits, None, None).await.map_err(|e| e.to_string())?;
    }
    let duration = Duration::from_secs_f64(args.duration);
    if call.wait_disposed(duration).await.is_err() {
        call.hangup().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
