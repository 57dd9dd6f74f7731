//! RFC 4475 torture-test messages: every valid one parses, every invalid one is rejected with
//! a located error, and none panics. The messages are data files under `tests/torture/`;
//! `tests/torture/MANIFEST.md` says what each one tests.

use sip::Message;
use std::fs;
use std::path::PathBuf;

fn messages(class: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/torture").join(class);
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn valid_messages_parse() {
    let all = messages("valid");
    assert!(all.len() >= 25, "expected the RFC 4475 valid set, found {}", all.len());
    let failures: Vec<String> = all
        .iter()
        .filter_map(|(name, bytes)| Message::parse(bytes).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failures.is_empty(), "valid messages rejected:\n{}", failures.join("\n"));
}

#[test]
fn valid_messages_survive_a_round_trip() {
    for (name, bytes) in messages("valid") {
        let first = Message::parse(&bytes).unwrap();
        let again = Message::parse(&first.to_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, first, "{name}");
    }
}

/// Each invalid message and the start of the error it must produce (the defect under test;
/// `baddn` is cut off before its blank line in the RFC's own archive, so framing rejects it).
const EXPECTED: &[(&str, &str)] = &[
    ("badaspec", "header To: malformed URI"),
    ("baddate", "header Date: not an RFC 1123 date"),
    ("baddn", "headers not ended by an empty line"),
    ("badinv01", "header Via: empty value"),
    ("badvers", "unsupported version \"SIP/7.0\""),
    ("bigcode", "status code must be three digits"),
    ("clerr", "header Content-Length: Content-Length is 9999 but only"),
    ("escruri", "malformed URI: headers are not allowed in a Request-URI"),
    ("insuf", "mandatory header"),
    ("ltgtruri", "malformed URI"),
    ("lwsruri", "malformed start line"),
    ("lwsstart", "malformed start line"),
    ("mcl01", "header Content-Length may appear only once"),
    ("mismatch01", "header CSeq: CSeq method differs"),
    ("mismatch02", "header CSeq: CSeq method differs"),
    ("multi01", "header From may appear only once"),
    ("ncl", "header Content-Length: number missing or out of range"),
    ("quotbal", "header To: quoted string not closed"),
    ("regbadct", "header Contact: malformed URI: URI with headers must be in <>"),
    ("scalar02", "header CSeq: number missing or out of range"),
    ("scalarlg", "header CSeq: number missing or out of range"),
    ("trws", "malformed start line"),
];

#[test]
fn invalid_messages_are_rejected_with_a_clear_error() {
    let all = messages("invalid");
    assert_eq!(all.len(), EXPECTED.len(), "every invalid message needs an expected error");
    for (name, bytes) in &all {
        let expected = EXPECTED.iter().find(|(n, _)| n == name).map(|(_, e)| *e);
        let expected = expected.unwrap_or_else(|| panic!("{name}: no expected error listed"));
        match Message::parse(bytes) {
            Ok(_) => panic!("{name}: accepted an invalid message"),
            Err(e) => {
                assert!(e.at <= bytes.len(), "{name}: error offset {} past the end", e.at);
                assert!(e.to_string().starts_with(expected), "{name}: got {e:?} / \"{e}\", expected \"{expected}…\"");
            }
        }
    }
}

#[test]
fn specific_valid_details() {
    let load = |n: &str| Message::parse(&messages("valid").into_iter().find(|(m, _)| m == n).unwrap().1).unwrap();
    let wsinv = load("wsinv");
    assert_eq!(wsinv.max_forwards().unwrap(), Some(68));
    assert_eq!(wsinv.via().unwrap().len(), 3);
    assert_eq!(wsinv.cseq().unwrap().seq, 9);
    assert!(wsinv.get("NewFangledHeader").unwrap().contains("continued newfangled value"));
    let esc01 = load("esc01");
    let Message::Request(r) = &esc01 else { panic!() };
    assert_eq!(r.uri.as_sip().unwrap().user_decoded().as_deref(), Some("sips:user@example.com"));
    let dblreq = load("dblreq");
    assert!(dblreq.body().is_empty(), "bytes after Content-Length are ignored");
    let Message::Response(unreason) = load("unreason") else { panic!() };
    assert!(!unreason.reason.is_ascii());
}
