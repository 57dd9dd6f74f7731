//! The small SDP edits signalling needs: direction for hold, the `o=` version for re-offers.
//!
//! Media negotiation itself belongs to the WebRTC stack; these are text edits on a description
//! it produced, the way the seed SDK makes its hold offers. They live in `media::sdp` (with
//! the edits our answers need) and are re-exported here for the core.

pub use media::sdp::{direction, origin_version, with_direction, with_origin_version};
