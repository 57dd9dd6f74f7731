//! Audio that needs no sound card: tones, WAV files and silence in; channels and WAV files out.

use super::{AudioError, AudioIo, AudioSink, AudioSource, FRAME, SAMPLE_RATE};
use media::tone::Tone;
use media::voicesim::EchoPath;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the test microphone plays.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Nothing.
    Silence,
    /// A sine tone of this frequency (Hz).
    Tone(f64),
    /// A 16-bit mono WAV file at 48 kHz, then silence.
    Wav(PathBuf),
}

/// Where the test speaker puts what it hears.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Nowhere.
    Discard,
    /// Into the channel given by [`TestAudio::new`].
    Channel,
    /// Into a WAV file, written when the call's media stops.
    Wav(PathBuf),
}

/// A loudspeaker that the microphone hears, as on a laptop without a headset: what the test
/// speaker plays comes back into the test microphone `delay_ms` later, `attenuation_db`
/// quieter, with a reverberant tail of `tail_ms` (see [`media::voicesim::EchoPath`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcousticEcho {
    /// Speaker to microphone, in milliseconds.
    pub delay_ms: f64,
    /// How much quieter the direct echo is, in dB.
    pub attenuation_db: f64,
    /// Length of the reverberant tail after the direct echo, in milliseconds.
    pub tail_ms: f64,
}

/// The room the speaker and microphone share when there is an [`AcousticEcho`]: the echo
/// of what was played, waiting to be picked up.
struct Room {
    path: EchoPath,
    pending: VecDeque<f32>,
}

/// At most this much echo waits for the microphone (1 s); older echo is dropped.
const ROOM_LIMIT: usize = SAMPLE_RATE as usize;

/// Test audio "devices" named `test-input` and `test-output`.
pub struct TestAudio {
    input: Mutex<Input>,
    output: Output,
    heard: mpsc::UnboundedSender<Vec<i16>>,
    room: Mutex<Option<Arc<Mutex<Room>>>>,
}

impl TestAudio {
    /// Devices playing `input` and sending what they hear to `output`; with
    /// [`Output::Channel`] the frames arrive on the returned receiver.
    pub fn new(input: Input, output: Output) -> (Arc<TestAudio>, mpsc::UnboundedReceiver<Vec<i16>>) {
        let (heard, rx) = mpsc::unbounded_channel();
        (Arc::new(TestAudio { input: Mutex::new(input), output, heard, room: Mutex::new(None) }), rx)
    }

    /// Puts the speaker and microphone opened from now on in one room (`Some`): the
    /// microphone hears the speaker, so a call's echo canceller has something to do; `None`
    /// separates them again.
    pub fn set_acoustic_echo(&self, echo: Option<AcousticEcho>) {
        *self.room.lock().unwrap() = echo.map(|e| {
            let path = EchoPath::new(SAMPLE_RATE, e.delay_ms, e.attenuation_db, e.tail_ms, 7);
            Arc::new(Mutex::new(Room { path, pending: VecDeque::new() }))
        });
    }

    /// Changes what sources opened from now on play.
    pub fn set_input(&self, input: Input) {
        *self.input.lock().unwrap() = input;
    }
}

impl AudioIo for TestAudio {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        check_name(device, "test-input")?;
        let source: Box<dyn AudioSource> = match self.input.lock().unwrap().clone() {
            Input::Silence => Box::new(Silence),
            Input::Tone(freq) => Box::new(ToneSource(Tone::new(freq, SAMPLE_RATE, 8000))),
            Input::Wav(path) => Box::new(WavSource::open(&path)?),
        };
        Ok(match self.room.lock().unwrap().clone() {
            Some(room) => Box::new(EchoPickup { inner: source, room }),
            None => source,
        })
    }

    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        check_name(device, "test-output")?;
        let sink: Box<dyn AudioSink> = match &self.output {
            Output::Discard => Box::new(Discard),
            Output::Channel => Box::new(ChannelSink(self.heard.clone())),
            Output::Wav(path) => Box::new(WavSink { path: path.clone(), samples: Vec::new() }),
        };
        Ok(match self.room.lock().unwrap().clone() {
            Some(room) => Box::new(EchoFeed { inner: sink, room }),
            None => sink,
        })
    }

    fn input_devices(&self) -> Vec<String> {
        vec!["test-input".into()]
    }

    fn output_devices(&self) -> Vec<String> {
        vec!["test-output".into()]
    }
}

fn check_name(device: Option<&str>, name: &str) -> Result<(), AudioError> {
    match device {
        Some(d) if d != name => Err(AudioError::NotFound(d.to_owned())),
        _ => Ok(()),
    }
}

/// Silence.
pub struct Silence;

impl AudioSource for Silence {
    fn read(&mut self, frame: &mut [i16]) {
        frame.fill(0);
    }
}

/// A sine tone.
pub struct ToneSource(Tone);

impl AudioSource for ToneSource {
    fn read(&mut self, frame: &mut [i16]) {
        self.0.fill(frame);
    }
}

/// A WAV file, then silence.
pub struct WavSource {
    samples: Vec<i16>,
    at: usize,
}

impl WavSource {
    /// Reads a 48 kHz mono 16-bit WAV file.
    pub fn open(path: &std::path::Path) -> Result<WavSource, AudioError> {
        let err = |reason: String| AudioError::File { path: path.display().to_string(), reason };
        let (rate, samples) = media::wav::read(path).map_err(|e| err(e.to_string()))?;
        if rate != SAMPLE_RATE {
            return Err(err(format!("sample rate {rate} Hz, expected {SAMPLE_RATE}")));
        }
        Ok(WavSource { samples, at: 0 })
    }
}

impl AudioSource for WavSource {
    fn read(&mut self, frame: &mut [i16]) {
        let end = (self.at + frame.len()).min(self.samples.len());
        let n = end - self.at;
        frame[..n].copy_from_slice(&self.samples[self.at..end]);
        frame[n..].fill(0);
        self.at = end;
    }
}

/// A microphone in a room: its own sound plus the echo of the speaker.
struct EchoPickup {
    inner: Box<dyn AudioSource>,
    room: Arc<Mutex<Room>>,
}

impl AudioSource for EchoPickup {
    fn read(&mut self, frame: &mut [i16]) {
        self.inner.read(frame);
        let mut room = self.room.lock().unwrap();
        for s in frame.iter_mut() {
            let echo = room.pending.pop_front().unwrap_or(0.0);
            *s = (f32::from(*s) + echo).round().clamp(-32768.0, 32767.0) as i16;
        }
    }
}

/// A speaker in a room: plays as its sink does, and its echo goes to the microphone.
struct EchoFeed {
    inner: Box<dyn AudioSink>,
    room: Arc<Mutex<Room>>,
}

impl AudioSink for EchoFeed {
    fn write(&mut self, frame: &[i16]) {
        self.inner.write(frame);
        let mut room = self.room.lock().unwrap();
        let echo = room.path.play(frame);
        room.pending.extend(echo);
        let excess = room.pending.len().saturating_sub(ROOM_LIMIT);
        room.pending.drain(..excess);
    }
}

/// Throws sound away.
pub struct Discard;

impl AudioSink for Discard {
    fn write(&mut self, _frame: &[i16]) {}
}

/// Hands every frame to a channel.
pub struct ChannelSink(mpsc::UnboundedSender<Vec<i16>>);

impl AudioSink for ChannelSink {
    fn write(&mut self, frame: &[i16]) {
        let _ = self.0.send(frame.to_vec());
    }
}

/// Collects sound and writes it as a WAV file when dropped.
pub struct WavSink {
    path: PathBuf,
    samples: Vec<i16>,
}

impl AudioSink for WavSink {
    fn write(&mut self, frame: &[i16]) {
        self.samples.extend_from_slice(frame);
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Err(e) = media::wav::write(&self.path, SAMPLE_RATE, &self.samples) {
            eprintln!("could not write {}: {e}", self.path.display());
        }
    }
}

/// Frames of [`FRAME`] samples, for callers that build their own sources.
pub fn frame() -> Vec<i16> {
    vec![0; FRAME]
}
