//! RingCentral's XML control messages (`<Msg><Hdr …/><Bdy …/></Msg>`, attributes only).

use quick_xml::events::Event;
use quick_xml::Reader;
use std::fmt;

/// Command numbers of the `Cmd` attribute.
pub mod cmd {
    /// The server changed a message.
    pub const CHANGE_MESSAGE: u32 = 1;
    /// The server frees a session's resources.
    pub const SERVER_FREE_RESOURCES: u32 = 2;
    /// A new voicemail or fax.
    pub const NEW_MSG: u32 = 3;
    /// The client must log in again.
    pub const RE_LOGIN: u32 = 4;
    /// The extension's phones changed.
    pub const CHANGE_PHONES: u32 = 5;
    /// A call is coming in (sent in P-rc).
    pub const INCOMING_CALL: u32 = 6;
    /// Another device took the call.
    pub const ALREADY_PROCESSED: u32 = 7;
    /// The client should minimise.
    pub const CLIENT_MINIMIZE: u32 = 8;
    /// The reply session ended; the body has the caller's answer.
    pub const SESSION_CLOSE: u32 = 9;
    /// The callee forwards the call.
    pub const CLIENT_FORWARD: u32 = 10;
    /// The callee sends the call to voicemail.
    pub const CLIENT_VOICEMAIL: u32 = 11;
    /// The callee declines.
    pub const CLIENT_REJECT: u32 = 12;
    /// The callee starts typing a reply.
    pub const CLIENT_START_REPLY: u32 = 13;
    /// The callee replies with a text.
    pub const CLIENT_REPLY: u32 = 14;
    /// The client did not process the call.
    pub const CLIENT_NOT_PROCESSED: u32 = 15;
    /// The client closed.
    pub const CLIENT_CLOSED: u32 = 16;
    /// The callee's device confirms it got the call.
    pub const CLIENT_RECEIVE_CONFIRM: u32 = 17;
}

/// One control message: header and body attributes in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RcMessage {
    /// `Hdr` attributes (SID, Req, From, To, Cmd).
    pub hdr: Vec<(String, String)>,
    /// `Bdy` attributes.
    pub bdy: Vec<(String, String)>,
}

/// Why an XML control message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RcMessageError {
    /// The XML is malformed.
    #[error("malformed RingCentral XML message: {0}")]
    Xml(String),
    /// There is no `Msg` with a `Hdr`.
    #[error("RingCentral XML message without Msg/Hdr")]
    MissingHdr,
}

impl RcMessage {
    /// Parses the XML (a leading `P-rc: ` is tolerated, as the SDK does).
    pub fn parse(text: &str) -> Result<RcMessage, RcMessageError> {
        let text = text.trim().trim_start_matches("P-rc: ");
        let mut reader = Reader::from_str(text);
        let mut msg = RcMessage::default();
        let mut saw_hdr = false;
        loop {
            match reader.read_event().map_err(|e| RcMessageError::Xml(e.to_string()))? {
                Event::Start(e) | Event::Empty(e) => {
                    let target = match e.name().as_ref() {
                        "Hdr" => {
                            saw_hdr = true;
                            &mut msg.hdr
                        }
                        "Bdy" => &mut msg.bdy,
                        _ => continue,
                    };
                    for attr in e.attributes() {
                        let attr = attr.map_err(|e| RcMessageError::Xml(e.to_string()))?;
                        let key = attr.key.as_ref().to_owned();
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| RcMessageError::Xml(e.to_string()))?
                            .into_owned();
                        target.push((key, value));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if saw_hdr {
            Ok(msg)
        } else {
            Err(RcMessageError::MissingHdr)
        }
    }

    /// A header attribute.
    pub fn hdr(&self, name: &str) -> Option<&str> {
        self.hdr.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A body attribute.
    pub fn bdy(&self, name: &str) -> Option<&str> {
        self.bdy.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The command number.
    pub fn cmd(&self) -> Option<u32> {
        self.hdr("Cmd").and_then(|c| c.parse().ok())
    }

    /// The message a client sends about the call this one announced: same SID and Req, From
    /// and To swapped, command `cmd`, body `Cln` then `attrs` (in the seed SDK's order).
    pub fn client_reply(&self, cmd: u32, cln: &str, attrs: &[(&str, String)]) -> RcMessage {
        let get = |k: &str| self.hdr(k).unwrap_or_default().to_owned();
        let hdr = vec![
            ("SID".to_owned(), get("SID")),
            ("Req".to_owned(), get("Req")),
            ("From".to_owned(), get("To")),
            ("To".to_owned(), get("From")),
            ("Cmd".to_owned(), cmd.to_string()),
        ];
        let mut bdy = vec![("Cln".to_owned(), cln.to_owned())];
        bdy.extend(attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        RcMessage { hdr, bdy }
    }
}

/// Escapes an attribute value; tabs and line breaks become character references, which XML
/// keeps as they are (written raw, a reader would turn them into spaces, and the line would break).
fn escape_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(": ", "&#58; ")
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

fn write_attrs(f: &mut fmt::Formatter<'_>, attrs: &[(String, String)]) -> fmt::Result {
    for (k, v) in attrs {
        write!(f, " {k}=\"{}\"", escape_attr(v))?;
    }
    Ok(())
}

impl fmt::Display for RcMessage {
    /// The XML on one line, with no `": "` anywhere (the seed SDK splits header lines there).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<Msg><Hdr")?;
        write_attrs(f, &self.hdr)?;
        f.write_str("/><Bdy")?;
        write_attrs(f, &self.bdy)?;
        f.write_str("/></Msg>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ringcentral_p_rc() {
        let text = r##"<Msg><Hdr SID="35464233129848" Req="{A-B}" From="#996016@sip.ringcentral.com:5060" To="16504223279*115" Cmd="6"/><Bdy SrvLvl="-149699523" Phn="+16506666666" Nm="WIRELESS CALLER" RecUrl=""/></Msg>"##;
        let m = RcMessage::parse(text).unwrap();
        assert_eq!(m.cmd(), Some(6));
        assert_eq!(m.hdr("From"), Some("#996016@sip.ringcentral.com:5060"));
        assert_eq!(m.bdy("Nm"), Some("WIRELESS CALLER"));
        assert_eq!(m.bdy("RecUrl"), Some(""));
        assert_eq!(RcMessage::parse(&m.to_string()).unwrap(), m);
    }

    #[test]
    fn escapes_and_rejects() {
        let m = RcMessage {
            hdr: vec![("Cmd".into(), "14".into())],
            bdy: vec![("Bdy".into(), "a \"quote\" & <tag>: yes".into())],
        };
        let text = m.to_string();
        assert!(!text.contains(": "), "{text}");
        assert_eq!(RcMessage::parse(&text).unwrap(), m);
        assert_eq!(RcMessage::parse("<Msg/>"), Err(RcMessageError::MissingHdr));
        assert!(matches!(RcMessage::parse("<Msg><Hdr Cmd=1/></Msg>"), Err(RcMessageError::Xml(_))));
    }

    #[test]
    fn line_breaks_in_values_stay_on_one_line_and_round_trip() {
        // Found by the corpus of the `message` fuzz target (`nested-spaced.xml`): a value read
        // from `&#10;` was written as a raw line break, which broke the line and read back as a space.
        let m = RcMessage::parse("<Msg><Hdr Cmd=\"4\"/><Bdy Nm=\"line&#10;break&#9;tab&#13;\"/></Msg>").unwrap();
        assert_eq!(m.bdy("Nm"), Some("line\nbreak\ttab\r"));
        let text = m.to_string();
        assert!(!text.contains(['\n', '\r', '\t']), "{text:?}");
        assert_eq!(RcMessage::parse(&text).unwrap(), m);
    }
}
