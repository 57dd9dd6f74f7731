//! Messages both benches measure, so that they measure the same bytes.
#![allow(dead_code)]

/// An INVITE as our WebRTC client sends it (headers only: the SDP follows).
pub const INVITE: &str = "INVITE sip:101@sip.ringcentral.com SIP/2.0\r\n\
Via: SIP/2.0/WSS 1k3j5h2g4f6d.invalid;branch=z9hG4bK-9d8f7a6s5d4f3g2h\r\n\
Max-Forwards: 70\r\n\
To: <sip:101@sip.ringcentral.com>\r\n\
From: <sip:16502223333@sip.ringcentral.com>;tag=8s7d6f5g4h3j\r\n\
Call-ID: q8w7e6r5t4y3u2i1o0p9a8s7\r\n\
CSeq: 8271 INVITE\r\n\
Contact: <sip:h3g5f7d9@9k8j7h6g5f4d.invalid;transport=wss>\r\n\
P-Asserted-Identity: sip:+16502223333@sip.ringcentral.com\r\n\
User-Agent: rc-softphone/0.1.0\r\n\
Content-Type: application/sdp\r\n";

/// The SDP offer of that INVITE.
pub const SDP: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS\r\n\
m=audio 50000 UDP/TLS/RTP/SAVPF 111 0 8 101\r\n\
c=IN IP4 192.0.2.10\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=candidate:1 1 udp 2130706431 192.0.2.10 50000 typ host\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:0123456789abcdefghijklmn\r\n\
a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n";

/// A 401 challenge to a REGISTER.
pub const CHALLENGE: &str = "SIP/2.0 401 Unauthorized\r\n\
Via: SIP/2.0/WSS 1k3j5h2g4f6d.invalid;branch=z9hG4bK-9d8f7a6s5d4f3g2h\r\n\
From: <sip:16502223333@sip.ringcentral.com>;tag=8s7d6f5g4h3j\r\n\
To: <sip:16502223333@sip.ringcentral.com>;tag=a1b2c3d4e5f6\r\n\
Call-ID: q8w7e6r5t4y3u2i1o0p9a8s7\r\n\
CSeq: 8270 REGISTER\r\n\
Www-Authenticate: Digest realm=\"sip.ringcentral.com\", nonce=\"Yx3kT2Wc1xq9s8d7f6g5h4j3k2l1\"\r\n\
Content-Length: 0\r\n\
\r\n";
