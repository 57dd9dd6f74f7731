//! Audio that needs no sound card: tones, WAV files and silence in; channels and WAV files out.

use super::{AudioError, AudioIo, AudioSink, AudioSource, FRAME, SAMPLE_RATE};
use media::tone::Tone;
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

/// Test audio "devices" named `test-input` and `test-output`.
pub struct TestAudio {
    input: Mutex<Input>,
    output: Output,
    heard: mpsc::UnboundedSender<Vec<i16>>,
}

impl TestAudio {
    /// Devices playing `input` and sending what they hear to `output`; with
    /// [`Output::Channel`] the frames arrive on the returned receiver.
    pub fn new(input: Input, output: Output) -> (Arc<TestAudio>, mpsc::UnboundedReceiver<Vec<i16>>) {
        let (heard, rx) = mpsc::unbounded_channel();
        (Arc::new(TestAudio { input: Mutex::new(input), output, heard }), rx)
    }

    /// Changes what sources opened from now on play.
    pub fn set_input(&self, input: Input) {
        *self.input.lock().unwrap() = input;
    }
}

impl AudioIo for TestAudio {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        check_name(device, "test-input")?;
        Ok(match self.input.lock().unwrap().clone() {
            Input::Silence => Box::new(Silence),
            Input::Tone(freq) => Box::new(ToneSource(Tone::new(freq, SAMPLE_RATE, 8000))),
            Input::Wav(path) => Box::new(WavSource::open(&path)?),
        })
    }

    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        check_name(device, "test-output")?;
        Ok(match &self.output {
            Output::Discard => Box::new(Discard),
            Output::Channel => Box::new(ChannelSink(self.heard.clone())),
            Output::Wav(path) => Box::new(WavSink { path: path.clone(), samples: Vec::new() }),
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
