//! Parse + serialise throughput of a typical INVITE with SDP and of a 401 challenge.
//!
//! `cargo bench -p sip --bench parse`; criterion prints messages per second (thrpt).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sip::Message;
use std::hint::black_box;

#[path = "common/messages.rs"]
mod messages;
use messages::{CHALLENGE, INVITE, SDP};

fn bench(c: &mut Criterion) {
    let invite = format!("{INVITE}Content-Length: {}\r\n\r\n{SDP}", SDP.len());
    let mut group = c.benchmark_group("parse+serialise");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [("INVITE with SDP", invite.as_str()), ("401 challenge", CHALLENGE)] {
        let bytes = text.as_bytes();
        Message::parse(bytes).expect("benchmark message must parse");
        group.bench_function(name, |b| {
            b.iter(|| {
                let msg = Message::parse(black_box(bytes)).unwrap();
                black_box(msg.to_bytes())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
