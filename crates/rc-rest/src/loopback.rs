//! The loopback redirect receiver of the PKCE flow (RFC 8252 §7.3): a one-shot HTTP listener
//! on 127.0.0.1 that the system browser is sent back to.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::oauth::parse_redirect;
use crate::RedirectError;

/// The path the browser comes back to.
pub const CALLBACK_PATH: &str = "/callback";

/// Largest request head we read from the browser.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request (browsers open idle
/// "preconnect" sockets; each is handled on its own and does not block the others).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener on `127.0.0.1:{any free port}` and the `state` that belongs to it.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: std::net::TcpListener,
    redirect_uri: String,
    state: String,
}

impl LoopbackRedirect {
    /// Listens on 127.0.0.1, a port of the system's choosing, and draws a fresh random
    /// `state` for the authorize URL.
    pub fn bind() -> std::io::Result<LoopbackRedirect> {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        Ok(LoopbackRedirect { listener, redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"), state: crate::pkce::random_state() })
    }

    /// `http://127.0.0.1:{port}/callback`, for the authorize URL and the code exchange.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `state` to put in the authorize URL.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Waits up to `timeout` for the browser's `GET /callback?…`, answers it with a small
    /// "you can close this window" page and returns the authorization code. Other paths get
    /// a 404, and a callback with another `state` (not the browser we sent) a 400, and the
    /// wait goes on. Errors: [`RedirectError::Timeout`],
    /// [`RedirectError::AccessDenied`] (`error=access_denied`),
    /// [`RedirectError::Failed`] (another `error=`), [`RedirectError::MissingCode`].
    /// May be called again after an error (the listener stays open until this value is dropped).
    pub async fn wait(&self, timeout: Duration) -> Result<String, RedirectError> {
        let io = |e: std::io::Error| RedirectError::Io(e.to_string());
        let listener = tokio::net::TcpListener::from_std(self.listener.try_clone().map_err(io)?).map_err(io)?;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let (tx, mut rx) = mpsc::channel(4);
        // Dropped on return: aborts connections still being read.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut deadline => return Err(RedirectError::Timeout),
                Some(result) = rx.recv() => return result,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream, self.state.clone(), tx.clone()));
                    }
                    Err(e) => return Err(RedirectError::Io(e.to_string())),
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

/// Reads one request, answers it, and reports the outcome of a `GET /callback`.
async fn serve(mut stream: TcpStream, state: String, tx: mpsc::Sender<Result<String, RedirectError>>) {
    let Ok(Some(head)) = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await else { return };
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if path != CALLBACK_PATH {
        let _ = respond(&mut stream, "404 Not Found", "Not found", "There is nothing here.").await;
        return;
    }
    if method != "GET" {
        let _ = respond(&mut stream, "405 Method Not Allowed", "Not allowed", "Only GET is answered here.").await;
        return;
    }
    let result = parse_redirect(target, &state);
    if result == Err(RedirectError::StateMismatch) {
        // Not the browser we sent (any local program can reach this port): it must not end
        // the sign-in, which keeps waiting for the real redirect.
        let _ = respond(&mut stream, "400 Bad Request", "Not this sign-in", "This request does not belong to the sign-in in progress.").await;
        return;
    }
    let _ = match &result {
        Ok(_) => respond(&mut stream, "200 OK", "Signed in", "You are signed in to RingCentral. You can close this window.").await,
        Err(RedirectError::AccessDenied) => {
            respond(&mut stream, "200 OK", "Sign-in cancelled", "Sign-in was cancelled or refused. You can close this window.").await
        }
        Err(_) => {
            respond(&mut stream, "400 Bad Request", "Sign-in failed", "Sign-in did not complete. You can close this window and try again.").await
        }
    };
    let _ = tx.send(result).await;
}

/// The request head (up to the blank line), or `None` if the peer sent something else.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return String::from_utf8(buf[..end].to_vec()).ok();
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) -> std::io::Result<()> {
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    fn receiver() -> (LoopbackRedirect, u16, String) {
        let r = LoopbackRedirect::bind().unwrap();
        let port = r.port();
        assert_eq!(r.redirect_uri(), format!("http://127.0.0.1:{port}/callback"));
        let state = r.state().to_owned();
        (r, port, state)
    }

    #[tokio::test]
    async fn returns_the_code_and_answers_the_browser() {
        let (r, port, state) = receiver();
        let wait = tokio::spawn(async move { r.wait(Duration::from_secs(10)).await });
        // A preconnect that never speaks and a stray request must not get in the way.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get(port, &format!("/callback?code=the-code&state={state}")).await;
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
        assert!(page.contains("You can close this window"));
        assert_eq!(wait.await.unwrap(), Ok("the-code".to_owned()));
    }

    #[tokio::test]
    async fn typed_errors() {
        let (r, port, state) = receiver();
        let wait = tokio::spawn(async move { r.wait(Duration::from_secs(10)).await });
        let page = get(port, &format!("/callback?error=access_denied&state={state}")).await;
        assert!(page.contains("cancelled"), "{page}");
        assert_eq!(wait.await.unwrap(), Err(RedirectError::AccessDenied));

        let (r, port, state) = receiver();
        let wait = tokio::spawn(async move { r.wait(Duration::from_secs(10)).await });
        assert!(get(port, &format!("/callback?state={state}")).await.starts_with("HTTP/1.1 400"));
        assert_eq!(wait.await.unwrap(), Err(RedirectError::MissingCode));

        let (r, _, _) = receiver();
        assert_eq!(r.wait(Duration::from_millis(50)).await, Err(RedirectError::Timeout));
    }

    #[tokio::test]
    async fn a_callback_with_another_state_is_refused_and_the_sign_in_goes_on() {
        let (r, port, state) = receiver();
        let wait = tokio::spawn(async move { r.wait(Duration::from_secs(10)).await });
        let page = get(port, "/callback?error=access_denied&state=forged").await;
        assert!(page.starts_with("HTTP/1.1 400") && page.contains("does not belong"), "{page}");
        assert!(get(port, "/callback?code=stolen&state=forged").await.starts_with("HTTP/1.1 400"));
        assert!(get(port, &format!("/callback?code=real&state={state}")).await.starts_with("HTTP/1.1 200"));
        assert_eq!(wait.await.unwrap(), Ok("real".to_owned()), "the forged requests neither cancelled nor answered the sign-in");
    }

    #[tokio::test]
    async fn can_wait_again_after_an_error() {
        let (r, port, state) = receiver();
        let r = std::sync::Arc::new(r);
        let waiter = r.clone();
        let first = tokio::spawn(async move { waiter.wait(Duration::from_secs(10)).await });
        get(port, &format!("/callback?error=server_error&state={state}")).await;
        assert!(matches!(first.await.unwrap(), Err(RedirectError::Failed { .. })));
        let waiter = r.clone();
        let second = tokio::spawn(async move { waiter.wait(Duration::from_secs(10)).await });
        get(port, &format!("/callback?code=good&state={state}")).await;
        assert_eq!(second.await.unwrap(), Ok("good".to_owned()));
        assert!(r.redirect_uri().ends_with("/callback"));
    }
}
