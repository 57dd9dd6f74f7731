//! The system's audio devices through cpal, resampled to and from 48 kHz with rubato.
//!
//! cpal streams are not `Send` on every platform, so each one lives on its own thread, which
//! owns it until the source or sink handed to the call is dropped. Between the device callback
//! and the call's 20 ms clock sits a small buffer: capture keeps at most [`MAX_BUFFERED`]
//! samples (older ones are dropped so latency cannot grow), playback does the same and plays
//! silence when it runs dry.

use super::{AudioError, AudioIo, AudioSink, AudioSource, SAMPLE_RATE};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, SizedSample, StreamConfig};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::collections::VecDeque;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

/// At most 200 ms of audio waits between a device and a call.
const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 5;
/// Resampler chunk: 10 ms of input.
const CHUNK_MS: usize = 10;

/// The default cpal host's devices.
#[derive(Default)]
pub struct CpalAudio;

impl CpalAudio {
    /// The system's audio.
    pub fn new() -> CpalAudio {
        CpalAudio
    }
}

type Shared = Arc<Mutex<VecDeque<i16>>>;

impl AudioIo for CpalAudio {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        let buffer: Shared = Arc::default();
        let b = buffer.clone();
        let name = device.map(str::to_owned);
        let guard = spawn_stream(move || build_input(name.as_deref(), b))?;
        Ok(Box::new(CpalSource { buffer, _guard: guard }))
    }

    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        let buffer: Shared = Arc::default();
        let b = buffer.clone();
        let name = device.map(str::to_owned);
        let guard = spawn_stream(move || build_output(name.as_deref(), b))?;
        Ok(Box::new(CpalSink { buffer, _guard: guard }))
    }

    fn input_devices(&self) -> Vec<String> {
        let host = cpal::default_host();
        host.input_devices().map(|d| d.filter_map(|d| device_name(&d)).collect()).unwrap_or_default()
    }

    fn output_devices(&self) -> Vec<String> {
        let host = cpal::default_host();
        host.output_devices().map(|d| d.filter_map(|d| device_name(&d)).collect()).unwrap_or_default()
    }
}

fn device_name(d: &cpal::Device) -> Option<String> {
    d.description().ok().map(|desc| desc.name().to_owned())
}

/// The microphone side: 20 ms frames out of the capture buffer.
struct CpalSource {
    buffer: Shared,
    _guard: StreamGuard,
}

impl AudioSource for CpalSource {
    fn read(&mut self, frame: &mut [i16]) {
        let mut b = self.buffer.lock().unwrap();
        let n = frame.len().min(b.len());
        for (slot, s) in frame.iter_mut().zip(b.drain(..n)) {
            *slot = s;
        }
        frame[n..].fill(0);
    }
}

/// The speaker side: 20 ms frames into the playback buffer.
struct CpalSink {
    buffer: Shared,
    _guard: StreamGuard,
}

impl AudioSink for CpalSink {
    fn write(&mut self, frame: &[i16]) {
        let mut b = self.buffer.lock().unwrap();
        b.extend(frame.iter().copied());
        let excess = b.len().saturating_sub(MAX_BUFFERED);
        b.drain(..excess);
    }
}

/// Keeps a stream's thread alive; dropping it stops and closes the stream.
struct StreamGuard {
    _stop: std_mpsc::Sender<()>,
}

/// Builds and starts a stream on its own thread; returns once it plays or failed.
fn spawn_stream(build: impl FnOnce() -> Result<cpal::Stream, AudioError> + Send + 'static) -> Result<StreamGuard, AudioError> {
    let (ready_tx, ready_rx) = std_mpsc::channel();
    let (stop_tx, stop_rx) = std_mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("audio-stream".into())
        .spawn(move || {
            let stream = match build() {
                Ok(s) => s,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            if let Err(e) = stream.play() {
                return drop(ready_tx.send(Err(AudioError::Open { name: "stream".into(), reason: e.to_string() })));
            }
            let _ = ready_tx.send(Ok(()));
            // Blocks until the guard is dropped; then the stream is dropped here.
            let _ = stop_rx.recv();
        })
        .map_err(|e| AudioError::Open { name: "audio thread".into(), reason: e.to_string() })?;
    ready_rx.recv().map_err(|_| AudioError::Open { name: "audio thread".into(), reason: "exited early".into() })??;
    Ok(StreamGuard { _stop: stop_tx })
}

fn find_device(input: bool, name: Option<&str>) -> Result<cpal::Device, AudioError> {
    let host = cpal::default_host();
    let kind = if input { "input" } else { "output" };
    let Some(name) = name else {
        let d = if input { host.default_input_device() } else { host.default_output_device() };
        return d.ok_or(AudioError::NoDevice(kind));
    };
    let devices = if input { host.input_devices().map(|d| d.collect::<Vec<_>>()) } else { host.output_devices().map(|d| d.collect()) };
    devices
        .map_err(|e| AudioError::Open { name: name.to_owned(), reason: e.to_string() })?
        .into_iter()
        .find(|d| device_name(d).as_deref() == Some(name))
        .ok_or_else(|| AudioError::NotFound(name.to_owned()))
}

fn open_err(name: &str, e: impl std::fmt::Display) -> AudioError {
    AudioError::Open { name: name.to_owned(), reason: e.to_string() }
}

fn build_input(name: Option<&str>, buffer: Shared) -> Result<cpal::Stream, AudioError> {
    let device = find_device(true, name)?;
    let label = device_name(&device).unwrap_or_else(|| "default input".into());
    let supported = device.default_input_config().map_err(|e| open_err(&label, e))?;
    let config: StreamConfig = supported.config();
    let channels = usize::from(config.channels.max(1));
    let mut to_48k = Converter::new(config.sample_rate, SAMPLE_RATE).map_err(|e| open_err(&label, e))?;
    let mut deliver = move |mono: &[f32]| {
        to_48k.push(mono, &mut |out| {
            let mut b = buffer.lock().unwrap();
            b.extend(out.iter().map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16));
            let excess = b.len().saturating_sub(MAX_BUFFERED);
            b.drain(..excess);
        });
    };
    let err = |e| eprintln!("audio input error: {e}");
    let stream = match supported.sample_format() {
        SampleFormat::F32 => device.build_input_stream(config, move |data: &[f32], _: &_| deliver(&downmix(data, channels, |s| s)), err, None),
        SampleFormat::I16 => device.build_input_stream(config, move |data: &[i16], _: &_| deliver(&downmix(data, channels, |s| f32::from(s) / 32768.0)), err, None),
        other => return Err(open_err(&label, format!("unsupported sample format {other:?}"))),
    };
    stream.map_err(|e| open_err(&label, e))
}

fn build_output(name: Option<&str>, buffer: Shared) -> Result<cpal::Stream, AudioError> {
    let device = find_device(false, name)?;
    let label = device_name(&device).unwrap_or_else(|| "default output".into());
    let supported = device.default_output_config().map_err(|e| open_err(&label, e))?;
    let config: StreamConfig = supported.config();
    let channels = usize::from(config.channels.max(1));
    let mut from_48k = Converter::new(SAMPLE_RATE, config.sample_rate).map_err(|e| open_err(&label, e))?;
    let mut ready: VecDeque<f32> = VecDeque::new();
    let mut fill = move |frames: usize| -> Vec<f32> {
        while ready.len() < frames {
            let chunk: Vec<f32> = {
                let mut b = buffer.lock().unwrap();
                let n = b.len().min(SAMPLE_RATE as usize * CHUNK_MS / 1000);
                b.drain(..n).map(|s| f32::from(s) / 32768.0).collect()
            };
            if chunk.is_empty() {
                break;
            }
            from_48k.push(&chunk, &mut |out| ready.extend(out.iter().copied()));
        }
        (0..frames).map(|_| ready.pop_front().unwrap_or(0.0)).collect()
    };
    let err = |e| eprintln!("audio output error: {e}");
    let stream = match supported.sample_format() {
        SampleFormat::F32 => device.build_output_stream(config, move |data: &mut [f32], _: &_| upmix(data, channels, &fill(data.len() / channels), |s| s), err, None),
        SampleFormat::I16 => device.build_output_stream(config, move |data: &mut [i16], _: &_| upmix(data, channels, &fill(data.len() / channels), |s| (s.clamp(-1.0, 1.0) * 32767.0) as i16), err, None),
        other => return Err(open_err(&label, format!("unsupported sample format {other:?}"))),
    };
    stream.map_err(|e| open_err(&label, e))
}

/// Interleaved device samples to mono f32 (the average of the channels).
fn downmix<T: SizedSample>(data: &[T], channels: usize, to_f32: impl Fn(T) -> f32) -> Vec<f32> {
    data.chunks(channels).map(|f| f.iter().map(|s| to_f32(*s)).sum::<f32>() / channels as f32).collect()
}

/// Mono f32 to interleaved device samples (the same on every channel).
fn upmix<T: SizedSample>(data: &mut [T], channels: usize, mono: &[f32], from_f32: impl Fn(f32) -> T) {
    for (frame, s) in data.chunks_mut(channels).zip(mono) {
        frame.fill(from_f32(*s));
    }
}

/// A streaming sample-rate converter (rubato FFT) for mono audio; a pass-through when the
/// rates are equal.
pub struct Converter {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
}

impl Converter {
    /// Converts from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Converter, String> {
        let inner = if from == to {
            None
        } else {
            let chunk = from as usize * CHUNK_MS / 1000;
            Some(Fft::new(from as usize, to as usize, chunk.max(1), 1, FixedSync::Input).map_err(|e| e.to_string())?)
        };
        Ok(Converter { inner, pending: Vec::new(), out: Vec::new() })
    }

    /// Feeds samples; converted samples are handed to `sink` as soon as a chunk is complete.
    pub fn push(&mut self, input: &[f32], sink: &mut dyn FnMut(&[f32])) {
        let Some(r) = self.inner.as_mut() else { return sink(input) };
        self.pending.extend_from_slice(input);
        loop {
            let (need, produce) = (r.input_frames_next(), r.output_frames_next());
            if self.pending.len() < need {
                return;
            }
            self.out.resize(produce, 0.0);
            let written = {
                let Ok(inb) = InterleavedSlice::new(&self.pending[..need], 1, need) else { return };
                let Ok(mut outb) = InterleavedSlice::new_mut(&mut self.out[..], 1, produce) else { return };
                r.process_into_buffer(&inb, &mut outb, None).map(|(_, w)| w).unwrap_or(0)
            };
            sink(&self.out[..written]);
            self.pending.drain(..need);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_44100_to_48000_keeping_the_tone() {
        let mut c = Converter::new(44_100, 48_000).unwrap();
        let input: Vec<f32> = (0..44_100).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 44_100.0).sin() * 0.5).collect();
        let mut out = Vec::new();
        for chunk in input.chunks(441) {
            c.push(chunk, &mut |o| out.extend_from_slice(o));
        }
        assert!((out.len() as i64 - 48_000).abs() < 2_000, "about one second out: {}", out.len());
        let pcm: Vec<i16> = out.iter().map(|s| (s * 32767.0) as i16).collect();
        let (f, _) = media::tone::dominant_frequency(&pcm[4800..], 48_000, 100, 4000, 10);
        assert_eq!(f, 1000);
    }

    #[test]
    fn equal_rates_pass_through() {
        let mut c = Converter::new(48_000, 48_000).unwrap();
        let mut out = Vec::new();
        c.push(&[0.25, -0.5], &mut |o| out.extend_from_slice(o));
        assert_eq!(out, vec![0.25, -0.5]);
    }
}
