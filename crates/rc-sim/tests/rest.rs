//! The REST API (`docs/rest-api.md`) over real HTTPS on loopback: sign-in (PKCE with the test
//! as the browser, JWT), refresh, expiry, revocation, sip-provision, phone numbers, injected
//! faults, and a three-party conference made with conference + bring-in, with audio checked
//! each way.

mod common;

use common::https::{self, api, jwt_sign_in, post_form, request};
use common::{Client, Poll};
use media::probe::collect_audio;
use media::tone::{goertzel, Tone};
use media::{AudioPeer, MediaEvent, PeerConfig};
use rc_sim::config::OAuthSettings;
use sip::{builder, Method, Request, Response, WithBody};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const NUMBERS: &str = "/restapi/v1.0/account/~/extension/~/phone-number";
const PROVISION: &str = "/restapi/v1.0/client-info/sip-provision";
const CONFERENCE: &str = "/restapi/v1.0/account/~/telephony/conference";
const VERIFIER: &str = "Rc-sim-test-verifier_0123456789-abcdefghijklmnopqrstuvwxyz";

async fn server_with(config: rc_sim::Config) -> rc_sim::Handle {
    rc_sim::start(rc_sim::ServerOptions::loopback(config)).await.expect("rc-sim starts")
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The hidden inputs of the sign-in form, as the browser would post them.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|tag| {
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let v = &tag[start..];
                v[..v.find('"').unwrap()].replace("&amp;", "&").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'")
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

/// The app's loopback redirect listener: the query of the one request the browser sends it.
async fn redirect_target() -> (u16, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 8192];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "the browser's request ends");
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nSigned in.\n").await.unwrap();
        let line = String::from_utf8_lossy(&got).lines().next().unwrap().to_owned();
        line.split(' ').nth(1).unwrap().to_owned()
    });
    (port, task)
}

/// The browser follows a `Location` to the app's plain-HTTP loopback listener.
async fn follow(location: &str) -> u16 {
    let rest = location.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(authority).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    https::parse_response(&raw).status
}

#[tokio::test]
async fn pkce_sign_in_with_the_test_as_the_browser() {
    let sim = common::server().await;
    assert!(sim.rest_url().starts_with("https://127.0.0.1:"));
    let (port, app) = redirect_target().await;
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let authorize = rc_sim::oauth::with_query(
        "/restapi/oauth/authorize",
        &[
            ("response_type", Some("code")),
            ("client_id", Some(OAuthSettings::DEMO_PUBLIC_CLIENT)),
            ("redirect_uri", Some(&redirect_uri)),
            ("state", Some("st&te")),
            ("code_challenge", Some(&rc_sim::oauth::s256(VERIFIER))),
            ("code_challenge_method", Some("S256")),
        ],
    );
    let page = request(&sim, "GET", &authorize, &[], b"").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let page = page.text();
    assert!(page.contains("<form method=\"post\" action=\"/restapi/oauth/authorize\">") && page.contains("name=\"password\""), "{page}");
    let fields = hidden_fields(&page);
    assert_eq!(param(&fields, "state"), Some("st&te"), "the query comes back as hidden fields: {fields:?}");
    let post = |user: &str, pass: &str| {
        let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.push(("username", user));
        pairs.push(("password", pass));
        https::form(&pairs)
    };
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let denied = request(&sim, "POST", "/restapi/oauth/authorize", &form, &post("101", "demo-101-password")).await;
    assert_eq!(denied.status, 302, "the SIP password is not the login password");
    let back = query_of(denied.header("location").unwrap());
    assert_eq!((param(&back, "error"), param(&back, "state")), (Some("access_denied"), Some("st&te")));

    let signed_in = request(&sim, "POST", "/restapi/oauth/authorize", &form, &post("+16505550101", "demo-101-login")).await;
    assert_eq!(signed_in.status, 302);
    let location = signed_in.header("location").unwrap().to_owned();
    assert!(location.starts_with(&redirect_uri), "{location}");
    assert_eq!(follow(&location).await, 200);
    let got = query_of(&app.await.unwrap());
    let code = param(&got, "code").expect("a code").to_owned();
    assert_eq!(param(&got, "state"), Some("st&te"));

    let exchange = |code: String, verifier: &'static str| {
        let (sim, redirect_uri) = (sim.clone(), redirect_uri.clone());
        async move {
            let pairs = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", &redirect_uri), ("code_verifier", verifier), ("client_id", OAuthSettings::DEMO_PUBLIC_CLIENT)];
            post_form(&sim, "/restapi/oauth/token", &[], &pairs).await
        }
    };
    let tokens = exchange(code.clone(), VERIFIER).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let t = tokens.json();
    assert_eq!((t["token_type"].as_str(), t["expires_in"].as_u64(), t["refresh_token_expires_in"].as_u64()), (Some("bearer"), Some(3600), Some(604_800)));
    assert!(t["refresh_token"].is_string() && t["scope"].as_str().unwrap().contains("VoipCalling") && t["owner_id"].is_string() && t["endpoint_id"].is_string(), "{t}");
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let numbers = api(&sim, "GET", NUMBERS, t["access_token"].as_str().unwrap(), "").await;
    assert_eq!(numbers.status, 200);

    let again = exchange(code, VERIFIER).await;
    assert_eq!((again.status, again.json()["error"].as_str()), (400, Some("invalid_grant")), "a code is single-use");
    let after_reuse = api(&sim, "GET", NUMBERS, t["access_token"].as_str().unwrap(), "").await;
    assert_eq!(after_reuse.json()["errorCode"], "TokenInvalid", "a code used twice ends what it gave");

    // A fresh code with the wrong verifier is refused.
    let signed_in = request(&sim, "POST", "/restapi/oauth/authorize", &form, &post("101", "demo-101-login")).await;
    let code = param(&query_of(signed_in.header("location").unwrap()), "code").unwrap().to_owned();
    let wrong = exchange(code, "Another-verifier-of-enough-length-0123456789abcdef").await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (400, Some("invalid_grant")));
    assert!(wrong.json()["error_description"].as_str().unwrap().contains("code_verifier"));

    // A page for a redirect URI that is not the app's, never a redirect there.
    let evil = authorize.replace(&format!("127.0.0.1%3A{port}"), "evil.example");
    let refused = request(&sim, "GET", &evil, &[], b"").await;
    assert_eq!(refused.status, 400);
    assert!(refused.header("location").is_none() && refused.text().contains("not registered"));
    let not_form = request(&sim, "POST", "/restapi/oauth/token", &[("Content-Type", "application/json")], b"{}").await;
    assert_eq!(not_form.status, 415);
}

#[tokio::test]
async fn jwt_refresh_rotation_expiry_and_revocation() {
    let mut config = rc_sim::Config::demo();
    config.oauth.access_token_lifetime_secs = 1;
    let sim = server_with(config).await;
    let basic = https::demo_basic();
    let bad = post_form(&sim, "/restapi/oauth/token", &[("Authorization", &basic)], &[("grant_type", rc_sim::oauth::JWT_GRANT), ("assertion", "eyJ.not.ours")]).await;
    assert_eq!((bad.status, bad.json()["error"].as_str()), (400, Some("invalid_grant")));
    let wrong_secret = post_form(&sim, "/restapi/oauth/token", &[("Authorization", "Basic cmMtc2ltLXNlcnZlci1hcHA6bm8=")], &[("grant_type", "refresh_token"), ("refresh_token", "x")]).await;
    assert_eq!((wrong_secret.status, wrong_secret.json()["error"].as_str()), (401, Some("invalid_client")));

    let first = jwt_sign_in(&sim, 1).await;
    assert_eq!(first["expires_in"], 1);
    let access = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api(&sim, "GET", NUMBERS, &access, "").await.status, 200);
    // The running server keeps real time: ask until the token has run out (see
    // `common::poll`). Valid until then, as just seen; a token that never ran out fails here.
    let mut poll = Poll::new("the 1 s access token to expire").every(Duration::from_millis(100));
    let expired = loop {
        let answer = api(&sim, "GET", NUMBERS, &access, "").await;
        if answer.status != 200 {
            break answer;
        }
        poll.again().await;
    };
    assert_eq!((expired.status, expired.json()["errorCode"].as_str()), (401, Some("TokenExpired")));
    assert_eq!(expired.json()["message"], "Access token expired");

    let refresh = |token: String| {
        let (sim, basic) = (sim.clone(), basic.clone());
        async move { post_form(&sim, "/restapi/oauth/token", &[("Authorization", &basic)], &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await }
    };
    let second = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let second = second.json();
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_eq!(second["owner_id"], first["owner_id"]);
    let access = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api(&sim, "GET", NUMBERS, &access, "").await.status, 200);
    let reused = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!((reused.status, reused.json()["error"].as_str()), (400, Some("invalid_grant")), "the old refresh token is spent");

    let revoked = post_form(&sim, "/restapi/oauth/revoke", &[("Authorization", &basic)], &[("token", &access)]).await;
    assert_eq!(revoked.status, 200);
    let after = api(&sim, "GET", NUMBERS, &access, "").await;
    assert_eq!((after.status, after.json()["errorCode"].as_str()), (401, Some("TokenInvalid")));
    let refresh_after = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refresh_after.json()["error"], "invalid_grant", "the session's refresh token went with it");
    let none = api(&sim, "GET", NUMBERS, "", "").await;
    assert_eq!((none.status, none.json()["errorCode"].as_str()), (401, Some("TokenInvalid")));
}

#[tokio::test]
async fn sip_provision_and_phone_numbers() {
    let sim = common::server().await;
    let token = jwt_sign_in(&sim, 0).await["access_token"].as_str().unwrap().to_owned();
    let provision = api(&sim, "POST", PROVISION, &token, r#"{"sipInfo":[{"transport":"WSS"}]}"#).await;
    assert_eq!(provision.status, 200, "{}", provision.text());
    let body = provision.json();
    assert!(body["sipFlags"].is_object() && body["device"]["id"].is_string(), "{body}");
    let info = rc_sim::SipInfo::from_json(&provision.text()).expect("rc-dialect reads the whole answer");
    assert_eq!(info, sim.sip_info("101").unwrap(), "the same sipInfo Handle::sip_info gives");
    assert_eq!(body["sipInfo"][0]["outboundProxy"], sim.primary.to_string());
    assert_eq!(api(&sim, "POST", PROVISION, &token, r#"{"sipInfo":[{"transport":"UDP"}]}"#).await.status, 400);
    assert_eq!(api(&sim, "POST", PROVISION, &token, "{not json").await.status, 400);

    let numbers = api(&sim, "GET", NUMBERS, &token, "").await.json();
    let records = numbers["records"].as_array().unwrap();
    let caller_ids: Vec<&str> = records.iter().filter(|r| r["features"].as_array().unwrap().iter().any(|f| f == "CallerId")).map(|r| r["phoneNumber"].as_str().unwrap()).collect();
    assert_eq!(caller_ids, ["+16505550101", "+16505550100"]);
    let company = records.iter().find(|r| r["phoneNumber"] == "+16505550100").unwrap();
    assert_eq!((company["usageType"].as_str(), company["type"].as_str()), (Some("CompanyNumber"), Some("VoiceFax")));
    let fax = records.iter().find(|r| r["type"] == "FaxOnly").expect("a fax-only number");
    assert!(fax["id"].is_string() && fax["usageType"] == "DirectNumber", "{fax}");
    assert_eq!(numbers["paging"]["totalElements"], 3);
    assert_eq!(api(&sim, "GET", "/restapi/v1.0/account/~/extension/~/nothing", &token, "").await.json()["errorCode"], "CMN-102");
}

#[tokio::test]
async fn injected_rate_limit_and_outage_through_the_admin_api() {
    let sim = common::server().await;
    let admin = rc_sim::admin::start(([127, 0, 0, 1], 0).into(), sim.clone()).await.unwrap();
    let faults = |json: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(admin).await.unwrap();
        let req = format!("POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{json}", json.len());
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        assert_eq!(https::parse_response(&out).status, 200);
    };
    let token = jwt_sign_in(&sim, 0).await["access_token"].as_str().unwrap().to_owned();
    faults(r#"{"restRateLimit": 7}"#).await;
    let limited = api(&sim, "GET", NUMBERS, &token, "").await;
    assert_eq!((limited.status, limited.header("retry-after")), (429, Some("7")));
    assert_eq!(limited.json()["errorCode"], "CMN-301");
    assert_eq!(api(&sim, "POST", CONFERENCE, &token, "").await.status, 429, "every API call while set");
    assert_eq!(jwt_sign_in(&sim, 0).await["token_type"], "bearer", "sign-in is not rate limited");
    faults(r#"{"rest5xx": true}"#).await;
    let down = api(&sim, "GET", NUMBERS, &token, "").await;
    assert_eq!((down.status, down.json()["errorCode"].as_str()), (503, Some("CMN-211")));
    sim.set_faults(rc_sim::core::Faults::default());
    assert_eq!(api(&sim, "GET", NUMBERS, &token, "").await.status, 200, "the Handle clears them too, in order");
}

#[tokio::test]
async fn malformed_http_gets_a_clear_4xx() {
    let sim = common::server().await;
    let big = vec![b'x'; rc_sim::rest::MAX_BODY + 1];
    let too_big = request(&sim, "POST", "/restapi/oauth/token", &[("Content-Type", "application/x-www-form-urlencoded")], &big).await;
    assert_eq!(too_big.status, 413);
    assert!(too_big.json()["message"].as_str().unwrap().contains("bytes"));
    let chunked = request(&sim, "POST", "/restapi/oauth/token", &[("Transfer-Encoding", "chunked")], b"").await;
    assert_eq!(chunked.status, 501);
    assert_eq!(request(&sim, "GET", "/restapi/oauth/token", &[], b"").await.status, 405);
    assert_eq!(request(&sim, "GET", "/", &[], b"").await.status, 404);
}

// ---- The conference: SIP and media ---------------------------------------------------------

/// A WebRTC peer of a test client, with its decoded audio.
struct Peer {
    peer: Arc<AudioPeer>,
    events: mpsc::UnboundedReceiver<MediaEvent>,
}

impl Peer {
    async fn new() -> Peer {
        let (peer, events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
        Peer { peer: Arc::new(peer), events }
    }

    /// Plays `freq` until the task is dropped.
    fn play(&self, freq: f64) -> tokio::task::JoinHandle<()> {
        let peer = self.peer.clone();
        tokio::spawn(async move {
            let mut tone = Tone::new(freq, 48_000, 6000);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                let _ = peer.send_pcm(&tone.next_frame(960)).await;
            }
        })
    }

    /// Fresh audio: what is queued is skipped, then 0.1 s is dropped and 0.5 s kept.
    async fn listen(&mut self) -> Vec<i16> {
        while self.events.try_recv().is_ok() {}
        let _ = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut self.events, 4_800)).await.expect("audio flows");
        tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut self.events, 24_000)).await.expect("audio flows").unwrap()
    }
}

/// `heard` holds each of `present` clearly above every one of `absent`.
fn assert_hears(who: &str, heard: &[i16], present: &[f64], absent: &[f64]) {
    let power = |f: f64| goertzel(heard, f, 48_000);
    let loudest_absent = absent.iter().map(|f| power(*f)).fold(0.0, f64::max).max(1e-9);
    for f in present {
        assert!(power(*f) > 10.0 * loudest_absent, "{who} should hear {f} Hz: {:.3e} vs {:.3e} for the loudest of {absent:?}", power(*f), loudest_absent);
    }
}

fn api_ids(value: &str) -> (String, String) {
    let ids = rc_dialect::headers::ApiIds::parse(value);
    (ids.session_id.expect("session-id"), ids.party_id.expect("party-id"))
}

/// `client` calls `target` offering `peer`'s SDP; the 200 (its answer set on the peer) after
/// any 18x, and the ACK sent.
async fn call_and_connect(client: &mut Client, peer: &Peer, target: &str, call_id: &str) -> (Request, Response) {
    client.offer = peer.peer.create_offer().await.unwrap();
    let sent = client.call(target, call_id).await;
    let ok = loop {
        let r = client.response("the call's answer").await;
        match r.status {
            180..=183 => continue,
            _ => break r,
        }
    };
    assert_eq!(ok.status, 200, "{} {}", ok.status, ok.reason);
    peer.peer.set_answer(&String::from_utf8_lossy(&ok.body)).await.unwrap();
    let dialog = sip::Dialog::from_uac(&sent, &ok).unwrap();
    let ack = dialog.ack(sent.headers.cseq().unwrap().seq, &client.local, &mut client.rng);
    client.send(ack).await;
    (sent, ok)
}

/// `client` answers the INVITE it gets with `peer`.
async fn answer_incoming(client: &mut Client, peer: &Peer, tag: &str) -> Request {
    let invite = client.request("an incoming INVITE").await;
    assert_eq!(invite.method, Method::Invite);
    client.reply(&invite, 180, tag).await;
    let mut ok = builder::response(&invite, 200, Some(tag));
    ok.set_body("application/sdp", peer.peer.answer(&String::from_utf8_lossy(&invite.body)).await.unwrap());
    client.send(ok).await;
    assert_eq!(client.request("ACK").await.method, Method::Ack);
    invite
}

/// rc-sim releases the host's side of a brought-in call: a BYE on `call_id`, answered.
async fn released(client: &mut Client, call_id: &str, tag: &str) {
    let bye = client.request("the BYE of the released side").await;
    assert_eq!((bye.method.clone(), bye.headers.call_id().unwrap()), (Method::Bye, call_id));
    client.reply(&bye, 200, tag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_party_conference_with_bring_in_everyone_hears_everyone() {
    let mut config = rc_sim::Config::demo();
    let mut third = config.extensions[1].clone();
    (third.number, third.authorization_id, third.short_number, third.jwt) = ("16505550103".into(), "800000000103".into(), Some("103".into()), None);
    config.extensions.push(third);
    let sim = server_with(config).await;
    let token = jwt_sign_in(&sim, 0).await["access_token"].as_str().unwrap().to_owned();
    let (mut a, mut b, mut c) = (Client::connect(&sim, "101", "a").await, Client::connect(&sim, "102", "b").await, Client::connect(&sim, "103", "c").await);
    for x in [&mut a, &mut b, &mut c] {
        x.register().await;
    }

    // A makes a conference and dials in: the conference bridge answers.
    let conf = api(&sim, "POST", CONFERENCE, &token, "").await;
    assert_eq!(conf.status, 200, "{}", conf.text());
    let session = conf.json()["session"].clone();
    let (conf_id, voice_token) = (session["id"].as_str().unwrap().to_owned(), session["voiceCallToken"].as_str().unwrap().to_owned());
    assert!(voice_token.starts_with("conf_") && conf_id.starts_with("s-"), "{session}");
    let bring_in = |body: String| {
        let (sim, token, path) = (sim.clone(), token.clone(), format!("/restapi/v1.0/account/~/telephony/sessions/{conf_id}/parties/bring-in"));
        async move { api(&sim, "POST", &path, &token, &body).await }
    };
    let mut a_conf = Peer::new().await;
    let (_, ok) = call_and_connect(&mut a, &a_conf, &voice_token, "a-conf").await;
    let (host_session, host_party) = api_ids(ok.headers.get("p-rc-api-ids").expect("the 200 names the caller's party"));
    assert_eq!(host_session, conf_id, "dialling the token joins the conference's session");
    let r = bring_in(format!(r#"{{"sessionId":"{host_session}","partyId":"{host_party}"}}"#)).await;
    assert_eq!(r.status, 409, "the host's conference leg is in already: {}", r.text());

    // A calls B; B answers; A brings the call in with its own ids (the web phone's recipe):
    // B joins, A's leg of that call ends.
    let a_to_b = Peer::new().await;
    let mut b_peer = Peer::new().await;
    let ring_b = async {
        let peer = &b_peer;
        answer_incoming(&mut b, peer, "tb").await
    };
    let ((_, ok), b_invite) = tokio::join!(call_and_connect(&mut a, &a_to_b, "102", "a-b"), ring_b);
    let (ab_session, a_party) = api_ids(ok.headers.get("p-rc-api-ids").unwrap());
    let (b_session, b_party) = api_ids(b_invite.headers.get("p-rc-api-ids").unwrap());
    assert_eq!(ab_session, b_session);
    assert_ne!(a_party, b_party);
    let unknown = bring_in(format!(r#"{{"sessionId":"{ab_session}","partyId":"p-nobody-9"}}"#)).await;
    assert_eq!((unknown.status, unknown.json()["errorCode"].as_str()), (404, Some("CMN-102")));
    let party = bring_in(format!(r#"{{"sessionId":"{ab_session}","partyId":"{a_party}"}}"#)).await;
    assert_eq!(party.status, 200, "{}", party.text());
    let party = party.json();
    assert_eq!((party["status"]["code"].as_str(), party["from"]["phoneNumber"].as_str()), (Some("Answered"), Some("+16505550102")));
    assert!(party["id"].as_str().unwrap().starts_with(&format!("p-{}", &conf_id[2..])), "{party}");
    released(&mut a, "a-b", "ta").await;
    a_to_b.peer.close().await;
    assert!(b.quiet_for(Duration::from_millis(200)).await, "B's client sees nothing");

    // C calls A; A answers; the call is brought in by C's own ids: C joins, A's leg ends.
    let mut c_peer = Peer::new().await;
    let a_from_c = Peer::new().await;
    let ring_a = async {
        let peer = &a_from_c;
        answer_incoming(&mut a, peer, "ta2").await
    };
    let ((_, ok), a_invite) = tokio::join!(call_and_connect(&mut c, &c_peer, "101", "c-a"), ring_a);
    let (c_session, c_party) = api_ids(ok.headers.get("p-rc-api-ids").unwrap());
    let r = bring_in(format!(r#"{{"telephonySessionId":"{c_session}","partyId":"{c_party}"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    released(&mut a, a_invite.headers.call_id().unwrap(), "ta2").await;
    a_from_c.peer.close().await;
    let calls = sim.calls().await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| c.to == voice_token && c.state == "answered" && c.session_id == conf_id), "{calls:?}");

    // Everyone hears the other two, not themselves.
    let (fa, fb, fc) = (500.0, 700.0, 900.0);
    let _playing = (a_conf.play(fa), b_peer.play(fb), c_peer.play(fc));
    assert_hears("A", &a_conf.listen().await, &[fb, fc], &[fa, 300.0]);
    assert_hears("B", &b_peer.listen().await, &[fa, fc], &[fb, 300.0]);
    assert_hears("C", &c_peer.listen().await, &[fa, fb], &[fc, 300.0]);

    // A tone bot dials in too (440 Hz); B hangs up and leaves the room.
    let bot = sim.call_extension(rc_sim::core::BotKind::Tone, &voice_token).await.expect("the tone bot joins");
    assert_hears("A", &a_conf.listen().await, &[440.0, fb, fc], &[fa]);
    let mut b_dialog = sip::Dialog::from_uas(&b_invite, "tb", true).unwrap();
    let bye = b_dialog.new_request(Method::Bye, &b.local, &mut b.rng);
    b.send(bye).await;
    assert_eq!(b.response("200 to B's BYE").await.status, 200);
    assert!(sim.hang_up(bot).await, "the bot leaves");
    assert_hears("C", &c_peer.listen().await, &[fa], &[fb, 440.0, fc]);
    assert_eq!(sim.calls().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_bots_call_brought_in_plays_into_the_room_and_bot_answered_calls_cannot_be() {
    let sim = common::server().await;
    let token = jwt_sign_in(&sim, 0).await["access_token"].as_str().unwrap().to_owned();
    let mut a = Client::connect(&sim, "101", "a").await;
    a.register().await;
    let session = api(&sim, "POST", CONFERENCE, &token, "").await.json()["session"].clone();
    let (conf_id, voice_token) = (session["id"].as_str().unwrap().to_owned(), session["voiceCallToken"].as_str().unwrap().to_owned());
    let path = format!("/restapi/v1.0/account/~/telephony/sessions/{conf_id}/parties/bring-in");
    let mut a_conf = Peer::new().await;
    call_and_connect(&mut a, &a_conf, &voice_token, "a-conf").await;

    // A call answered by the echo bot has no party to move.
    let echo = Peer::new().await;
    let (sent, ok) = call_and_connect(&mut a, &echo, "600", "a-echo").await;
    let (s, p) = api_ids(ok.headers.get("p-rc-api-ids").unwrap());
    let refused = api(&sim, "POST", &path, &token, &format!(r#"{{"sessionId":"{s}","partyId":"{p}"}}"#)).await;
    assert_eq!((refused.status, refused.json()["errorCode"].as_str()), (409, Some("TAS-102")), "{}", refused.text());
    let mut dialog = sip::Dialog::from_uac(&sent, &ok).unwrap();
    let bye = dialog.new_request(Method::Bye, &a.local, &mut a.rng);
    a.send(bye).await;
    assert_eq!(a.response("200 to BYE").await.status, 200);
    echo.peer.close().await;

    // The tone bot calls A; A merges the call with its own ids: the bot plays into the room.
    sim.call_extension(rc_sim::core::BotKind::Tone, "101").await.unwrap();
    let from_bot = Peer::new().await;
    let invite = answer_incoming(&mut a, &from_bot, "tb").await;
    let (s, p) = api_ids(invite.headers.get("p-rc-api-ids").unwrap());
    let moved = api(&sim, "POST", &path, &token, &format!(r#"{{"sessionId":"{s}","partyId":"{p}"}}"#)).await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["from"]["phoneNumber"], "+1650555601");
    released(&mut a, invite.headers.call_id().unwrap(), "tb").await;
    from_bot.peer.close().await;
    assert_hears("A", &a_conf.listen().await, &[440.0], &[300.0, 1000.0]);
    let calls = sim.calls().await;
    assert_eq!(calls.len(), 2, "A's conference call and the bot's: {calls:?}");
}
