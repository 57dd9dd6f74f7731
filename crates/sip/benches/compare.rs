//! Parse + serialise throughput of our `sip` crate beside `rsip` 0.4 (crates.io), on the same
//! four messages: the INVITE with SDP and the 401 challenge of `benches/parse.rs`, a REGISTER
//! with Authorization and a 200 OK to an INVITE with Record-Route and SDP.
//!
//! Both sides get the same bytes, parse them into their full message type (`sip::Message`,
//! `rsip::SipMessage`) and serialise that back to bytes (`Message::to_bytes`,
//! `Vec::<u8>::from(SipMessage)`); one iteration is one message. Before timing, each message is
//! checked once on both sides: it must parse, and the serialised output must parse again and
//! keep every header (name case-insensitively, value exactly) and the body.
//!
//! What "parse" covers differs: ours checks every known header's syntax (Via, From, To, CSeq,
//! Contact, Authorization, ...) while parsing, so a message that parses is safe to act on;
//! rsip types the start line and keeps header values as text until `.typed()` is asked for.
//!
//! `cargo bench -p sip --bench compare -- --noplot`, or `bench/sip-compare.sh [--quick]` for a
//! markdown table. Results land in `target/criterion/compare_<message>/{sip,rsip}/`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

#[path = "common/messages.rs"]
mod messages;
use messages::{CHALLENGE, INVITE, SDP as INVITE_SDP};

/// The REGISTER retried with credentials after that 401 (every digest value quoted, as the
/// Web Phone SDK writes it; see docs/seed-sdk-wire-notes.md).
const REGISTER: &str = "REGISTER sip:sip.ringcentral.com SIP/2.0\r\n\
Via: SIP/2.0/WSS 1k3j5h2g4f6d.invalid;branch=z9hG4bK-0a9s8d7f6g5h4j3k\r\n\
Max-Forwards: 70\r\n\
To: <sip:16502223333@sip.ringcentral.com>\r\n\
From: <sip:16502223333@sip.ringcentral.com>;tag=8s7d6f5g4h3j\r\n\
Call-ID: q8w7e6r5t4y3u2i1o0p9a8s7\r\n\
CSeq: 8271 REGISTER\r\n\
Authorization: Digest algorithm=\"MD5\", username=\"802398004\", realm=\"sip.ringcentral.com\", nonce=\"Yx3kT2Wc1xq9s8d7f6g5h4j3k2l1\", uri=\"sip:sip.ringcentral.com\", response=\"6629fae49393a05397450978507c4ef1\"\r\n\
Contact: <sip:h3g5f7d9@9k8j7h6g5f4d.invalid;transport=wss>;+sip.instance=\"<urn:uuid:0b5f1c36-3b8e-4f44-a2d1-9c7e5d3a1f20>\";expires=60\r\n\
Expires: 60\r\n\
User-Agent: rc-softphone/0.1.0\r\n\
Content-Length: 0\r\n\
\r\n";

/// The callee's 200 OK to the INVITE above, through two record-routing proxies.
const OK_TO_INVITE: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WSS 1k3j5h2g4f6d.invalid;branch=z9hG4bK-9d8f7a6s5d4f3g2h;received=192.0.2.10\r\n\
Record-Route: <sip:10.13.22.41;transport=tcp;r2=on;lr>\r\n\
Record-Route: <sip:sip10.ringcentral.com:8083;transport=wss;r2=on;lr>\r\n\
To: <sip:101@sip.ringcentral.com>;tag=10.13.22.41-5070-e1f2a3b4c5d6\r\n\
From: <sip:16502223333@sip.ringcentral.com>;tag=8s7d6f5g4h3j\r\n\
Call-ID: q8w7e6r5t4y3u2i1o0p9a8s7\r\n\
CSeq: 8271 INVITE\r\n\
Contact: <sip:101@10.13.22.41:5070;transport=tcp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, REFER, NOTIFY, SUBSCRIBE, UPDATE\r\n\
Supported: timer, replaces\r\n\
Content-Type: application/sdp\r\n";

/// The SDP answer in that 200 OK.
const OK_SDP: &str = "v=0\r\n\
o=- 7831026154 7831026154 IN IP4 104.245.57.165\r\n\
s=SmcSip\r\n\
c=IN IP4 104.245.57.165\r\n\
t=0 0\r\n\
m=audio 60456 UDP/TLS/RTP/SAVPF 111 101\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ice-ufrag:Xy7Q\r\n\
a=ice-pwd:3c6b1f0a9e8d7c6b5a4f3e2d\r\n\
a=candidate:1 1 udp 2130706431 104.245.57.165 60456 typ host\r\n\
a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\r\n\
a=setup:passive\r\n\
a=mid:0\r\n\
a=rtcp-mux\r\n\
a=sendrecv\r\n";

/// Headers, then Content-Length, then the body.
fn with_body(head: &str, body: &str) -> Vec<u8> {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// The messages measured, by name.
fn messages() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("INVITE with SDP", with_body(INVITE, INVITE_SDP)),
        ("401 challenge", CHALLENGE.as_bytes().to_vec()),
        ("REGISTER with Authorization", REGISTER.as_bytes().to_vec()),
        ("200 OK to INVITE with Record-Route and SDP", with_body(OK_TO_INVITE, OK_SDP)),
    ]
}

/// Ours: bytes → `sip::Message` → bytes.
fn ours_round_trip(bytes: &[u8]) -> Vec<u8> {
    sip::Message::parse(bytes).expect("sip parses").to_bytes()
}

/// Theirs: bytes → `rsip::SipMessage` → bytes.
fn rsip_round_trip(bytes: &[u8]) -> Vec<u8> {
    Vec::from(rsip::SipMessage::try_from(bytes).expect("rsip parses"))
}

/// The header lines of a message as (lower-case name, value), and its body; a plain text
/// reading shared by both checks, so neither parser checks itself.
fn head_and_body(bytes: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("message has a blank line");
    let head = std::str::from_utf8(&bytes[..split]).expect("head is UTF-8");
    let headers = head
        .split("\r\n")
        .skip(1)
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line has a colon");
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    (headers, bytes[split + 4..].to_vec())
}

/// Checks, once and untimed, that the parser accepts the message and that its output parses
/// again and keeps every header and the body.
fn check(side: &str, name: &str, bytes: &[u8], round_trip: fn(&[u8]) -> Vec<u8>) {
    let out = round_trip(bytes);
    let again = round_trip(&out);
    let (want_headers, want_body) = head_and_body(bytes);
    for (what, text) in [("output", &out), ("re-parsed output", &again)] {
        let (headers, body) = head_and_body(text);
        assert_eq!(headers, want_headers, "{side}, {name}: {what} lost or changed headers");
        assert_eq!(body, want_body, "{side}, {name}: {what} changed the body");
    }
    // The output must also parse with the other side: no side may win by writing sloppily.
    sip::Message::parse(&out).unwrap_or_else(|e| panic!("{side}, {name}: output rejected by sip: {e}"));
    rsip::SipMessage::try_from(out.as_slice())
        .unwrap_or_else(|e| panic!("{side}, {name}: output rejected by rsip: {e}"));
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in messages() {
        check("sip", name, &bytes, ours_round_trip);
        check("rsip", name, &bytes, rsip_round_trip);

        let mut group = c.benchmark_group(format!("compare/{name}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("sip", |b| b.iter(|| black_box(ours_round_trip(black_box(&bytes)))));
        group.bench_function("rsip", |b| b.iter(|| black_box(rsip_round_trip(black_box(&bytes)))));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
