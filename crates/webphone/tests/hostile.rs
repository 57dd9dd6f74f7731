//! Hostile input from the server (issue 7): the RFC 4475 torture messages, garbage frames,
//! oversized frames, invalid UTF-8, responses to transactions we never started, duplicate and
//! out-of-order responses, and in-dialog requests whose bodies or headers do not parse. The
//! engine must never crash or wedge, must answer what it can answer sensibly, and must keep its
//! registration and its calls (with their audio).
//!
//! Everything is injected with rc-sim's `send_raw`/`send_raw_bytes` on the phone's own
//! connection. After each injection an OPTIONS probe follows on the same connection: its 200
//! proves that the engine handled everything before it and is alive, and whatever the phone
//! sent in between is its answer to the injection. No test sleeps; every wait has a deadline.

mod common;

use common::*;
use rc_sim::core::{ConnId, Direction};
use rc_sim::Handle;
use webphone::audio::test::Input;
use webphone::{CallEvent, CallState, Dial, DisposeReason, PhoneEvent};

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// The RFC 4475 messages of `class` ("valid" or "invalid"), as `(name, bytes)`, sorted.
fn torture(class: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sip/tests/torture").join(class);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// The status code of a response's text, if it is one.
fn status(text: &str) -> Option<u16> {
    text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The first value of header `name` (long form, any case; folded lines joined) in a message's
/// text.
fn header(text: &str, name: &str) -> Option<String> {
    let head = text.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().skip(1).find_map(|l| l.split_once(':').filter(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned()))
}

/// The statuses of the responses among `texts`.
fn statuses(texts: &[String]) -> Vec<u16> {
    texts.iter().filter_map(|t| status(t)).collect()
}

/// The connection of `number`'s registration at rc-sim.
async fn conn_of(sim: &Handle, number: &str) -> ConnId {
    sim.registrations().await.into_iter().find(|b| b.number == number).expect("registered").conn
}

/// Injects frames on one phone's connection and collects what the phone answers.
struct Wire<'a> {
    sim: &'a Handle,
    conn: ConnId,
    sent: u32,
}

impl<'a> Wire<'a> {
    fn new(sim: &'a Handle, conn: ConnId) -> Self {
        Wire { sim, conn, sent: 0 }
    }

    /// A fresh number for branches and Call-IDs.
    fn next(&mut self) -> u32 {
        self.sent += 1;
        self.sent
    }

    /// Sends `bytes` as one frame: text when it is UTF-8, else binary.
    fn send(&self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.sim.send_raw(self.conn, text),
            Err(_) => self.sim.send_raw_bytes(self.conn, bytes.to_vec()),
        }
    }

    /// Sends the request `bytes` and returns every message the phone sent until its final
    /// response to it (top Via branch `branch`): for answers that take the media a moment.
    async fn request(&mut self, bytes: &[u8], branch: &str) -> Vec<String> {
        let mut log = self.sim.subscribe_log();
        self.send(bytes);
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut got = Vec::new();
        loop {
            let entry = tokio::time::timeout_at(deadline, log.recv())
                .await
                .unwrap_or_else(|_| panic!("no final answer to {branch}; the phone sent {got:#?}"))
                .expect("rc-sim's log is open and keeps up");
            if entry.direction != Direction::In || entry.conn != self.conn || entry.text.trim().is_empty() {
                continue;
            }
            let done = status(&entry.text).is_some_and(|s| s >= 200) && header(&entry.text, "Via").is_some_and(|v| v.contains(branch));
            got.push(entry.text);
            if done {
                return got;
            }
        }
    }

    /// Sends `bytes`, then a probe, and returns every message the phone sent before the probe's
    /// answer (keep-alives left out). Fails when the probe is not answered in time.
    async fn exchange(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut log = self.sim.subscribe_log();
        self.send(bytes);
        let n = self.next();
        let probe = format!("probe-{}-{n}", self.conn);
        self.sim.send_raw(
            self.conn,
            &format!(
                "OPTIONS sip:{EXT_101}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-{probe}\r\nMax-Forwards: 70\r\n\
From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:{EXT_101}@127.0.0.1>\r\nCall-ID: {probe}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            ),
        );
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut got = Vec::new();
        loop {
            let entry = tokio::time::timeout_at(deadline, log.recv())
                .await
                .unwrap_or_else(|_| panic!("the phone did not answer probe {probe}: wedged or gone; it sent {got:#?}"))
                .expect("rc-sim's log is open and keeps up");
            if entry.direction != Direction::In || entry.conn != self.conn || entry.text.trim().is_empty() {
                continue;
            }
            if header(&entry.text, "Call-ID").as_deref() == Some(probe.as_str()) {
                assert_eq!(status(&entry.text), Some(200), "{}", entry.text);
                return got;
            }
            got.push(entry.text);
        }
    }
}

/// Every event queued so far.
fn drain(events: &mut tokio::sync::broadcast::Receiver<PhoneEvent>) -> Vec<PhoneEvent> {
    let mut out = Vec::new();
    loop {
        match events.try_recv() {
            Ok(e) => out.push(e),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => return out,
        }
    }
}

/// Fails on events that show the engine lost its connection or registration.
fn assert_no_trouble(events: &[PhoneEvent]) {
    for e in events {
        assert!(
            !matches!(e, PhoneEvent::Disconnected(_) | PhoneEvent::Reconnecting { .. } | PhoneEvent::RegistrationFailed(_) | PhoneEvent::InboundCall(..)),
            "unexpected {e:?}"
        );
    }
}

/// The phone registers again and a call to the echo bot brings its tone back.
async fn still_works(p: &mut TestPhone, tone: u32) {
    p.phone.register().await.expect("REGISTER still answered and accepted");
    let call = p.phone.call(dial("600")).await.expect("INVITE sent");
    call.wait_answered(WAIT).await.expect("the echo bot answers");
    media_up(p, call.id()).await;
    expect_tone(&mut p.heard, tone).await;
    call.hangup().await.expect("BYE answered");
    assert_eq!(disposed(p, call.id()).await, DisposeReason::Local);
}

/// What the phone answers to each RFC 4475 message: `None` for the responses (dropped), else the
/// one status it must send. The 400 (505 for `badvers`) to the invalid requests come from
/// `sip::builder::malformed_request_reply`.
fn torture_answer(name: &str) -> Option<u16> {
    match name {
        // Responses, valid or not, that match no transaction: dropped.
        "bcast" | "noreason" | "unreason" | "bigcode" | "scalarlg" => None,
        // OPTIONS, whatever the Request-URI scheme, Max-Forwards 0, branch or Require.
        "badbranch" | "bext01" | "lwsdisp" | "novelsc" | "semiuri" | "transports" | "unkscm" | "zeromf" => Some(200),
        // A MESSAGE that is not RingCentral's (multipart, binary part): taken.
        "mpart01" => Some(200),
        // REGISTER to a phone: a method we know but do not take.
        "cparam01" | "cparam02" | "dblreq" | "escnull" | "regaut01" | "regescrt" | "unksm2" => Some(405),
        // Unknown methods.
        "esc02" | "intmeth" => Some(501),
        // INVITEs with plain RTP/AVP offers (we need DTLS-SRTP).
        "esc01" | "inv2543" | "longreq" | "sdp01" => Some(488),
        // A body that is not SDP.
        "invut" => Some(415),
        // An INVITE with a To tag: a dialog we do not have.
        "wsinv" => Some(481),
        "badvers" => Some(505),
        // Every other invalid message is a request.
        _ => Some(400),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4475_torture_messages_from_the_server_are_answered_and_the_phone_keeps_working() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut wire = Wire::new(&sim, conn_of(&sim, EXT_101).await);
    let (valid, invalid) = (torture("valid"), torture("invalid"));
    assert_eq!((valid.len(), invalid.len()), (27, 22), "the RFC 4475 set");
    let mut wrong = Vec::new();
    for (name, bytes) in valid.iter().chain(&invalid) {
        let replies = wire.exchange(bytes).await;
        let expected = torture_answer(name);
        let got = statuses(&replies);
        if got != expected.into_iter().collect::<Vec<_>>() || replies.len() != got.len() {
            wrong.push(format!("{name}: expected {expected:?}, the phone sent {replies:#?}"));
            continue;
        }
        let Some(reply) = replies.first() else { continue };
        // The answer is to that message: the same CSeq (as written, for the broken ones too).
        let text = String::from_utf8_lossy(bytes);
        let cseq = |t: &str| header(t, "CSeq").map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
        assert_eq!(cseq(reply), cseq(&text), "{name}: {reply}");
        match expected {
            Some(400) => assert!(reply.starts_with("SIP/2.0 400 Bad Request ("), "{name}: the parse error is named: {reply}"),
            Some(405) => assert!(header(reply, "Allow").is_some_and(|a| a.contains("INVITE")), "{name}: {reply}"),
            Some(415) => assert_eq!(header(reply, "Accept").as_deref(), Some("application/sdp"), "{name}"),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_no_trouble(&drain(&mut a.events));
    still_works(&mut a, 1000).await;
}

/// A tiny deterministic generator for the random frames.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// An INVITE to the phone, whole, with a plain RTP/AVP offer.
fn invite(n: u32) -> String {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:{EXT_101}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-garbage-{n}\r\nMax-Forwards: 70\r\n\
From: \"Caller\" <sip:+16506666666@127.0.0.1>;tag=g{n}\r\nTo: <sip:{EXT_101}@127.0.0.1>\r\nCall-ID: garbage-{n}\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:+16506666666@127.0.0.1;transport=ws>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_truncated_and_non_utf8_frames_are_dropped_or_refused_and_the_phone_keeps_working() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut wire = Wire::new(&sim, conn_of(&sim, EXT_101).await);

    let whole = invite(1);
    let cut_in_header = whole[..whole.find("Contact:").unwrap() + 20].to_owned();
    let cut_in_body = whole[..whole.len() - 30].to_owned();
    let mut bad_utf8_invite = invite(2).into_bytes();
    let at = bad_utf8_invite.windows(6).position(|w| w == b"Caller").unwrap();
    bad_utf8_invite[at..at + 2].copy_from_slice(b"\xff\xfe");
    let bad_utf8_response = b"SIP/2.0 200 \xc3\x28 OK\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n".to_vec();
    // Under the 256 KiB SIP cap: 20 000 headers, and one header 200 KiB long. Both are fine SIP
    // and must be answered. A phone that wedged on them fails the probe's deadline; how fast
    // they are parsed is a benchmark's question, not a wall-clock assertion's here.
    let options = |n: u32, extra: &str| {
        format!(
            "OPTIONS sip:{EXT_101}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-big-{n}\r\nMax-Forwards: 70\r\n\
From: <sip:big@127.0.0.1>;tag=b\r\nTo: <sip:{EXT_101}@127.0.0.1>\r\nCall-ID: big-{n}\r\nCSeq: 1 OPTIONS\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    };
    let many_headers = options(1, &"X-A: b\r\n".repeat(20_000));
    let long_header = options(2, &format!("X-Long: {}\r\n", "a".repeat(200 * 1024)));
    let cases: Vec<(&str, Vec<u8>, Vec<u16>)> = vec![
        ("an empty frame", Vec::new(), vec![]),
        ("a lone CRLF", b"\r\n".to_vec(), vec![]),
        ("a CRLF CRLF keep-alive", b"\r\n\r\n".to_vec(), vec![]),
        ("NUL bytes", vec![0; 64], vec![]),
        ("4 KiB of random bytes (binary frame)", noise(4096, 0x9e37_79b9_7f4a_7c15), vec![]),
        ("4 KiB of random printable text", noise(4096, 7).iter().map(|b| b' ' + b % 95).collect(), vec![]),
        ("invalid UTF-8 alone (binary frame)", b"\xff\xfe\xfd\xc3\x28\xa0\xa1".to_vec(), vec![]),
        ("a start line and nothing else", b"INVITE sip:x@y SIP/2.0\r\n\r\n".to_vec(), vec![]),
        ("an INVITE cut in the middle of a header", cut_in_header.into_bytes(), vec![400]),
        ("an INVITE cut in its body (Content-Length too big)", cut_in_body.into_bytes(), vec![400]),
        ("an INVITE with invalid UTF-8 in From (binary frame)", bad_utf8_invite, vec![400]),
        ("a 200 with invalid UTF-8 in its reason (binary frame)", bad_utf8_response, vec![]),
        ("a whole INVITE in a binary frame", invite(3).into_bytes(), vec![488]),
        ("an OPTIONS with 20 000 headers", many_headers.into_bytes(), vec![200]),
        ("an OPTIONS with a 200 KiB header", long_header.into_bytes(), vec![200]),
    ];
    let mut wrong = Vec::new();
    for (what, bytes, expected) in cases {
        let replies = wire.exchange(&bytes).await;
        if statuses(&replies) != expected || replies.len() != expected.len() {
            wrong.push(format!("{what}: expected {expected:?}, the phone sent {replies:#?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_no_trouble(&drain(&mut a.events));
    still_works(&mut a, 1000).await;
}

/// A MESSAGE of `size` bytes or more (a text body), with top Via branch `branch`.
fn huge_message(branch: &str, size: usize) -> String {
    let body = "x".repeat(size);
    format!(
        "MESSAGE sip:{EXT_101}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch={branch}\r\nMax-Forwards: 70\r\n\
From: <sip:huge@127.0.0.1>;tag=h\r\nTo: <sip:{EXT_101}@127.0.0.1>\r\nCall-ID: {branch}\r\nCSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_answered_513_and_the_connection_and_a_ringing_call_stay_up() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let conn = conn_of(&sim, EXT_101).await;
    sim.call_extension(rc_sim::core::BotKind::Echo, EXT_101).await.unwrap();
    let (ringing, _) = inbound_call(&mut a).await;
    let mut wire = Wire::new(&sim, conn);

    // 271 870 bytes closed the WebSocket once (over the 256 KiB SIP cap): now a 513.
    let big = huge_message("z9hG4bK-huge-1", 271_870);
    let replies: Vec<String> = wire.request(big.as_bytes(), "z9hG4bK-huge-1").await.into_iter().filter(|r| header(r, "Call-ID").as_deref() == Some("z9hG4bK-huge-1")).collect();
    assert_eq!(statuses(&replies), vec![513], "{:?}", replies.iter().map(|r| r.lines().next()).collect::<Vec<_>>());
    assert!(replies[0].starts_with("SIP/2.0 513 Message Too Large\r\n") && header(&replies[0], "Call-ID").as_deref() == Some("z9hG4bK-huge-1"));
    // A response that large (to nothing we sent, and over the cap): dropped, not answered.
    let response = big.replacen(&format!("MESSAGE sip:{EXT_101}@127.0.0.1 SIP/2.0"), "SIP/2.0 200 OK", 1);
    assert!(wire.exchange(response.as_bytes()).await.is_empty());
    assert_no_trouble(&drain(&mut a.events));
    assert_eq!(conn_of(&sim, EXT_101).await, conn, "the same connection");

    // The call that was ringing all along is answered and has its audio.
    ringing.answer().await.expect("the ringing call is still there");
    media_up(&mut a, ringing.id()).await;
    expect_tone(&mut a.heard, 1000).await;
    ringing.hangup().await.unwrap();
    still_works(&mut a, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_websocket_cap_drops_the_connection_with_a_clear_reason_and_the_phone_comes_back() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let conn = conn_of(&sim, EXT_101).await;
    // 17 MiB of SIP-looking text in one frame: over the phone's WebSocket cap (16 MiB;
    // tungstenite's own default would take 64 MiB).
    sim.send_raw(conn, &huge_message("z9hG4bK-huge-2", 17 << 20));
    let why = wait_event(&mut a.events, "Disconnected", |e| match e {
        PhoneEvent::Disconnected(why) => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.to_lowercase().contains("too long") || why.to_lowercase().contains("size"), "the reason names the size: {why}");
    wait_event(&mut a.events, "Reconnecting", |e| matches!(e, PhoneEvent::Reconnecting { .. }).then_some(())).await;
    wait_event(&mut a.events, "Reconnected", |e| matches!(e, PhoneEvent::Reconnected { .. }).then_some(())).await;
    wait_event(&mut a.events, "Registered", |e| matches!(e, PhoneEvent::Registered { .. }).then_some(())).await;
    assert_ne!(conn_of(&sim, EXT_101).await, conn, "registered again over a new connection");
    still_works(&mut a, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_duplicate_and_out_of_order_responses_and_broken_requests_leave_the_call_up() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut wire = Wire::new(&sim, conn_of(&sim, EXT_101).await);
    let domain = sim.sip_info(EXT_101).unwrap().domain;

    let call = a.phone.call(dial("600")).await.unwrap();
    call.wait_answered(WAIT).await.unwrap();
    media_up(&mut a, call.id()).await;
    expect_tone(&mut a.heard, 1000).await;
    let facts = call.info().await.unwrap();
    let (call_id, local, remote) = (facts.call_id.clone(), facts.local_tag.clone().unwrap(), facts.remote_tag.clone().unwrap());
    // rc-sim's 200 OK to our INVITE, to replay.
    let ok = sim
        .log()
        .await
        .into_iter()
        .rev()
        .find(|e| e.direction == Direction::Out && status(&e.text) == Some(200) && header(&e.text, "Call-ID").as_ref() == Some(&call_id) && header(&e.text, "CSeq").is_some_and(|c| c.ends_with("INVITE")))
        .expect("rc-sim answered our INVITE")
        .text;
    let head = ok.split("\r\n\r\n").next().unwrap();
    let without_body = |status_line: &str| {
        let headers: Vec<&str> = head.lines().skip(1).filter(|l| !l.starts_with("Content-")).collect();
        format!("{status_line}\r\n{}\r\nContent-Length: 0\r\n\r\n", headers.join("\r\n"))
    };
    let stray = |n: u32, status_line: &str, call: &str, cseq: &str| {
        format!(
            "{status_line}\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-never-sent-{n}\r\nFrom: <sip:{EXT_101}@{domain}>;tag=nobody\r\n\
To: <sip:{EXT_101}@{domain}>;tag=nowhere\r\nCall-ID: {call}\r\nCSeq: {cseq}\r\nContact: <sip:{EXT_101}@127.0.0.1>;expires=3600\r\nContent-Length: 0\r\n\r\n"
        )
    };
    // A request from the far end in this call's dialog (or, with `call`, in another).
    let in_dialog = |n: u32, method: &str, call: &str, extra: &str, body: &str| {
        format!(
            "{method} sip:{EXT_101}@127.0.0.1;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch=z9hG4bK-hostile-{n}\r\nMax-Forwards: 70\r\n\
From: <sip:600@{domain}>;tag={remote}\r\nTo: <sip:{EXT_101}@{domain}>;tag={local}\r\nCall-ID: {call}\r\nCSeq: {} {method}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            1000 + n,
            body.len()
        )
    };
    let acks = |replies: &[String]| replies.iter().filter(|t| t.starts_with("ACK ") && header(t, "Call-ID").as_ref() == Some(&call_id)).count();
    let finals = |replies: &[String]| replies.iter().filter_map(|t| status(t)).filter(|s| *s >= 200).collect::<Vec<_>>();

    // Responses to transactions we never started: dropped, nothing sent.
    let replies = wire.exchange(stray(1, "SIP/2.0 200 OK", "never-sent", "1 REGISTER").as_bytes()).await;
    assert!(replies.is_empty(), "a 200 to a REGISTER we never sent: {replies:?}");
    let replies = wire.exchange(stray(2, "SIP/2.0 180 Ringing", "no-such-call", "1 INVITE").as_bytes()).await;
    assert!(replies.is_empty(), "a 180 for an unknown Call-ID: {replies:?}");
    let replies = wire.exchange(stray(3, "SIP/2.0 200 OK", "no-such-call", "1 INVITE").as_bytes()).await;
    assert!(replies.is_empty(), "a 200 for an unknown Call-ID: {replies:?}");

    // rc-sim's 200 to our REGISTER again: its transaction is over, the copy is dropped.
    let registered = sim
        .log()
        .await
        .into_iter()
        .rev()
        .find(|e| e.direction == Direction::Out && status(&e.text) == Some(200) && header(&e.text, "CSeq").is_some_and(|c| c.ends_with("REGISTER")))
        .expect("rc-sim accepted our REGISTER")
        .text;
    let replies = wire.exchange(registered.as_bytes()).await;
    assert!(replies.is_empty(), "a duplicate 200 to our REGISTER: {replies:?}");

    // The call's own 200 again: a retransmission, ACKed again (RFC 3261 13.2.2.4).
    let replies = wire.exchange(ok.as_bytes()).await;
    assert_eq!((acks(&replies), replies.len()), (1, 1), "the duplicate 200 is ACKed once: {replies:?}");
    // A 180 and a 486 after the 200: out of order, ignored.
    for late in ["SIP/2.0 180 Ringing", "SIP/2.0 486 Busy Here"] {
        let replies = wire.exchange(without_body(late).as_bytes()).await;
        assert!(replies.is_empty(), "{late} after the 200: {replies:?}");
    }

    // Requests outside any dialog: 481.
    let replies = wire.exchange(in_dialog(1, "BYE", "no-such-dialog", "", "").as_bytes()).await;
    assert_eq!(finals(&replies), vec![481], "a dialog-less BYE: {replies:?}");
    // (With an offer we could take: before the fix this rang as a new call.)
    let offer = "v=0\r\nm=audio 5 RTP/SAVPF 109 0\r\na=rtpmap:109 OPUS/16000\r\na=rtpmap:0 pcmu/8000\r\na=fingerprint:sha-1 01:02\r\n";
    let replies = wire.exchange(in_dialog(2, "INVITE", "no-such-dialog", "Content-Type: application/sdp\r\n", offer).as_bytes()).await;
    assert_eq!(finals(&replies), vec![481], "a re-INVITE for a dialog we do not have: {replies:?}");
    let replies = wire.exchange(in_dialog(3, "CANCEL", "no-such-dialog", "", "").as_bytes()).await;
    assert_eq!(finals(&replies), vec![481], "a CANCEL that matches nothing: {replies:?}");

    // In-dialog requests whose body or headers do not parse: 400, the call goes on.
    let json = "Content-Type: application/json;charset=utf-8\r\n";
    let replies = wire.exchange(in_dialog(4, "INFO", &call_id, json, r#"{"response":{"reqid":1,"command":"#).as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "an INFO with broken JSON: {replies:?}");
    let replies = wire.exchange(in_dialog(5, "INFO", &call_id, json, "<not json/>").as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "an INFO whose JSON is XML: {replies:?}");
    let replies = wire.exchange(in_dialog(6, "INFO", &call_id, json, r#"{"response":{"reqid":99,"command":"callpark","result":{"code":0}}}"#).as_bytes()).await;
    assert_eq!(finals(&replies), vec![200], "an INFO answering nothing we asked is still taken: {replies:?}");
    let replies = wire.exchange(in_dialog(7, "REFER", &call_id, "", "").as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "a REFER without Refer-To: {replies:?}");
    let replies = wire.exchange(in_dialog(8, "REFER", &call_id, "Refer-To: <<<sip:nowhere\r\n", "").as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "a REFER with a garbage Refer-To: {replies:?}");
    let rc = "Content-Type: x-rc/agent\r\n";
    let replies = wire.exchange(in_dialog(9, "MESSAGE", &call_id, rc, r#"<Msg><Hdr SID="1" Cmd=7/></Msg>"#).as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "a RingCentral MESSAGE with broken XML: {replies:?}");
    let replies = wire.exchange(in_dialog(10, "MESSAGE", &call_id, rc, "<Msg><Bdy Cln=\"1\"/></Msg>").as_bytes()).await;
    assert_eq!(finals(&replies), vec![400], "a RingCentral MESSAGE without Hdr: {replies:?}");
    // A re-INVITE whose SDP does not parse: refused (488), the call keeps its media.
    let reinvite = in_dialog(11, "INVITE", &call_id, "Content-Type: application/sdp\r\n", "v=0\r\nthis is not SDP\r\n");
    let branch = "z9hG4bK-hostile-11";
    let replies = wire.request(reinvite.as_bytes(), branch).await;
    assert_eq!(finals(&replies), vec![488], "a re-INVITE with broken SDP: {replies:?}");
    let ack = format!(
        "ACK sip:{EXT_101}@127.0.0.1;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1;branch={branch}\r\nMax-Forwards: 70\r\n\
From: <sip:600@{domain}>;tag={remote}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 1011 ACK\r\nContent-Length: 0\r\n\r\n",
        header(replies.iter().find(|r| status(r) == Some(488)).unwrap(), "To").unwrap()
    );
    let replies = wire.exchange(ack.as_bytes()).await;
    assert!(replies.is_empty(), "the ACK of the 488 is absorbed: {replies:?}");

    // Nothing happened to the call: no ringing, failure or end, still answered, audio flows.
    for e in drain(&mut a.events) {
        assert!(!matches!(&e, PhoneEvent::Call(id, CallEvent::Ringing | CallEvent::Failed { .. } | CallEvent::Disposed(_) | CallEvent::Answered { .. }) if *id == call.id()), "{e:?}");
        assert!(!matches!(e, PhoneEvent::Disconnected(_) | PhoneEvent::RegistrationFailed(_) | PhoneEvent::MediaFailed(..) | PhoneEvent::InboundCall(..)), "{e:?}");
    }
    assert_eq!(call.status().state, CallState::Answered);
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    call.hangup().await.expect("hang-up still works");
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::Local);
    still_works(&mut a, 1000).await;
}
