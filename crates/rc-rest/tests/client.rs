//! RcClient against a scripted HTTPS server (tests/scripted): the wire format of every call and
//! the refresh, retry and sign-out rules. The end-to-end tests against rc-sim are in
//! tests/sim.rs.

mod scripted;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use scripted::{Reply, Request};
use rc_rest::{ClientOptions, RcClient, RestError, Secret, Tokens};

/// What the fake platform does.
#[derive(Default)]
struct State {
    /// Access tokens it accepts; anything else is TokenInvalid.
    valid: Vec<String>,
    /// Access tokens it calls expired.
    expired: Vec<String>,
    /// Refresh tokens it accepts.
    refreshable: Vec<String>,
    issued: u32,
    /// Answer every API call with this status (429 or 503) instead.
    fail_with: Option<u16>,
    /// Answer every API call with TokenExpired, even fresh tokens.
    always_expired: bool,
    expires_in: u64,
}

type Shared = Arc<Mutex<State>>;

const SIP_PROVISION: &str = r#"{"sipInfo":[{"username":"16505550101","password":"sip-password","authorizationId":"800000000101",
  "domain":"sip.example.com","outboundProxy":"127.0.0.1:5090","outboundProxyBackup":"127.0.0.1:5091","transport":"WSS",
  "stunServers":[],"switchBackInterval":600}],"sipFlags":{},"device":{"id":"d1"}}"#;

fn issue(state: &mut State) -> Reply {
    state.issued += 1;
    let (access, refresh) = (format!("AT-{}", state.issued), format!("RT-{}", state.issued));
    state.valid.push(access.clone());
    state.refreshable.push(refresh.clone());
    let expires_in = if state.expires_in == 0 { 3600 } else { state.expires_in };
    Reply::json(
        200,
        &format!(
            r#"{{"access_token":"{access}","token_type":"bearer","expires_in":{expires_in},"refresh_token":"{refresh}",
                "refresh_token_expires_in":604800,"scope":"VoipCalling","owner_id":"101","endpoint_id":"e1"}}"#
        ),
    )
}

fn invalid_grant(what: &str) -> Reply {
    Reply::json(400, &format!(r#"{{"error":"invalid_grant","error_description":"{what}"}}"#))
}

fn handle(shared: &Shared, r: &Request) -> Reply {
    let mut s = shared.lock().unwrap();
    let path = r.target.split('?').next().unwrap_or_default();
    match path {
        "/restapi/oauth/token" => match r.field("grant_type").as_deref() {
            Some("authorization_code") if r.field("code").as_deref() == Some("good-code") => issue(&mut s),
            Some("authorization_code") => invalid_grant("Invalid authorization code"),
            Some("urn:ietf:params:oauth:grant-type:jwt-bearer") if r.field("assertion").as_deref() == Some("good.jwt.credential") => issue(&mut s),
            Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => invalid_grant("Invalid JWT"),
            Some("refresh_token") => {
                let token = r.field("refresh_token").unwrap_or_default();
                if let Some(i) = s.refreshable.iter().position(|t| *t == token) {
                    s.refreshable.remove(i);
                    issue(&mut s)
                } else {
                    invalid_grant("Token is revoked")
                }
            }
            _ => Reply::json(400, r#"{"error":"unsupported_grant_type"}"#),
        },
        "/restapi/oauth/revoke" => {
            let token = r.field("token").unwrap_or_default();
            s.valid.retain(|t| *t != token);
            Reply::json(200, "")
        }
        _ => {
            let token = r.bearer().unwrap_or_default().to_owned();
            if s.always_expired || s.expired.contains(&token) {
                return Reply::json(401, r#"{"errorCode":"TokenExpired","message":"Access token expired"}"#);
            }
            if !s.valid.contains(&token) {
                return Reply::json(401, r#"{"errorCode":"TokenInvalid","message":"Token not found"}"#);
            }
            match s.fail_with {
                Some(429) => return Reply::json(429, r#"{"errorCode":"CMN-301","message":"Request rate exceeded"}"#).with_header("Retry-After", "3"),
                Some(status) => return Reply::json(status, r#"{"errorCode":"CMN-211","message":"Service temporarily unavailable"}"#),
                None => {}
            }
            match (r.method.as_str(), path) {
                ("POST", "/restapi/v1.0/client-info/sip-provision") => Reply::json(200, SIP_PROVISION),
                ("GET", "/restapi/v1.0/account/~/extension/~/phone-number") => Reply::json(
                    200,
                    r#"{"records":[{"id":"1","phoneNumber":"+16505550100","usageType":"CompanyNumber","features":["SmsSender"],"type":"VoiceFax"},
                      {"id":"2","phoneNumber":"+16505550101","usageType":"DirectNumber","features":["CallerId"],"type":"VoiceFax"}],"paging":{}}"#,
                ),
                ("POST", "/restapi/v1.0/account/~/telephony/conference") => {
                    Reply::json(200, r#"{"session":{"id":"conf-s1","voiceCallToken":"conf_123","parties":[]}}"#)
                }
                ("POST", "/restapi/v1.0/account/~/telephony/sessions/conf-s1/parties/bring-in") => {
                    Reply::json(200, r#"{"id":"p-9","status":{"code":"Answered"}}"#)
                }
                ("POST", p) if p.contains("/parties/bring-in") => {
                    Reply::json(404, r#"{"errorCode":"CMN-102","message":"Resource for parameter [sessionId] is not found"}"#)
                }
                _ => Reply::json(404, r#"{"errorCode":"CMN-102","message":"Not found"}"#),
            }
        }
    }
}

async fn fake() -> (scripted::ScriptedServer, Shared) {
    let shared: Shared = Arc::default();
    let s = shared.clone();
    (scripted::start(move |r| handle(&s, r)).await, shared)
}

fn client(server: &scripted::ScriptedServer, secret: Option<&str>) -> RcClient {
    let mut options = ClientOptions::new(&server.base, "the-client-id");
    options.client_secret = secret.map(Secret::new);
    options.extra_ca_pem = Some(server.ca_pem.clone());
    options.timeout = Duration::from_secs(10);
    RcClient::new(options).unwrap()
}

#[tokio::test]
async fn jwt_sign_in_uses_basic_client_authentication() {
    let (server, _) = fake().await;
    let client = client(&server, Some("the-secret"));
    let tokens = client.sign_in_jwt("good.jwt.credential").await.unwrap();
    assert_eq!(tokens.access_token.expose(), "AT-1");
    assert_eq!(tokens.owner_id.as_deref(), Some("101"));
    assert!(client.is_signed_in());
    let request = &server.to("/restapi/oauth/token")[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    // base64("the-client-id:the-secret")
    assert_eq!(request.header("authorization"), Some("Basic dGhlLWNsaWVudC1pZDp0aGUtc2VjcmV0"));
    assert_eq!(request.field("client_id"), None);
    assert_eq!(request.field("assertion").as_deref(), Some("good.jwt.credential"));

    assert_eq!(client.sign_in_jwt("bad.jwt").await.unwrap_err(), RestError::InvalidGrant("Invalid JWT".into()));
}

#[tokio::test]
async fn pkce_code_exchange_as_a_public_client() {
    let (server, _) = fake().await;
    let client = client(&server, None);
    let pkce = rc_rest::Pkce::generate();
    let url = client.authorize_url("http://127.0.0.1:5555/callback", "st", &pkce);
    assert!(url.starts_with(&format!("{}/restapi/oauth/authorize?response_type=code&client_id=the-client-id&", server.base)));
    client.exchange_code("good-code", pkce.verifier(), "http://127.0.0.1:5555/callback").await.unwrap();
    let request = &server.to("/restapi/oauth/token")[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.field("client_id").as_deref(), Some("the-client-id"));
    assert_eq!(request.field("grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(request.field("code_verifier").as_deref(), Some(pkce.verifier()));
    assert_eq!(request.field("redirect_uri").as_deref(), Some("http://127.0.0.1:5555/callback"));
    assert_eq!(
        client.exchange_code("used-code", pkce.verifier(), "http://127.0.0.1:5555/callback").await.unwrap_err(),
        RestError::InvalidGrant("Invalid authorization code".into())
    );
}

#[tokio::test]
async fn api_calls_send_the_documented_requests() {
    let (server, _) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();

    let info = client.sip_provision().await.unwrap();
    assert_eq!(info.outbound_proxy, "127.0.0.1:5090");
    let request = &server.to("/restapi/v1.0/client-info/sip-provision")[0];
    assert_eq!(request.bearer(), Some("AT-1"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body, r#"{"sipInfo":[{"transport":"WSS"}]}"#);
    // Cached from now on.
    assert_eq!(client.cached_sip_info(), Some(info.clone()));
    assert_eq!(client.sip_info().await.unwrap(), info);
    assert_eq!(server.to("/restapi/v1.0/client-info/sip-provision").len(), 1);

    let ids = client.caller_ids().await.unwrap();
    assert_eq!(ids.iter().map(|n| n.phone_number.as_str()).collect::<Vec<_>>(), ["+16505550101"]);

    let conference = client.create_conference().await.unwrap();
    assert_eq!(conference.session_id, "conf-s1");
    assert_eq!(conference.voice_call_token, "conf_123");
    let request = &server.to("/restapi/v1.0/account/~/telephony/conference")[0];
    assert_eq!((request.body.as_str(), request.header("content-length")), ("", Some("0")));

    let party = client.bring_in(&conference.session_id, "s-abc", "p-1").await.unwrap();
    assert_eq!((party.id.as_str(), party.status.as_deref()), ("p-9", Some("Answered")));
    let request = &server.to("/restapi/v1.0/account/~/telephony/sessions/conf-s1/parties/bring-in")[0];
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body, serde_json::json!({"sessionId": "s-abc", "partyId": "p-1"}));

    assert_eq!(
        client.bring_in("no-such/conf", "s", "p").await.unwrap_err(),
        RestError::Server(404, "Resource for parameter [sessionId] is not found".into())
    );
    assert!(server.requests().iter().any(|r| r.target == "/restapi/v1.0/account/~/telephony/sessions/no-such%2Fconf/parties/bring-in"));
}

/// Tokens that look valid locally (or not), for the server-side cases.
fn tokens(access: &str, refresh: &str, refresh_due: bool) -> Tokens {
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    Tokens {
        access_token: Secret::new(access),
        expires_at: if refresh_due { now + Duration::from_secs(30) } else { now + hour },
        refresh_at: if refresh_due { now - Duration::from_secs(1) } else { now + hour },
        refresh_token: Some(Secret::new(refresh)),
        refresh_expires_at: Some(now + hour * 24),
        scope: None,
        owner_id: None,
        endpoint_id: None,
    }
}

#[tokio::test]
async fn refreshes_before_expiry() {
    let (server, shared) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    let mut watch = client.watch_tokens();
    client.set_tokens(Some(tokens("AT-1", "RT-1", true)));
    watch.borrow_and_update();
    client.caller_ids().await.unwrap();
    // One refresh, then the call with the new token.
    let paths: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(paths[1..], ["/restapi/oauth/token", "/restapi/v1.0/account/~/extension/~/phone-number"]);
    assert_eq!(server.to("/restapi/oauth/token")[1].field("refresh_token").as_deref(), Some("RT-1"));
    assert_eq!(server.requests().last().unwrap().bearer(), Some("AT-2"));
    assert_eq!(client.tokens().unwrap().refresh_token.unwrap().expose(), "RT-2");
    assert!(watch.has_changed().unwrap());
    assert_eq!(shared.lock().unwrap().issued, 2);
}

#[tokio::test]
async fn concurrent_calls_share_one_refresh() {
    let (server, shared) = fake().await;
    let client = Arc::new(client(&server, None));
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    client.set_tokens(Some(tokens("AT-1", "RT-1", true)));
    let calls: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn({
                let client = client.clone();
                async move { client.caller_ids().await }
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(shared.lock().unwrap().issued, 2, "one refresh for four calls");
}

#[tokio::test]
async fn token_expired_refreshes_and_retries_once() {
    let (server, shared) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    shared.lock().unwrap().expired.push("AT-1".into());
    client.caller_ids().await.unwrap();
    let bearers: Vec<Option<String>> =
        server.to("/restapi/v1.0/account/~/extension/~/phone-number").iter().map(|r| r.bearer().map(str::to_owned)).collect();
    assert_eq!(bearers, [Some("AT-1".to_owned()), Some("AT-2".to_owned())]);

    // If the server keeps saying expired, only one retry.
    shared.lock().unwrap().always_expired = true;
    let before = server.requests().len();
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::TokenExpired);
    assert_eq!(server.requests().len() - before, 3, "call, refresh, one retry");
    assert!(client.is_signed_in());
}

#[tokio::test]
async fn token_invalid_ends_the_session() {
    let (server, shared) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    let watch = client.watch_tokens();
    shared.lock().unwrap().valid.clear();
    let error = client.caller_ids().await.unwrap_err();
    assert_eq!(error, RestError::TokenInvalid);
    assert!(error.needs_sign_in());
    assert!(!client.is_signed_in());
    assert!(watch.borrow().is_none());
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::NotSignedIn);
}

#[tokio::test]
async fn refused_refresh_ends_the_session() {
    let (server, _) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    client.set_tokens(Some(tokens("AT-1", "revoked-refresh-token", true)));
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::TokenInvalid);
    assert!(!client.is_signed_in());
    // An expired refresh token is not even sent.
    let mut stale = tokens("AT-1", "RT-1", true);
    stale.refresh_expires_at = Some(SystemTime::now() - Duration::from_secs(1));
    client.set_tokens(Some(stale));
    let before = server.requests().len();
    assert_eq!(client.refresh().await.unwrap_err(), RestError::TokenInvalid);
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn rate_limit_and_server_errors_are_returned_at_once() {
    let (server, shared) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    shared.lock().unwrap().fail_with = Some(429);
    let before = server.requests().len();
    let error = client.caller_ids().await.unwrap_err();
    assert_eq!(error, RestError::RateLimited { retry_after: Some(Duration::from_secs(3)) });
    assert!(error.to_string().contains("3 seconds"));
    assert_eq!(server.requests().len() - before, 1, "no hidden retry");
    shared.lock().unwrap().fail_with = Some(503);
    assert_eq!(client.sip_provision().await.unwrap_err(), RestError::Server(503, "Service temporarily unavailable".into()));
    assert!(client.is_signed_in());
}

#[tokio::test]
async fn revoke_signs_out_even_offline() {
    let (server, shared) = fake().await;
    let client = client(&server, None);
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    client.sip_provision().await.unwrap();
    client.revoke().await.unwrap();
    let request = &server.to("/restapi/oauth/revoke")[0];
    assert_eq!(request.field("token").as_deref(), Some("AT-1"));
    assert!(!shared.lock().unwrap().valid.contains(&"AT-1".to_owned()));
    assert!(!client.is_signed_in());
    assert_eq!(client.cached_sip_info(), None);
    assert_eq!(client.caller_ids().await.unwrap_err(), RestError::NotSignedIn);

    // The server is gone: still signed out locally, the error is reported.
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    server.stop().await;
    assert!(matches!(client.revoke().await, Err(RestError::Network(_))));
    assert!(!client.is_signed_in());
}

#[tokio::test]
async fn certificates_are_verified() {
    let (server, _) = fake().await;
    let untrusting = RcClient::new(ClientOptions::new(&server.base, "id")).unwrap();
    let error = untrusting.sign_in_jwt("good.jwt.credential").await.unwrap_err();
    assert!(matches!(&error, RestError::Network(m) if m.contains("certificate")), "{error:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn no_secret_in_debug_or_errors() {
    let (server, shared) = fake().await;
    let client = client(&server, Some("the-secret"));
    client.sign_in_jwt("good.jwt.credential").await.unwrap();
    let info = client.sip_provision().await.unwrap();
    shared.lock().unwrap().valid.clear();
    let error = client.caller_ids().await.unwrap_err();
    let text = format!("{client:?} {info:?} {error:?} {error}");
    for secret in ["the-secret", "AT-1", "RT-1", "sip-password", "good.jwt.credential"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
