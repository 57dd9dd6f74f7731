//! A small HTTP/JSON admin API on loopback, for tests and tools in other languages.
//!
//! `GET /registrations`, `GET /calls`, `GET /log`, `GET /bots`, `POST /faults` (JSON body),
//! `POST /calls` (`{"bot": "tone", "to": "101", "autoAnswerMs": 0}`: a bot calls an extension),
//! `POST /reply` (`{"resp": "3", "extNfo": "+1650…"}`: what callers answer to a text reply),
//! `POST /connections/{id}/drop`, `POST /connections/{id}/raw` (the body is sent as a frame).
//! `POST /faults` also takes the REST API's faults (`restRateLimit`, `rest5xx`).

use crate::core::Faults;
use crate::http;
use crate::server::Handle;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};

/// Largest admin request accepted.
const MAX_REQUEST: usize = 256 * 1024;

/// Serves the admin API on `listener` until the process ends.
pub async fn serve(listener: TcpListener, handle: Handle) {
    while let Ok((stream, _)) = listener.accept().await {
        let handle = handle.clone();
        tokio::spawn(async move {
            let _ = serve_one(stream, &handle).await;
        });
    }
}

async fn serve_one(mut stream: TcpStream, handle: &Handle) -> std::io::Result<()> {
    let (status, json) = match http::read_request(&mut stream, MAX_REQUEST).await? {
        Ok(req) => route(handle, &req.method, &req.target, &req.body).await,
        Err(bad) => (bad.status, serde_json::json!({ "error": bad.message })),
    };
    http::write_response(&mut stream, &http::Response::json(status, &json)).await
}

async fn route(handle: &Handle, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ok = serde_json::json!({ "ok": true });
    match (method, parts.as_slice()) {
        ("GET", ["registrations"]) => (200, serde_json::json!(handle.registrations().await)),
        ("GET", ["calls"]) => (200, serde_json::json!(handle.calls().await)),
        ("GET", ["log"]) => (200, serde_json::json!(handle.log().await)),
        ("GET", ["bots"]) => (200, serde_json::json!(handle.bot_reports().await)),
        ("POST", ["calls"]) => start_bot_call(handle, body).await,
        ("POST", ["reply"]) => match serde_json::from_slice::<crate::core::ReplyAnswer>(body) {
            Ok(a) => {
                handle.set_reply_answer(a);
                (200, ok)
            }
            Err(e) => (400, serde_json::json!({ "error": e.to_string() })),
        },
        ("POST", ["faults"]) => match serde_json::from_slice::<Faults>(body) {
            Ok(f) => {
                handle.set_faults(f);
                (200, ok)
            }
            Err(e) => (400, serde_json::json!({ "error": e.to_string() })),
        },
        ("POST", ["connections", id, action]) => match (id.parse(), *action) {
            (Ok(id), "drop") => {
                handle.drop_connection(id);
                (200, ok)
            }
            (Ok(id), "raw") => {
                handle.send_raw(id, &String::from_utf8_lossy(body));
                (200, ok)
            }
            _ => (404, serde_json::json!({ "error": "unknown connection action" })),
        },
        _ => (404, serde_json::json!({ "error": format!("no route for {method} {path}") })),
    }
}

/// `POST /calls {"bot": "tone", "to": "101"}`: a bot calls an extension.
async fn start_bot_call(handle: &Handle, body: &[u8]) -> (u16, serde_json::Value) {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Req {
        bot: crate::core::BotKind,
        to: String,
        #[serde(default)]
        auto_answer_ms: Option<u32>,
    }
    match serde_json::from_slice::<Req>(body) {
        Ok(r) => match handle.call_extension_auto(r.bot, &r.to, r.auto_answer_ms).await {
            Ok(id) => (200, serde_json::json!({ "call": id })),
            Err(e) => (400, serde_json::json!({ "error": e })),
        },
        Err(e) => (400, serde_json::json!({ "error": e.to_string() })),
    }
}

/// Binds the admin API on `addr` and serves it in the background; returns the bound address.
pub async fn start(addr: SocketAddr, handle: Handle) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve(listener, handle));
    Ok(bound)
}
