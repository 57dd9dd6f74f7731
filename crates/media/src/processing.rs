//! Voice processing between the microphone and the encoder: acoustic echo cancellation (the
//! speaker signal is the reference), noise suppression and automatic gain control.
//!
//! The DSP is `sonora`, a pure-Rust port of WebRTC's audio processing module: AEC3 (with its
//! high-pass filter), the WebRTC noise suppressor at its moderate level (about 12 dB) and
//! AGC2's adaptive digital gain with its limiter. It was chosen over the `aec3` crate (the
//! other port) by measurement: the same echo cancellation, a stronger and cheaper noise
//! suppressor, an `i16` API and a smaller build; see
//! `cargo run --release -p media --features aec-compare --example aec_compare`.
//!
//! A [`VoiceProcessor`] takes the engine's 20 ms, 48 kHz mono frames and feeds them to the
//! library in the 10 ms chunks it works on. Per call, on the media clock: each frame played
//! goes to [`VoiceProcessor::process_render`] before it reaches the speaker, each frame
//! captured goes through [`VoiceProcessor::process_capture`] before the encoder.

use serde::{Deserialize, Serialize};
use sonora::config::{AdaptiveDigital, EchoCanceller, GainController2, HighPassFilter, MaxProcessingRate, NoiseSuppression, NoiseSuppressionLevel};
use sonora::{AudioProcessing, Config, StreamConfig};

/// Sample rate the processor works at (the engine's).
pub const RATE: u32 = 48_000;
/// The library's chunk: 10 ms at 48 kHz.
pub const CHUNK: usize = 480;

/// Which stages run. Each can be switched on and off during a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProcessingSettings {
    /// Remove what the microphone hears of our own speaker (the far end's voice).
    pub echo_cancellation: bool,
    /// Suppress stationary background noise (fans, hiss, hum).
    pub noise_suppression: bool,
    /// Bring the microphone to a steady speech level (with a limiter against clipping).
    pub gain_control: bool,
}

impl Default for ProcessingSettings {
    fn default() -> Self {
        ProcessingSettings::ON
    }
}

impl ProcessingSettings {
    /// Every stage on (the default for a phone).
    pub const ON: ProcessingSettings = ProcessingSettings { echo_cancellation: true, noise_suppression: true, gain_control: true };
    /// Every stage off: audio passes untouched (bots, signalling tests).
    pub const OFF: ProcessingSettings = ProcessingSettings { echo_cancellation: false, noise_suppression: false, gain_control: false };

    /// True when any stage runs.
    pub fn any(&self) -> bool {
        self.echo_cancellation || self.noise_suppression || self.gain_control
    }

    fn config(&self) -> Config {
        let mut config = Config::default();
        // Keep the whole 48 kHz band (the default stops at 32 kHz, dropping 16–24 kHz).
        config.pipeline.maximum_internal_processing_rate = MaxProcessingRate::Rate48kHz;
        if self.any() {
            // Rumble and DC out before anything else, as WebRTC does (AEC3 enforces it too).
            config.high_pass_filter = Some(HighPassFilter::default());
        }
        if self.echo_cancellation {
            config.echo_canceller = Some(EchoCanceller::default());
        }
        if self.noise_suppression {
            config.noise_suppression = Some(NoiseSuppression { level: NoiseSuppressionLevel::Moderate, ..NoiseSuppression::default() });
        }
        if self.gain_control {
            config.gain_controller2 = Some(GainController2 { adaptive_digital: Some(AdaptiveDigital::default()), ..GainController2::default() });
        }
        config
    }
}

/// One call's voice processing (one per call: the echo canceller learns that call's path).
pub struct VoiceProcessor {
    settings: ProcessingSettings,
    apm: AudioProcessing,
    scratch: Vec<i16>,
}

impl std::fmt::Debug for VoiceProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceProcessor").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl VoiceProcessor {
    /// A processor running the stages `settings` turns on, for 48 kHz mono.
    pub fn new(settings: ProcessingSettings) -> VoiceProcessor {
        let stream = StreamConfig::new(RATE, 1);
        let apm = AudioProcessing::builder().config(settings.config()).capture_config(stream).render_config(stream).build();
        VoiceProcessor { settings, apm, scratch: vec![0; CHUNK] }
    }

    /// The stages that run.
    pub fn settings(&self) -> ProcessingSettings {
        self.settings
    }

    /// Switches stages on or off from the next frame on. As in WebRTC, a change of the set of
    /// stages starts them all afresh: the echo canceller learns the room again, which takes
    /// a second or so of far-end speech (in the tests: about 13 dB of echo reduction in that
    /// first second, over 30 dB after it).
    pub fn set_settings(&mut self, settings: ProcessingSettings) {
        if settings != self.settings {
            self.settings = settings;
            self.apm.apply_config(settings.config());
        }
    }

    /// The far end's audio as it goes to the speaker: the echo canceller's reference. Any
    /// length; whole 10 ms chunks are analysed (the engine's 20 ms frames are two), a
    /// remainder is not. The audio itself is not changed.
    pub fn process_render(&mut self, far_end: &[i16]) {
        if !self.settings.echo_cancellation {
            return;
        }
        for chunk in far_end.chunks_exact(CHUNK) {
            // Only the analysis is wanted; the render path has no processing of its own.
            let _ = self.apm.process_render_i16(chunk, &mut self.scratch);
        }
    }

    /// The microphone's audio before the encoder, processed in place: echo removed, noise
    /// suppressed, level adjusted, as the settings say. Whole 10 ms chunks are processed; a
    /// remainder (not a multiple of 480 samples) passes unchanged.
    pub fn process_capture(&mut self, near_end: &mut [i16]) {
        if !self.settings.any() {
            return;
        }
        for chunk in near_end.chunks_exact_mut(CHUNK) {
            self.scratch.copy_from_slice(chunk);
            if self.apm.process_capture_i16(&self.scratch, chunk).is_err() {
                chunk.copy_from_slice(&self.scratch);
            }
        }
    }

    /// The echo canceller's own estimate of its echo return loss enhancement in dB, when it
    /// has one.
    pub fn erle_estimate_db(&self) -> Option<f64> {
        self.apm.statistics().echo_return_loss_enhancement
    }
}
