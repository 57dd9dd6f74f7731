//! A thin SIP-over-WSS client for rc-sim's tests: raw messages, no hidden behaviour.
#![allow(dead_code)]

pub mod https;
#[path = "../../../webphone/tests/common/poll.rs"]
pub mod poll;
pub mod seed;

#[allow(unused_imports)] // not every test file polls
pub use poll::Poll;

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rc_sim::{Handle, SipInfo};
use sip::auth::DigestClient;
use sip::builder::{self, LocalEndpoint, Registration, RequestParts};
use sip::{HeaderName, Message, Method, NameAddr, Request, Response, SipUri, Uri, WithBody};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// How long a test waits for any expected message.
pub const WAIT: Duration = Duration::from_secs(5);

/// A real WebRTC offer (rc-sim's media ports answer it), made by a throwaway peer: these
/// tests exercise signalling, so no media ever connects.
pub async fn sdp_offer() -> String {
    let (peer, _events) = media::AudioPeer::new(&media::PeerConfig::default()).await.expect("peer");
    let offer = peer.create_offer().await.expect("offer");
    peer.close().await;
    offer
}

/// A real WebRTC answer to `offer` (an offer from rc-sim's media port).
pub async fn sdp_answer(offer: &[u8]) -> String {
    let (peer, _events) = media::AudioPeer::new(&media::PeerConfig::default()).await.expect("peer");
    let answer = peer.answer(&String::from_utf8_lossy(offer)).await.expect("answer");
    peer.close().await;
    answer
}

/// Starts rc-sim with the demo accounts on loopback.
pub async fn server() -> Handle {
    rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.expect("rc-sim starts")
}

/// Opens a WebSocket to `addr`, trusting `ca_pem`, offering `protocol`.
pub async fn open_ws(addr: std::net::SocketAddr, ca_pem: &str, protocol: Option<&str>) -> Result<WebSocketStream<TlsStream<TcpStream>>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(rc_sim::tls::client_config(ca_pem).unwrap());
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
    let mut request = format!("wss://{addr}").into_client_request().unwrap();
    if let Some(p) = protocol {
        request.headers_mut().insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::client_async(request, tls).await.map_err(|e| e.to_string())?;
    Ok(ws)
}

/// One client device.
pub struct Client {
    ws: WebSocketStream<TlsStream<TcpStream>>,
    pub info: SipInfo,
    pub local: LocalEndpoint,
    pub rng: StdRng,
    pub instance: String,
    cseq: u32,
    /// The SDP offer this device's INVITEs carry.
    pub offer: String,
}

impl Client {
    /// Connects as extension `number` to the primary listener.
    pub async fn connect(handle: &Handle, number: &str, instance: &str) -> Client {
        let info = handle.sip_info(number).expect("known extension");
        let ws = open_ws(handle.primary, &handle.ca_pem, Some("sip")).await.expect("WebSocket opens");
        let mut rng = StdRng::seed_from_u64(instance.bytes().map(u64::from).sum());
        let local = LocalEndpoint::random_ws(&mut rng, true, Some("rc-sim-test"));
        Client { ws, info, local, rng, instance: instance.to_owned(), cseq: 100, offer: sdp_offer().await }
    }

    /// Sends a message.
    pub async fn send(&mut self, msg: impl Into<Message>) {
        let text = msg.into().to_string();
        self.ws.send(WsMessage::text(text)).await.expect("send");
    }

    /// Sends raw text.
    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(WsMessage::text(text.to_owned())).await.expect("send");
    }

    /// The next SIP message, or a panic naming what was awaited.
    pub async fn recv(&mut self, what: &str) -> Message {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next()).await;
            let frame = frame.unwrap_or_else(|_| panic!("{} waited {WAIT:?} for {what}", self.info.username));
            match frame {
                Some(Ok(WsMessage::Text(t))) => {
                    return Message::parse(t.as_bytes()).unwrap_or_else(|e| panic!("rc-sim sent unparsable SIP ({e}):\n{t}"))
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                other => panic!("{} expected {what}, got {other:?}", self.info.username),
            }
        }
    }

    /// The next response, skipping 100 Trying.
    pub async fn response(&mut self, what: &str) -> Response {
        loop {
            match self.recv(what).await {
                Message::Response(r) if r.status == 100 => continue,
                Message::Response(r) => return r,
                Message::Request(r) => panic!("expected {what}, got request {}", r.method),
            }
        }
    }

    /// The next request.
    pub async fn request(&mut self, what: &str) -> Request {
        match self.recv(what).await {
            Message::Request(r) => r,
            Message::Response(r) => panic!("expected {what}, got response {} {}", r.status, r.reason),
        }
    }

    /// Waits until the server closes the connection; SIP messages before that are an error.
    pub async fn expect_closed(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.expect("the server closes the connection") {
                None | Some(Ok(WsMessage::Close(_))) | Some(Err(_)) => return,
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                Some(Ok(other)) => panic!("expected the connection to close, got {other:?}"),
            }
        }
    }

    /// True if nothing arrives within `d`.
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.ws.next()).await.is_err()
    }

    fn aor(&self) -> NameAddr {
        NameAddr::new(SipUri::new(Some(&self.info.username), &self.info.domain))
    }

    /// A REGISTER for this device.
    pub fn register_request(&mut self, expires: u32) -> Request {
        self.cseq += 1;
        let aor = self.aor();
        let reg = Registration {
            registrar: SipUri::new(None, &self.info.domain),
            aor: &aor,
            call_id: &format!("reg-{}", self.instance),
            cseq: self.cseq,
            expires,
            instance_id: Some(&self.instance),
        };
        builder::register(&self.local, reg, &mut self.rng)
    }

    /// Registers with digest authentication; returns the final response.
    pub async fn register_with(&mut self, password: &str, expires: u32) -> Response {
        let req = self.register_request(expires);
        self.send(req.clone()).await;
        let challenge = self.response("401 to REGISTER").await;
        assert_eq!(challenge.status, 401, "REGISTER must be challenged");
        let mut auth = DigestClient::new(&self.info.authorization_id, password);
        auth.handle_challenge(&challenge).expect("a usable challenge");
        let mut retry = self.register_request(expires);
        auth.authorize(&mut retry, &format!("sip:{}", self.info.domain), "cnonce");
        self.send(retry).await;
        self.response("final response to REGISTER").await
    }

    /// Registers with the right password and checks the 200.
    pub async fn register(&mut self) -> Response {
        let password = self.info.password.clone();
        let ok = self.register_with(&password, 60).await;
        assert_eq!(ok.status, 200, "registration failed: {} {}", ok.status, ok.reason);
        ok
    }

    /// An INVITE from this device to `target` with an SDP offer.
    pub fn invite_request(&mut self, target: &str, call_id: &str) -> Request {
        self.cseq += 1;
        let tag = builder::new_tag(&mut self.rng);
        let parts = RequestParts {
            method: Method::Invite,
            uri: Uri::Sip(SipUri::new(Some(target), &self.info.domain)),
            from: self.aor().with_param("tag", Some(&tag)),
            to: NameAddr::new(SipUri::new(Some(target), &self.info.domain)),
            call_id: call_id.to_owned(),
            cseq: self.cseq,
        };
        let mut r = builder::request(&self.local, parts, &mut self.rng);
        r.set_body("application/sdp", self.offer.clone());
        r
    }

    /// Sends an INVITE, answers the 407 and returns the authorised INVITE that was sent.
    pub async fn call(&mut self, target: &str, call_id: &str) -> Request {
        let first = self.invite_request(target, call_id);
        self.send(first.clone()).await;
        let challenge = self.response("407 to INVITE").await;
        assert_eq!(challenge.status, 407, "INVITE must be challenged: {} {}", challenge.status, challenge.reason);
        let mut ack = builder::cancel(&first);
        ack.method = Method::Ack;
        ack.headers.set(HeaderName::CSeq, format!("{} ACK", first.headers.cseq().unwrap().seq));
        ack.headers.set(HeaderName::To, challenge.headers.get(HeaderName::To).unwrap());
        self.send(ack).await;
        let mut auth = DigestClient::new(&self.info.authorization_id, &self.info.password.clone());
        auth.handle_challenge(&challenge).unwrap();
        let mut retry = self.invite_request(target, call_id);
        retry.headers.set(HeaderName::From, first.headers.get(HeaderName::From).unwrap());
        auth.authorize(&mut retry, &format!("sip:{}", self.info.domain), "cnonce");
        self.send(retry.clone()).await;
        retry
    }

    /// Answers a request with `status` (To tag added where missing).
    pub async fn reply(&mut self, req: &Request, status: u16, tag: &str) -> Response {
        let resp = builder::response(req, status, Some(tag));
        self.send(resp.clone()).await;
        resp
    }
}
