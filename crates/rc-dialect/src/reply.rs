//! Replying to a ringing call with a text, and the caller's answer (commands 14 and 9).

use crate::message::RcMessage;

/// Which way a "call you back" reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// I will call you.
    ToCaller,
    /// Call me.
    FromCaller,
}

/// The unit of a "call you back in N …" delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
}

/// A reply the callee sends instead of answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Free text, read to the caller.
    Text(String),
    /// "I will call you back in N units" (or "call me back").
    CallYouBack {
        /// Who calls whom.
        direction: Direction,
        /// How long.
        delay: u32,
        /// In what unit.
        unit: Unit,
    },
    /// "I am on my way."
    OnMyWay,
    /// "I am on the other line."
    OnOtherLine,
    /// "I will call you back later" (or "call me back later").
    CallYouBackLater(Direction),
    /// "I am in a meeting."
    InAMeeting,
    /// "I am on the other line, no call needed."
    OnOtherLineNoCall,
}

impl Reply {
    /// The body attributes of the command-14 message, after `Cln`, in the seed SDK's order.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let dir = |d: &Direction| match d {
            Direction::ToCaller => "0".to_owned(),
            Direction::FromCaller => "1".to_owned(),
        };
        match self {
            Reply::Text(text) => vec![("RepTp", "0".into()), ("Bdy", text.clone())],
            Reply::CallYouBack { direction, delay, unit } => vec![
                ("RepTp", "1".into()),
                ("Dir", dir(direction)),
                ("Vl", delay.to_string()),
                ("Units", (*unit as u8).to_string()),
            ],
            Reply::OnMyWay => vec![("RepTp", "2".into())],
            Reply::OnOtherLine => vec![("RepTp", "3".into())],
            Reply::CallYouBackLater(direction) => vec![("RepTp", "4".into()), ("Dir", dir(direction))],
            Reply::InAMeeting => vec![("RepTp", "5".into())],
            Reply::OnOtherLineNoCall => vec![("RepTp", "6".into())],
        }
    }
}

/// What the caller chose after hearing the reply (from the SessionClose message, command 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerResponse {
    /// True when the caller answered (`Sts="0"`).
    pub replied: bool,
    /// The caller's choice.
    pub choice: CallerChoice,
    /// The caller's number (`Phn`).
    pub number: String,
    /// The caller's name (`Nm`).
    pub name: String,
    /// The whole message, for fields not named here.
    pub message: RcMessage,
}

/// The key the caller pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerChoice {
    /// "Yes" (`Resp="1"`).
    Yes,
    /// "No" (`Resp="2"`).
    No,
    /// "Urgent, call me at" a number (`Resp="3"`, the number in `ExtNfo`).
    Urgent(String),
    /// Nothing, or something this version does not know.
    Other(String),
}

impl CallerResponse {
    /// Reads a SessionClose message.
    pub fn from_message(message: &RcMessage) -> CallerResponse {
        let attr = |k: &str| message.bdy(k).unwrap_or_default().to_owned();
        let choice = match message.bdy("Resp") {
            Some("1") => CallerChoice::Yes,
            Some("2") => CallerChoice::No,
            Some("3") => CallerChoice::Urgent(attr("ExtNfo")),
            other => CallerChoice::Other(other.unwrap_or_default().to_owned()),
        };
        CallerResponse { replied: attr("Sts") == "0", choice, number: attr("Phn"), name: attr("Nm"), message: message.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_seed_sdk() {
        let r = Reply::CallYouBack { direction: Direction::FromCaller, delay: 5, unit: Unit::Hours };
        assert_eq!(r.attributes(), vec![("RepTp", "1".into()), ("Dir", "1".into()), ("Vl", "5".into()), ("Units", "1".into())]);
        assert_eq!(Reply::CallYouBackLater(Direction::ToCaller).attributes(), vec![("RepTp", "4".into()), ("Dir", "0".into())]);
        assert_eq!(Reply::Text("soon".into()).attributes(), vec![("RepTp", "0".into()), ("Bdy", "soon".into())]);
        assert_eq!(Reply::OnOtherLineNoCall.attributes(), vec![("RepTp", "6".into())]);
    }

    #[test]
    fn reads_the_callers_answer() {
        let m = RcMessage::parse(r#"<Msg><Hdr SID="1" Cmd="9"/><Bdy Sts="0" Resp="3" ExtNfo="+15551234" Phn="+1650" Nm="Ann"/></Msg>"#).unwrap();
        let r = CallerResponse::from_message(&m);
        assert!(r.replied);
        assert_eq!(r.choice, CallerChoice::Urgent("+15551234".into()));
        assert_eq!((r.number.as_str(), r.name.as_str()), ("+1650", "Ann"));
    }
}
