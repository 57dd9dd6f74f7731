//! Audio devices behind a small trait, so a call's media does not care where sound comes from.
//!
//! Every implementation speaks 48 kHz mono 16-bit in 20 ms frames ([`FRAME`] samples): the
//! engine pulls one frame from the source and pushes one frame to the sink every 20 ms.
//!
//! * [`test::TestAudio`]: a tone generator, a WAV file or silence as the microphone, and a
//!   sink that hands every heard frame to a channel (tests) or records a WAV file (the CLI).
//! * [`cpal_io::CpalAudio`]: the system's devices through cpal, resampled with rubato. It
//!   survives a device that goes away (it moves to the system default) and follows the
//!   system default when no device was chosen; each such move is a [`DeviceChange`].
//! * [`meter::Metered`]: any of these, with the microphone's and speaker's levels measured.

pub mod cpal_io;
pub mod meter;
pub mod test;

/// Sample rate of every frame.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame.
pub const FRAME: usize = 960;

/// Why audio could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// There is no device of that kind at all.
    #[error("no {0} audio device is available")]
    NoDevice(&'static str),
    /// The named device does not exist.
    #[error("audio device \"{0}\" not found")]
    NotFound(String),
    /// The device exists but could not be opened.
    #[error("audio device \"{name}\" could not be opened: {reason}")]
    Open {
        /// The device.
        name: String,
        /// What the system said.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("audio file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Why a source or sink moved to another device by itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "camelCase")]
pub enum DeviceChangeReason {
    /// The device in use went away or failed; the text says how.
    Lost(String),
    /// No device was chosen and the system default is another device now.
    DefaultChanged,
    /// The chosen device is back (or, after no device at all could be opened, one can again).
    Returned,
}

/// A source or sink moved to another device by itself, for the user to be told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceChange {
    /// The microphone (true) or the speaker (false).
    pub input: bool,
    /// The device that was in use; `None` when none was (no device could be opened).
    pub from: Option<String>,
    /// The device in use now; `None` when no device could be opened: that side is silent,
    /// the call goes on, and the device is tried again every second.
    pub to: Option<String>,
    /// Why.
    pub reason: DeviceChangeReason,
}

/// Where a call's outgoing sound comes from.
pub trait AudioSource: Send {
    /// Fills `frame` ([`FRAME`] samples) with the next 20 ms; silence when nothing is there.
    fn read(&mut self, frame: &mut [i16]);

    /// The oldest change of device not yet taken (see [`DeviceChange`]); `None` for sources
    /// whose device never changes by itself.
    fn device_change(&mut self) -> Option<DeviceChange> {
        None
    }
}

/// Where a call's incoming sound goes.
pub trait AudioSink: Send {
    /// Plays (or keeps) 20 ms of sound.
    fn write(&mut self, frame: &[i16]);

    /// The oldest change of device not yet taken (see [`DeviceChange`]); `None` for sinks
    /// whose device never changes by itself.
    fn device_change(&mut self) -> Option<DeviceChange> {
        None
    }
}

/// A family of audio devices: opens sources and sinks by name (`None` = the system default,
/// followed while it changes).
pub trait AudioIo: Send + Sync {
    /// Opens the microphone side.
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError>;
    /// Opens the speaker side.
    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError>;
    /// Names of the input devices.
    fn input_devices(&self) -> Vec<String>;
    /// Names of the output devices.
    fn output_devices(&self) -> Vec<String>;
}
