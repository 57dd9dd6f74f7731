//! The JSON call-control bodies carried by `INFO` in a call (`application/json;charset=utf-8`).
//!
//! The client asks with `{"request":{"reqid":N,"command":"…",…}}`; the server answers the INFO
//! with 200 and later sends its own INFO with `{"response":{"reqid":N,"command":"…","result":{…}}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The Content-Type of the JSON bodies.
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// A call-control command a client can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start recording the call (`startcallrecord`).
    StartRecording,
    /// Stop recording the call (`stopcallrecord`).
    StopRecording,
    /// Move the call to another of the user's numbers (`callflip`).
    Flip {
        /// The number to flip to.
        target: String,
    },
    /// Park the call (`callpark`).
    Park,
}

impl Command {
    /// The wire name of the command.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartRecording => "startcallrecord",
            Command::StopRecording => "stopcallrecord",
            Command::Flip { .. } => "callflip",
            Command::Park => "callpark",
        }
    }

    /// The request body for request number `reqid`.
    pub fn to_body(&self, reqid: u32) -> String {
        let mut request = Map::new();
        request.insert("reqid".into(), reqid.into());
        request.insert("command".into(), self.name().into());
        if let Command::Flip { target } = self {
            request.insert("target".into(), target.clone().into());
        }
        serde_json::json!({ "request": request }).to_string()
    }
}

/// A client's request as the server reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Request {
    /// Request number (kept as sent: the server echoes it).
    #[serde(default)]
    pub reqid: Value,
    /// Command name.
    #[serde(default)]
    pub command: String,
    /// The flip target, if any.
    #[serde(default)]
    pub target: Option<String>,
}

/// The outcome the server reports: `code` 0 is success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResult {
    /// 0 for success.
    pub code: i64,
    /// Human-readable outcome.
    #[serde(default)]
    pub description: String,
    /// Every other field of the result (`number`, `target`, `park extension`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CommandResult {
    /// A result with `code` and `description` and no other fields.
    pub fn new(code: i64, description: &str) -> Self {
        CommandResult { code, description: description.to_owned(), extra: Map::new() }
    }

    /// The same result with one more field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// True when `code` is 0.
    pub fn succeeded(&self) -> bool {
        self.code == 0
    }

    /// The park orbit of a successful `callpark` (`"park extension"`).
    pub fn park_extension(&self) -> Option<&str> {
        self.extra.get("park extension").and_then(Value::as_str)
    }
}

/// The server's answer as the client reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The request number it answers.
    pub reqid: Value,
    /// The command it answers.
    pub command: String,
    /// The outcome.
    pub result: CommandResult,
}

impl Response {
    /// The response body for the server to send.
    pub fn to_body(&self) -> String {
        serde_json::json!({ "response": self }).to_string()
    }

    /// True when this answers request `reqid` of `command`.
    pub fn answers(&self, reqid: u32, command: &str) -> bool {
        self.reqid.as_u64() == Some(u64::from(reqid)) && self.command == command
    }
}

/// A change the server reports on its own, not as the answer to a request of ours:
/// `{"status":{"command":"stopcallrecord","reqid":0,"result":{…}}}` (e.g. the recording
/// stopped because the call was parked; ringcentral-web-phone #339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The command whose state changed.
    pub command: String,
    /// Request number (0: no request of ours).
    #[serde(default)]
    pub reqid: Value,
    /// The outcome, when given.
    #[serde(default)]
    pub result: Option<CommandResult>,
}

impl Status {
    /// The body for the server to send.
    pub fn to_body(&self) -> String {
        serde_json::json!({ "status": self }).to_string()
    }
}

/// What an INFO body holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A client's request.
    Request(Request),
    /// A server's response.
    Response(Response),
    /// A server's unsolicited status.
    Status(Status),
}

/// Why an INFO body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The body is not JSON.
    #[error("call-control body is not JSON: {0}")]
    Json(String),
    /// The JSON has none of `request`, `response` and `status`.
    #[error("call-control body has none of \"request\", \"response\" and \"status\"")]
    Shape,
}

/// Reads an INFO body.
pub fn parse(body: &[u8]) -> Result<Body, ControlError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| ControlError::Json(e.to_string()))?;
    let bad = |e: serde_json::Error| ControlError::Json(e.to_string());
    if let Some(r) = json.get("response") {
        return Ok(Body::Response(serde_json::from_value(r.clone()).map_err(bad)?));
    }
    if let Some(r) = json.get("request") {
        return Ok(Body::Request(serde_json::from_value(r.clone()).map_err(bad)?));
    }
    if let Some(s) = json.get("status") {
        return Ok(Body::Status(serde_json::from_value(s.clone()).map_err(bad)?));
    }
    Err(ControlError::Shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_round_trip() {
        let body = Command::Flip { target: "16506668888".into() }.to_body(3);
        assert_eq!(body, r#"{"request":{"command":"callflip","reqid":3,"target":"16506668888"}}"#);
        let Body::Request(r) = parse(body.as_bytes()).unwrap() else { panic!() };
        assert_eq!((r.reqid.as_u64(), r.command.as_str(), r.target.as_deref()), (Some(3), "callflip", Some("16506668888")));

        let text = r#"{"response":{"reqid":2,"command":"callpark","result":{"code":0,"description":"Succeeded","park extension":"813"}}}"#;
        let Body::Response(resp) = parse(text.as_bytes()).unwrap() else { panic!() };
        assert!(resp.answers(2, "callpark") && !resp.answers(1, "callpark"));
        assert_eq!(resp.result.park_extension(), Some("813"));
        assert_eq!(parse(resp.to_body().as_bytes()).unwrap(), Body::Response(resp));
    }

    #[test]
    fn an_unsolicited_status_is_read() {
        // The shape of the INFO in ringcentral-web-phone #339 (pretty-printed, spaces before colons).
        let text = "{\n  \"status\" : {\n    \"command\" : \"stopcallrecord\",\n    \"reqid\" : 0,\n    \"result\" : {\n      \"code\" : 0,\n      \"description\" : \"Succeeded\"\n    }\n  }\n}";
        let Body::Status(status) = parse(text.as_bytes()).unwrap() else { panic!("a status") };
        assert_eq!((status.command.as_str(), status.reqid.as_u64()), ("stopcallrecord", Some(0)));
        assert!(status.result.as_ref().is_some_and(CommandResult::succeeded));
        assert_eq!(parse(status.to_body().as_bytes()).unwrap(), Body::Status(status));
    }

    #[test]
    fn rejects_other_shapes() {
        assert_eq!(parse(b"{}"), Err(ControlError::Shape));
        assert!(matches!(parse(b"{"), Err(ControlError::Json(_))));
        assert!(matches!(parse(br#"{"response":{"reqid":1}}"#), Err(ControlError::Json(_))));
    }
}
