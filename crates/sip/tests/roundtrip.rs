//! Property test: generated messages serialise, then parse back equal.

use proptest::prelude::*;
use sip::{HeaderName, Message, Method, NameAddr, Request, Response, SipUri, Uri, Via, WithBody};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,6}){0,3}",
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        "\\[[0-9a-f]{1,4}(:[0-9a-f]{1,4}){1,7}\\]",
    ]
}

fn sip_uri() -> impl Strategy<Value = SipUri> {
    let params = prop::collection::vec(("[a-z][a-z0-9-]{0,8}", prop::option::of("[A-Za-z0-9.~ /:]{1,8}")), 0..3);
    (any::<bool>(), prop::option::of("\\PC{1,12}"), host(), prop::option::of(1u16..), params).prop_map(
        |(secure, user, host, port, params)| {
            let mut u = SipUri::new(user.as_deref(), &host);
            u.secure = secure;
            u.port = port;
            for (n, v) in params {
                u = u.with_param(&n, v.as_deref());
            }
            u
        },
    )
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (prop::option::of("\\PC{0,16}"), sip_uri(), token()).prop_map(|(display, uri, tag)| {
        let mut a = NameAddr::new(uri).with_param("tag", Some(&tag));
        a.display_name = display;
        a
    })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Bye),
        Just(Method::Register),
        Just(Method::Message),
        Just(Method::Info),
        Just(Method::Refer),
        "[A-Z][A-Z0-9_-]{0,10}".prop_map(|m| Method::parse(&m).unwrap()),
    ]
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = "X-[A-Za-z0-9-]{1,10}|p-rc-[a-z-]{1,8}";
    let value = "([!-~]|[!-~][ -~\u{a0}-\u{3ff}]{0,30}[!-~])?";
    prop::collection::vec((name, value), 0..6)
}

fn common_headers(
    m: &mut sip::Headers,
    via: (String, String),
    from: NameAddr,
    to: NameAddr,
    call_id: String,
    cseq: (u32, &Method),
    extra: Vec<(String, String)>,
) {
    m.push(HeaderName::Via, Via::new("WSS", &format!("{}.invalid", via.0), None, &format!("z9hG4bK-{}", via.1)).to_string());
    m.push(HeaderName::From, from.to_string());
    m.push(HeaderName::To, to.to_string());
    m.push(HeaderName::CallId, call_id);
    m.push(HeaderName::CSeq, format!("{} {}", cseq.0, cseq.1));
    for (n, v) in extra {
        m.push_raw(&n, v, 0);
    }
}

type Common = ((String, String), NameAddr, NameAddr, String, u32, Vec<(String, String)>, Vec<u8>);

fn common() -> impl Strategy<Value = Common> {
    (
        ("[a-z0-9]{4,12}", "[A-Za-z0-9]{4,16}"),
        name_addr(),
        name_addr(),
        "[A-Za-z0-9-]{1,20}(@[a-z0-9.]{1,12})?",
        0u32..0x8000_0000,
        extra_headers(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
}

fn request() -> impl Strategy<Value = Message> {
    (method(), sip_uri(), common()).prop_map(|(method, uri, (via, from, to, call_id, seq, extra, body))| {
        let mut r = Request::new(method.clone(), Uri::Sip(uri));
        common_headers(&mut r.headers, via, from, to, call_id, (seq, &method), extra);
        r.set_body("application/octet-stream", body);
        Message::Request(r)
    })
}

fn response() -> impl Strategy<Value = Message> {
    (100u16..700, "[^\r\n]{0,30}", method(), common()).prop_map(
        |(status, reason, method, (via, from, to, call_id, seq, extra, body))| {
            let mut r = Response::new(status);
            r.reason = reason;
            common_headers(&mut r.headers, via, from, to, call_id, (seq, &method), extra);
            r.set_body("application/sdp", body);
            Message::Response(r)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn serialise_then_parse_is_identity(msg in prop_oneof![request(), response()]) {
        let bytes = msg.to_bytes();
        let parsed = Message::parse(&bytes);
        prop_assert!(parsed.is_ok(), "{}\n---\n{}", parsed.unwrap_err(), String::from_utf8_lossy(&bytes));
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &msg);
        prop_assert_eq!(parsed.to_bytes(), bytes);
        // Typed views agree with what was generated.
        prop_assert_eq!(parsed.from().unwrap(), msg.from().unwrap());
        prop_assert_eq!(parsed.to().unwrap(), msg.to().unwrap());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Message::parse(&bytes);
    }
}
