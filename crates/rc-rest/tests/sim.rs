//! End to end against rc-sim's REST server (docs/rest-api.md): the test plays the browser.

use std::time::{Duration, SystemTime};

#[path = "../../webphone/tests/common/poll.rs"]
mod poll;
use poll::Poll;

use rc_rest::http::{tls_config, Https};
use rc_rest::{ClientOptions, LoopbackRedirect, Pkce, RcClient, RedirectError, RestError, Secret};
use rc_sim::config::{demo_jwt, OAuthSettings};
use rc_sim::core::Faults;
use rc_sim::{Config, Handle, ServerOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const EXT: &str = "16505550101";

async fn sim(config: Config) -> Handle {
    rc_sim::start(ServerOptions::loopback(config)).await.expect("rc-sim starts")
}

fn public_client(sim: &Handle) -> RcClient {
    let mut options = ClientOptions::new(sim.rest_url(), OAuthSettings::DEMO_PUBLIC_CLIENT);
    options.extra_ca_pem = Some(sim.ca_pem.clone());
    RcClient::new(options).unwrap()
}

fn server_client(sim: &Handle) -> RcClient {
    let mut options = ClientOptions::new(sim.rest_url(), OAuthSettings::DEMO_CONFIDENTIAL_CLIENT);
    options.client_secret = Some(Secret::new(OAuthSettings::DEMO_SECRET));
    options.extra_ca_pem = Some(sim.ca_pem.clone());
    RcClient::new(options).unwrap()
}

async fn jwt_client(sim: &Handle) -> RcClient {
    let client = server_client(sim);
    client.sign_in_jwt(&demo_jwt("101")).await.expect("JWT sign-in");
    client
}

/// The hidden inputs of the sign-in form, unescaped.
fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let len = tag[start..].find('"')?;
        Some(unescape(&tag[start..start + len]))
    };
    page.split("<input")
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .filter(|t| t.contains("type=\"hidden\""))
        .filter_map(|t| Some((attr(t, "name")?, attr(t, "value")?)))
        .collect()
}

/// Plays the browser: opens the sign-in page, submits the form with these credentials, and
/// follows the 302 to the loopback redirect. Returns what the loopback page said.
async fn browse(sim: &Handle, authorize_url: &str, username: &str, password: &str) -> String {
    let https = Https::new(tls_config(Some(&sim.ca_pem)).unwrap(), Duration::from_secs(10));
    let page = https.send("GET", authorize_url, &[], Vec::new()).await.unwrap();
    assert_eq!(page.status, 200);
    let page = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(page.contains("<form"), "{page}");
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in hidden_inputs(&page) {
        form.append_pair(&name, &value);
    }
    form.append_pair("username", username).append_pair("password", password);
    let answer = https
        .send("POST", &format!("{}/restapi/oauth/authorize", sim.rest_url()), &[("content-type", "application/x-www-form-urlencoded")], form.finish())
        .await
        .unwrap();
    assert_eq!(answer.status, 302);
    let location = url::Url::parse(answer.header("location").unwrap()).unwrap();
    assert_eq!(location.scheme(), "http");
    let target = match location.query() {
        Some(q) => format!("{}?{q}", location.path()),
        None => location.path().to_owned(),
    };
    let mut tcp = tokio::net::TcpStream::connect((location.host_str().unwrap(), location.port().unwrap())).await.unwrap();
    tcp.write_all(format!("GET {target} HTTP/1.1\r\nHost: {}\r\n\r\n", location.authority()).as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn pkce_sign_in_through_the_browser() {
    let sim = sim(Config::demo()).await;
    let client = public_client(&sim);
    let redirect = LoopbackRedirect::bind().unwrap();
    let pkce = Pkce::generate();
    let url = client.authorize_url(redirect.redirect_uri(), redirect.state(), &pkce);
    let (code, page) = tokio::join!(redirect.wait(Duration::from_secs(20)), browse(&sim, &url, "101", "demo-101-login"));
    assert!(page.contains("You can close this window"), "{page}");
    let code = code.unwrap();
    let tokens = client.exchange_code(&code, pkce.verifier(), redirect.redirect_uri()).await.unwrap();
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.owner_id.is_some());

    let info = client.sip_provision().await.unwrap();
    info.validate().unwrap();
    assert_eq!(info, sim.sip_info(EXT).unwrap());

    // The code is single use.
    assert!(matches!(client.exchange_code(&code, pkce.verifier(), redirect.redirect_uri()).await, Err(RestError::InvalidGrant(_))));
}

#[tokio::test]
async fn pkce_wrong_verifier_and_wrong_password() {
    let sim = sim(Config::demo()).await;
    let client = public_client(&sim);
    let redirect = LoopbackRedirect::bind().unwrap();
    let pkce = Pkce::generate();
    let url = client.authorize_url(redirect.redirect_uri(), redirect.state(), &pkce);
    let (code, _) = tokio::join!(redirect.wait(Duration::from_secs(20)), browse(&sim, &url, "101", "demo-101-login"));
    let other = Pkce::generate();
    assert!(matches!(client.exchange_code(&code.unwrap(), other.verifier(), redirect.redirect_uri()).await, Err(RestError::InvalidGrant(_))));
    assert!(!client.is_signed_in());

    let redirect = LoopbackRedirect::bind().unwrap();
    let url = client.authorize_url(redirect.redirect_uri(), redirect.state(), &pkce);
    let (code, page) = tokio::join!(redirect.wait(Duration::from_secs(20)), browse(&sim, &url, "101", "wrong password"));
    assert_eq!(code, Err(RedirectError::AccessDenied));
    assert!(page.contains("close this window"));
}

#[tokio::test]
async fn jwt_sign_in_and_the_api() {
    let sim = sim(Config::demo()).await;
    let client = jwt_client(&sim).await;
    let info = client.sip_provision().await.unwrap();
    assert_eq!(info, sim.sip_info(EXT).unwrap());
    assert_eq!(client.cached_sip_info(), Some(info));

    let ids: Vec<String> = client.caller_ids().await.unwrap().into_iter().map(|n| n.phone_number).collect();
    assert_eq!(ids, ["+16505550101", "+16505550100"]);

    let conference = client.create_conference().await.unwrap();
    assert!(!conference.session_id.is_empty());
    assert!(conference.voice_call_token.starts_with("conf_"), "{conference:?}");
    assert!(matches!(client.bring_in(&conference.session_id, "s-none", "p-none").await, Err(RestError::Server(404, _))));
    assert!(matches!(client.bring_in("no-such-conference", "s-none", "p-none").await, Err(RestError::Server(404, _))));

    assert!(matches!(server_client(&sim).sign_in_jwt("not.the.credential").await, Err(RestError::InvalidGrant(_))));
}

#[tokio::test]
async fn refresh_on_expiry() {
    let mut config = Config::demo();
    config.oauth.access_token_lifetime_secs = 2;
    let sim = sim(config).await;
    let client = jwt_client(&sim).await;
    let first = client.tokens().unwrap();
    assert!(first.expires_at <= SystemTime::now() + Duration::from_secs(2));
    assert!(first.refresh_at < first.expires_at, "it plans to refresh ahead of expiry: {first:?}");

    // Ahead of expiry: once the planned refresh time has come (set so, rather than waited for),
    // the client refreshes before the call.
    let mut due = first.clone();
    due.refresh_at = SystemTime::now();
    client.set_tokens(Some(due));
    client.caller_ids().await.unwrap();
    let second = client.tokens().unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token, "the refresh token rotates");

    // Expired at the server while the client thinks it is good: 401 TokenExpired, refresh, retry.
    let mut stale = second.clone();
    stale.expires_at = SystemTime::now() + Duration::from_secs(3600);
    stale.refresh_at = stale.expires_at;
    client.set_tokens(Some(stale));
    // The running server keeps real time: ask it until the 2 s token has run out (see
    // `poll.rs`).
    let https = Https::new(tls_config(Some(&sim.ca_pem)).unwrap(), Duration::from_secs(10));
    let numbers = format!("{}{}", sim.rest_url(), rc_rest::client::PHONE_NUMBER_PATH);
    let bearer = format!("Bearer {}", second.access_token.expose());
    let mut poll = Poll::new("the server to find the 2 s access token expired").every(Duration::from_millis(100));
    while https.send("GET", &numbers, &[("authorization", &bearer)], Vec::new()).await.unwrap().status == 200 {
        poll.again().await;
    }
    client.sip_provision().await.unwrap();
    assert_ne!(client.tokens().unwrap().access_token, second.access_token);

    // The old refresh token is refused after rotation: the session ends.
    client.set_tokens(Some(first));
    assert_eq!(client.refresh().await.unwrap_err(), RestError::TokenInvalid);
    assert!(!client.is_signed_in());
}

#[tokio::test]
async fn revoke_then_token_invalid() {
    let sim = sim(Config::demo()).await;
    let client = jwt_client(&sim).await;
    let tokens = client.tokens().unwrap();
    client.revoke().await.unwrap();
    assert!(!client.is_signed_in());
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::NotSignedIn);
    // The revoked tokens no longer work at the server, access or refresh.
    client.set_tokens(Some(tokens.clone()));
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::TokenInvalid);
    assert!(!client.is_signed_in());
    client.set_tokens(Some(tokens));
    assert_eq!(client.refresh().await.unwrap_err(), RestError::TokenInvalid);
}

#[tokio::test]
async fn rate_limit_and_outage() {
    // Faults and REST requests go through the same queue to rc-sim's core: no waiting needed.
    let sim = sim(Config::demo()).await;
    let client = jwt_client(&sim).await;
    sim.set_faults(Faults { rest_rate_limit: Some(2), ..Faults::default() });
    let error = client.caller_ids().await.unwrap_err();
    assert_eq!(error, RestError::RateLimited { retry_after: Some(Duration::from_secs(2)) });

    sim.set_faults(Faults { rest_5xx: true, ..Faults::default() });
    assert!(matches!(client.sip_provision().await, Err(RestError::Server(503, _))));
    assert!(client.is_signed_in());

    sim.set_faults(Faults::default());
    client.caller_ids().await.unwrap();
}
