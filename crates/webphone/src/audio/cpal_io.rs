//! The system's audio devices through cpal, resampled to and from 48 kHz with rubato.
//!
//! On Linux the PulseAudio host is used when a Pulse server is reachable (PulseAudio itself,
//! or PipeWire's pipewire-pulse on today's desktops): the devices are the server's sinks and
//! sources under their descriptions ("Built-in Audio Analog Stereo", "Monitor of …"). Without
//! one (or with `WEBPHONE_AUDIO_HOST=alsa`), ALSA's devices are used.
//!
//! cpal streams are not `Send` on every platform, so each one lives on its own thread, which
//! owns it until the source or sink handed to the call is dropped. That thread also watches
//! the stream every [`WATCH_EVERY`]:
//!
//! * the device went away (no longer listed, or the stream reported it gone) or stopped
//!   delivering audio for [`STALL`]: the stream moves to the system default;
//! * no device was chosen (or the chosen one was lost) and the system default is another
//!   device now: the stream follows it;
//! * the chosen device is listed again after it was lost: the stream goes back to it;
//! * nothing could be opened: that side is silent and every [`RETRY_EVERY`] the chosen
//!   device, then the default, is tried again.
//!
//! Each move is a [`DeviceChange`] that the source or sink hands out from
//! [`AudioSource::device_change`] / [`AudioSink::device_change`]. Listing devices opens every
//! one of them with ALSA, so with ALSA only errors and silence are watched.
//!
//! Between the device callback and the call's 20 ms clock sits a small buffer, which outlives
//! any move: capture keeps at most [`MAX_BUFFERED`] samples (older ones are dropped so
//! latency cannot grow), playback does the same and plays silence when it runs dry.

use super::{AudioError, AudioIo, AudioSink, AudioSource, DeviceChange, DeviceChangeReason, SAMPLE_RATE};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, DeviceId, ErrorKind, SampleFormat, SizedSample, StreamConfig, SupportedBufferSize};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most 200 ms of audio waits between a device and a call.
const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 5;
/// Resampler chunk: 10 ms of input.
const CHUNK_MS: usize = 10;
/// How often a stream's thread looks at its device.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// A stream whose callbacks stop for this long has lost its device.
const STALL: Duration = Duration::from_secs(2);
/// A new stream may take this long for its first callback.
const FIRST_CALLBACK: Duration = Duration::from_secs(5);
/// With no device open, how often opening one is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How long opening a stream may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a lost stream may take to close before the next one opens anyway.
const CLOSE_WAIT: Duration = Duration::from_millis(500);
/// Changes not taken by the call are kept up to this many (the oldest are dropped).
const MAX_CHANGES: usize = 16;

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
type Changes = Arc<Mutex<VecDeque<DeviceChange>>>;

impl AudioIo for CpalAudio {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        let side = Side::new(true, device);
        let (buffer, changes) = (side.buffer.clone(), side.changes.clone());
        let guard = spawn_stream(side)?;
        Ok(Box::new(CpalSource { buffer, changes, _guard: guard }))
    }

    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        let side = Side::new(false, device);
        let (buffer, changes) = (side.buffer.clone(), side.changes.clone());
        let guard = spawn_stream(side)?;
        Ok(Box::new(CpalSink { buffer, changes, _guard: guard }))
    }

    fn input_devices(&self) -> Vec<String> {
        let host = host();
        host.input_devices().map(|d| d.filter_map(|d| device_name(&d)).collect()).unwrap_or_default()
    }

    fn output_devices(&self) -> Vec<String> {
        let host = host();
        host.output_devices().map(|d| d.filter_map(|d| device_name(&d)).collect()).unwrap_or_default()
    }
}

/// Pulse when a server is reachable, else ALSA; `WEBPHONE_AUDIO_HOST=alsa` asks for ALSA
/// (through its Pulse plugin when there is a server: the system default only).
fn host() -> cpal::Host {
    if std::env::var("WEBPHONE_AUDIO_HOST").is_ok_and(|h| h.eq_ignore_ascii_case("alsa")) {
        if let Some(h) = alsa_host() {
            return h;
        }
    }
    cpal::default_host()
}

/// cpal's ALSA host, on the systems that have one (Linux and the BSDs).
#[cfg(any(target_os = "linux", target_os = "dragonfly", target_os = "freebsd", target_os = "netbsd"))]
fn alsa_host() -> Option<cpal::Host> {
    cpal::host_from_id(cpal::HostId::Alsa).ok()
}

/// Whether `host` is ALSA's: it lists devices by opening each of them, takes only the
/// formats we convert ourselves and chooses its own periods. The other hosts (PulseAudio,
/// WASAPI, CoreAudio) convert formats themselves.
#[cfg(any(target_os = "linux", target_os = "dragonfly", target_os = "freebsd", target_os = "netbsd"))]
fn is_alsa(host: &cpal::Host) -> bool {
    host.id() == cpal::HostId::Alsa
}

/// No ALSA here (WASAPI on Windows, CoreAudio on macOS).
#[cfg(not(any(target_os = "linux", target_os = "dragonfly", target_os = "freebsd", target_os = "netbsd")))]
fn alsa_host() -> Option<cpal::Host> {
    None
}

/// No ALSA here: every host converts formats itself.
#[cfg(not(any(target_os = "linux", target_os = "dragonfly", target_os = "freebsd", target_os = "netbsd")))]
fn is_alsa(_host: &cpal::Host) -> bool {
    false
}

fn device_name(d: &cpal::Device) -> Option<String> {
    d.description().ok().map(|desc| desc.name().to_owned())
}

/// The microphone side: 20 ms frames out of the capture buffer.
struct CpalSource {
    buffer: Shared,
    changes: Changes,
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

    fn device_change(&mut self) -> Option<DeviceChange> {
        self.changes.lock().unwrap().pop_front()
    }
}

/// The speaker side: 20 ms frames into the playback buffer.
struct CpalSink {
    buffer: Shared,
    changes: Changes,
    _guard: StreamGuard,
}

impl AudioSink for CpalSink {
    fn write(&mut self, frame: &[i16]) {
        let mut b = self.buffer.lock().unwrap();
        b.extend(frame.iter().copied());
        let excess = b.len().saturating_sub(MAX_BUFFERED);
        b.drain(..excess);
    }

    fn device_change(&mut self) -> Option<DeviceChange> {
        self.changes.lock().unwrap().pop_front()
    }
}

/// Keeps a stream's thread alive; dropping it stops and closes the stream.
struct StreamGuard {
    _stop: std_mpsc::Sender<()>,
}

/// One side of a call's audio as its thread sees it: which side, the device the user chose,
/// and where samples and changes go.
#[derive(Clone)]
struct Side {
    input: bool,
    chosen: Option<String>,
    buffer: Shared,
    changes: Changes,
}

impl Side {
    fn new(input: bool, device: Option<&str>) -> Side {
        Side { input, chosen: device.map(str::to_owned), buffer: Arc::default(), changes: Arc::default() }
    }

    fn report(&self, from: Option<String>, to: Option<String>, reason: DeviceChangeReason) {
        let mut changes = self.changes.lock().unwrap();
        if changes.len() == MAX_CHANGES {
            changes.pop_front();
        }
        changes.push_back(DeviceChange { input: self.input, from, to, reason });
    }
}

/// How an open stream is doing, as its callbacks tell.
struct Health {
    opened: Instant,
    /// Milliseconds from `opened` to the latest data callback, plus one; 0 before the first.
    last_callback: AtomicU64,
    /// What the stream said when it lost its device.
    gone: Mutex<Option<String>>,
}

impl Health {
    fn new() -> Arc<Health> {
        Arc::new(Health { opened: Instant::now(), last_callback: AtomicU64::new(0), gone: Mutex::new(None) })
    }

    fn beat(&self) {
        self.last_callback.store(self.opened.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
    }

    fn error(&self, e: &cpal::Error) {
        if matches!(e.kind(), ErrorKind::DeviceNotAvailable | ErrorKind::StreamInvalidated | ErrorKind::HostUnavailable) {
            *self.gone.lock().unwrap() = Some(e.to_string());
        } else if e.kind() != ErrorKind::Xrun {
            eprintln!("audio stream error: {e}");
        }
    }

    fn stalled(&self) -> bool {
        let now = self.opened.elapsed();
        match self.last_callback.load(Ordering::Relaxed) {
            0 => now > FIRST_CALLBACK,
            last => now.saturating_sub(Duration::from_millis(last - 1)) > STALL,
        }
    }
}

/// A playing stream and the device it plays on.
struct Live {
    _stream: cpal::Stream,
    host: cpal::Host,
    id: Option<DeviceId>,
    name: String,
    /// Opened on the device the user chose (false: on the system default).
    on_chosen: bool,
    health: Arc<Health>,
}

/// Builds and starts a stream on its own thread, which then watches it; returns once it
/// plays or failed.
fn spawn_stream(side: Side) -> Result<StreamGuard, AudioError> {
    let (ready_tx, ready_rx) = std_mpsc::channel();
    let (stop_tx, stop_rx) = std_mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("audio-stream".into())
        .spawn(move || {
            let live = match open(&side, side.chosen.as_deref()) {
                Ok(live) => live,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            let _ = ready_tx.send(Ok(()));
            // Until the guard is dropped; then the stream is dropped here.
            watch(&side, live, &stop_rx);
        })
        .map_err(|e| AudioError::Open { name: "audio thread".into(), reason: e.to_string() })?;
    ready_rx.recv().map_err(|_| AudioError::Open { name: "audio thread".into(), reason: "exited early".into() })??;
    Ok(StreamGuard { _stop: stop_tx })
}

/// Opens and starts a stream on `device` (`None`: the system default), giving up after
/// [`OPEN_TIMEOUT`]: cpal's Pulse host waits for a recording's first data, which a stuck
/// device never sends.
fn open(side: &Side, device: Option<&str>) -> Result<Live, AudioError> {
    let (tx, rx) = std_mpsc::channel();
    let (s, d) = (side.clone(), device.map(str::to_owned));
    std::thread::Builder::new()
        .name("audio-open".into())
        .spawn(move || {
            // Too late: the stream is dropped here, on this thread.
            let _ = tx.send(open_now(&s, d.as_deref()));
        })
        .map_err(|e| AudioError::Open { name: "audio thread".into(), reason: e.to_string() })?;
    let name = device.unwrap_or(if side.input { "default input" } else { "default output" });
    rx.recv_timeout(OPEN_TIMEOUT).unwrap_or_else(|_| Err(open_err(name, "the audio system did not start the stream in time")))
}

fn open_now(side: &Side, device: Option<&str>) -> Result<Live, AudioError> {
    let host = host();
    let found = find_device(&host, side.input, device)?;
    let name = device_name(&found).unwrap_or_else(|| if side.input { "default input".into() } else { "default output".into() });
    let health = Health::new();
    let stream = if side.input {
        build_input(&host, &found, &name, side.buffer.clone(), health.clone())
    } else {
        build_output(&host, &found, &name, side.buffer.clone(), health.clone())
    }?;
    stream.play().map_err(|e| open_err(&name, e))?;
    let on_chosen = device.is_some();
    Ok(Live { _stream: stream, id: found.id().ok(), host, name, on_chosen, health })
}

/// What the watch found wrong with a stream: why, and whether to go to the chosen device
/// (true) or the system default.
type Trouble = (DeviceChangeReason, bool);

/// Watches `live` until `stop` says the call let go of it.
fn watch(side: &Side, live: Live, stop: &std_mpsc::Receiver<()>) {
    let mut live = Some(live);
    let mut last_try = Instant::now();
    while let Err(std_mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(WATCH_EVERY) {
        live = match live.take() {
            Some(l) => match trouble(side, &l) {
                None => Some(l),
                Some(t) => {
                    last_try = Instant::now();
                    move_stream(side, l, t)
                }
            },
            None if last_try.elapsed() >= RETRY_EVERY => {
                last_try = Instant::now();
                let again = side.chosen.as_deref().and_then(|c| open(side, Some(c)).ok()).or_else(|| open(side, None).ok());
                if let Some(l) = &again {
                    side.report(None, Some(l.name.clone()), DeviceChangeReason::Returned);
                }
                again
            }
            None => None,
        };
    }
}

/// What is wrong with `live`, if anything.
fn trouble(side: &Side, live: &Live) -> Option<Trouble> {
    if let Some(why) = live.health.gone.lock().unwrap().take() {
        return Some((DeviceChangeReason::Lost(why), false));
    }
    // Listing ALSA devices opens each of them: too heavy to do four times a second.
    let can_list = !is_alsa(&live.host);
    if can_list {
        if let (Some(id), Ok(mut devices)) = (&live.id, list(&live.host, side.input)) {
            if !devices.any(|d| d.id().ok().as_ref() == Some(id)) {
                return Some((DeviceChangeReason::Lost("the device was removed".into()), false));
            }
        }
    }
    if live.health.stalled() {
        return Some((DeviceChangeReason::Lost("the device stopped delivering audio".into()), false));
    }
    if live.on_chosen {
        return None;
    }
    if let (true, Some(chosen)) = (can_list, side.chosen.as_deref()) {
        if find_device(&live.host, side.input, Some(chosen)).is_ok() {
            return Some((DeviceChangeReason::Returned, true));
        }
    }
    let default = if side.input { live.host.default_input_device() } else { live.host.default_output_device() };
    match default.and_then(|d| d.id().ok()) {
        Some(id) if live.id.as_ref() != Some(&id) => Some((DeviceChangeReason::DefaultChanged, false)),
        _ => None,
    }
}

/// Moves a stream to the chosen device or the default. A lost stream is closed first and
/// the move reported even when nothing opens; a stream that still plays is kept when its
/// replacement does not open.
fn move_stream(side: &Side, old: Live, (reason, to_chosen): Trouble) -> Option<Live> {
    let from = Some(old.name.clone());
    let lost = matches!(reason, DeviceChangeReason::Lost(_));
    if lost {
        close(old, CLOSE_WAIT);
        let new = open(side, None);
        side.report(from, new.as_ref().ok().map(|l| l.name.clone()), reason);
        return new.ok();
    }
    match open(side, if to_chosen { side.chosen.as_deref() } else { None }) {
        Ok(new) => {
            close(old, Duration::ZERO);
            side.report(from, Some(new.name.clone()), reason);
            Some(new)
        }
        Err(_) => Some(old),
    }
}

/// Closes a stream on another thread, waiting at most `wait` for it: closing a stream whose
/// device is gone can block for good (cpal's Pulse host waits for a stream the server
/// already killed), which must not stop the watch.
fn close(live: Live, wait: Duration) {
    let (done_tx, done) = std_mpsc::channel::<()>();
    let _ = std::thread::Builder::new().name("audio-close".into()).spawn(move || {
        drop(live);
        drop(done_tx);
    });
    let _ = done.recv_timeout(wait);
}

fn list(host: &cpal::Host, input: bool) -> Result<Box<dyn Iterator<Item = cpal::Device>>, cpal::Error> {
    Ok(if input { Box::new(host.input_devices()?) } else { Box::new(host.output_devices()?) })
}

/// The device called `name` (its description, or its host's id for it), or the default.
fn find_device(host: &cpal::Host, input: bool, name: Option<&str>) -> Result<cpal::Device, AudioError> {
    let kind = if input { "input" } else { "output" };
    let Some(name) = name else {
        let d = if input { host.default_input_device() } else { host.default_output_device() };
        return d.ok_or(AudioError::NoDevice(kind));
    };
    list(host, input)
        .map_err(|e| AudioError::Open { name: name.to_owned(), reason: e.to_string() })?
        .find(|d| device_name(d).as_deref() == Some(name) || d.id().is_ok_and(|id| id.id() == name))
        .ok_or_else(|| AudioError::NotFound(name.to_owned()))
}

fn open_err(name: &str, e: impl std::fmt::Display) -> AudioError {
    AudioError::Open { name: name.to_owned(), reason: e.to_string() }
}

/// The device's own rate and channels in f32 or i16, in periods of `period_ms` where the host
/// lets us choose (Pulse's default is a buffer of seconds; with cpal's Pulse host, playback
/// periods of 10 ms run dry now and then, 20 ms do not).
fn stream_config(host: &cpal::Host, supported: cpal::SupportedStreamConfig, period_ms: u32, name: &str) -> Result<(StreamConfig, SampleFormat), AudioError> {
    let format = supported.sample_format();
    let format = match format {
        SampleFormat::F32 | SampleFormat::I16 => format,
        // Pulse converts any format itself.
        _ if !is_alsa(host) => SampleFormat::F32,
        other => return Err(open_err(name, format!("unsupported sample format {other:?}"))),
    };
    let period = supported.sample_rate() * period_ms / 1000;
    let mut config = supported.config();
    if !is_alsa(host) {
        if let SupportedBufferSize::Range { min, max } = supported.buffer_size() {
            config.buffer_size = BufferSize::Fixed(period.clamp(*min, *max));
        }
    }
    Ok((config, format))
}

fn build_input(host: &cpal::Host, device: &cpal::Device, label: &str, buffer: Shared, health: Arc<Health>) -> Result<cpal::Stream, AudioError> {
    let supported = device.default_input_config().map_err(|e| open_err(label, e))?;
    let (config, format) = stream_config(host, supported, 10, label)?;
    let channels = usize::from(config.channels.max(1));
    let mut to_48k = Converter::new(config.sample_rate, SAMPLE_RATE).map_err(|e| open_err(label, e))?;
    let beat = health.clone();
    let mut deliver = move |mono: &[f32]| {
        beat.beat();
        to_48k.push(mono, &mut |out| {
            let mut b = buffer.lock().unwrap();
            b.extend(out.iter().map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16));
            let excess = b.len().saturating_sub(MAX_BUFFERED);
            b.drain(..excess);
        });
    };
    let err = move |e: cpal::Error| health.error(&e);
    let stream = match format {
        SampleFormat::F32 => device.build_input_stream(config, move |data: &[f32], _: &_| deliver(&downmix(data, channels, |s| s)), err, None),
        _ => device.build_input_stream(config, move |data: &[i16], _: &_| deliver(&downmix(data, channels, |s| f32::from(s) / 32768.0)), err, None),
    };
    stream.map_err(|e| open_err(label, e))
}

fn build_output(host: &cpal::Host, device: &cpal::Device, label: &str, buffer: Shared, health: Arc<Health>) -> Result<cpal::Stream, AudioError> {
    let supported = device.default_output_config().map_err(|e| open_err(label, e))?;
    let (config, format) = stream_config(host, supported, 20, label)?;
    let channels = usize::from(config.channels.max(1));
    let mut from_48k = Converter::new(SAMPLE_RATE, config.sample_rate).map_err(|e| open_err(label, e))?;
    let mut ready: VecDeque<f32> = VecDeque::new();
    let beat = health.clone();
    let mut fill = move |frames: usize| -> Vec<f32> {
        beat.beat();
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
    let err = move |e: cpal::Error| health.error(&e);
    let stream = match format {
        SampleFormat::F32 => device.build_output_stream(config, move |data: &mut [f32], _: &_| upmix(data, channels, &fill(data.len() / channels), |s| s), err, None),
        _ => device.build_output_stream(config, move |data: &mut [i16], _: &_| upmix(data, channels, &fill(data.len() / channels), |s| (s.clamp(-1.0, 1.0) * 32767.0) as i16), err, None),
    };
    stream.map_err(|e| open_err(label, e))
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
