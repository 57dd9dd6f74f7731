//! The RingCentral REST subset of `docs/rest-api.md` over HTTPS on loopback.
//!
//! [`handle`] answers one request from the sign-in state ([`OAuth`]) and the core (sans-IO,
//! time is an input); [`accept_loop`] owns the sockets. The server's core task runs both, so
//! REST calls see faults and calls in the order the rest of rc-sim does.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `GET /restapi/oauth/authorize?…` | the sign-in form (HTML) |
//! | `POST /restapi/oauth/authorize` (form) | `302` to the redirect URI with `code` or `error` |
//! | `POST /restapi/oauth/token` (form) | tokens, or `400 invalid_grant` / `401 invalid_client` |
//! | `POST /restapi/oauth/revoke` (form `token`) | `200` |
//! | `POST /restapi/v1.0/client-info/sip-provision` | the token's extension's sipInfo |
//! | `GET /restapi/v1.0/account/~/extension/~/phone-number` | its numbers |
//! | `POST /restapi/v1.0/account/~/telephony/conference` | a conference session and its `conf_…` number |
//! | `POST /restapi/v1.0/account/~/telephony/sessions/{id}/parties/bring-in` | the party, now in the conference |

use crate::core::{BringInError, Core, Faults};
use crate::http::{self, Request, Response};
use crate::oauth::{self, AuthorizeError, ClientAuth, OAuth, TokenError};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Largest request body the REST API takes.
pub const MAX_BODY: usize = 64 * 1024;

/// How long a client may take to finish its TLS handshake and its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the REST API needs besides the core: the sign-in state and the SIP listeners'
/// addresses (for sipInfo).
pub struct RestState {
    /// Apps, codes and tokens.
    pub oauth: OAuth,
    /// The primary SIP listener (`outboundProxy`).
    pub primary: SocketAddr,
    /// The backup SIP listener (`outboundProxyBackup`).
    pub backup: SocketAddr,
}

/// Answers one request.
pub fn handle(state: &mut RestState, core: &mut Core, req: &Request, now: Instant) -> Response {
    let path = req.path().trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("GET", "/restapi/oauth/authorize") => authorize_page(state, req),
        ("POST", "/restapi/oauth/authorize") => authorize_post(state, req, now),
        ("POST", "/restapi/oauth/token") => token(state, req, now),
        ("POST", "/restapi/oauth/revoke") => revoke(state, req),
        (_, "/restapi/oauth/authorize" | "/restapi/oauth/token" | "/restapi/oauth/revoke") => method_not_allowed(),
        (_, p) if p.starts_with("/restapi/v1.0/") => api(state, core, req, &p["/restapi/v1.0/".len()..], now),
        _ => api_error(404, "CMN-102", &format!("Resource for path [{path}] is not found")),
    }
}

fn api_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({ "errorCode": code, "message": message, "errors": [{ "errorCode": code, "message": message }] }))
}

fn method_not_allowed() -> Response {
    api_error(405, "CMN-405", "Method not allowed for this resource")
}

fn oauth_error(e: &oauth::OAuthError) -> Response {
    let resp = Response::json(e.status, &json!({ "error": e.error, "error_description": e.description }));
    if e.status == 401 {
        return resp.with_header("WWW-Authenticate", "Basic realm=\"RingCentral\"");
    }
    resp
}

fn is_form(req: &Request) -> bool {
    req.header("content-type").is_some_and(|c| c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

fn form_required() -> Response {
    Response::json(415, &json!({ "error": "invalid_request", "error_description": "Content-Type must be application/x-www-form-urlencoded" }))
}

/// `GET /restapi/oauth/authorize`: the sign-in form, with the query as hidden fields.
fn authorize_page(state: &RestState, req: &Request) -> Response {
    let params = oauth::parse_form(req.query().as_bytes());
    match state.oauth.check_authorize(&params) {
        Ok(_) => {
            let hidden: String = params
                .iter()
                .filter(|(k, _)| k != "username" && k != "password")
                .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", escape(k), escape(v)))
                .collect();
            Response::html(200, sign_in_page(&hidden)).with_header("Cache-Control", "no-store")
        }
        Err(AuthorizeError::Page(why)) => Response::html(400, error_page(&why)),
        Err(AuthorizeError::Redirect { location }) => redirect(&location),
    }
}

/// `POST /restapi/oauth/authorize`: the form's credentials; 302 back to the app.
fn authorize_post(state: &mut RestState, req: &Request, now: Instant) -> Response {
    if !is_form(req) {
        return form_required();
    }
    let params = oauth::parse_form(&req.body);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str());
    match state.oauth.check_authorize(&params) {
        Ok(request) => {
            let location = state.oauth.sign_in(&request, get("username"), get("password"), now);
            redirect(&location)
        }
        Err(AuthorizeError::Page(why)) => Response::html(400, error_page(&why)),
        Err(AuthorizeError::Redirect { location }) => redirect(&location),
    }
}

fn redirect(location: &str) -> Response {
    Response { status: 302, headers: vec![("Location".into(), location.into()), ("Cache-Control".into(), "no-store".into())], body: Vec::new() }
}

/// `POST /restapi/oauth/token`.
fn token(state: &mut RestState, req: &Request, now: Instant) -> Response {
    if !is_form(req) {
        return form_required();
    }
    let form = oauth::parse_form(&req.body);
    let client_id = form.iter().find(|(k, _)| k == "client_id").map(|(_, v)| v.as_str());
    let client = ClientAuth::from_request(req.header("authorization"), client_id);
    match state.oauth.token(&client, &form, now) {
        Ok(t) => {
            let cfg = state.oauth.config();
            let owner_id = cfg.extension_id(t.ext);
            let body = json!({
                "access_token": t.access_token,
                "token_type": "bearer",
                "expires_in": t.expires_in,
                "refresh_token": t.refresh_token,
                "refresh_token_expires_in": t.refresh_token_expires_in,
                "scope": oauth::SCOPE,
                "owner_id": owner_id,
                "endpoint_id": t.endpoint_id,
            });
            Response::json(200, &body).with_header("Cache-Control", "no-store").with_header("Pragma", "no-cache")
        }
        Err(e) => oauth_error(&e),
    }
}

/// `POST /restapi/oauth/revoke`.
fn revoke(state: &mut RestState, req: &Request) -> Response {
    if !is_form(req) {
        return form_required();
    }
    let form = oauth::parse_form(&req.body);
    match form.iter().find(|(k, _)| k == "token") {
        Some((_, token)) => {
            state.oauth.revoke(token);
            Response { status: 200, headers: Vec::new(), body: Vec::new() }
        }
        None => oauth_error(&oauth::OAuthError { status: 400, error: "invalid_request", description: "token is missing".into() }),
    }
}

/// The faults that answer API calls before anything else does.
fn injected(faults: &Faults) -> Option<Response> {
    if faults.rest_5xx {
        return Some(api_error(503, "CMN-211", "Service temporarily unavailable"));
    }
    let seconds = faults.rest_rate_limit?;
    Some(api_error(429, "CMN-301", "Request rate exceeded").with_header("Retry-After", seconds.to_string()))
}

/// The extension (index) of the request's bearer token, or the 401 to answer.
fn bearer(state: &RestState, req: &Request, now: Instant) -> Result<usize, Response> {
    let token = req.header("authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let unauthorized = |code: &str, message: &str| api_error(401, code, message).with_header("WWW-Authenticate", "Bearer realm=\"RingCentral\"");
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(unauthorized("TokenInvalid", "Authorization header is not specified"));
    };
    match state.oauth.check_access(token, now) {
        Ok(ext) => Ok(ext),
        Err(TokenError::Expired) => Err(unauthorized("TokenExpired", "Access token expired")),
        Err(TokenError::Invalid) => Err(unauthorized("TokenInvalid", "Access token is invalid or was revoked")),
    }
}

/// `/restapi/v1.0/{rest}`.
fn api(state: &mut RestState, core: &mut Core, req: &Request, rest: &str, now: Instant) -> Response {
    if let Some(fault) = injected(core.faults()) {
        return fault;
    }
    let ext = match bearer(state, req, now) {
        Ok(ext) => ext,
        Err(resp) => return resp,
    };
    let owner = state.oauth.config().extension_id(ext);
    let parts: Vec<&str> = rest.split('/').collect();
    let me = |id: &str| id == "~" || id == owner;
    let account = |id: &str| id == "~" || id == ACCOUNT_ID;
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["client-info", "sip-provision"]) => sip_provision(state, ext, req),
        ("GET", ["account", a, "extension", e, "phone-number"]) if account(a) && me(e) => phone_numbers(state, ext, req),
        ("POST", ["account", a, "telephony", "conference"]) if account(a) => {
            let conf = core.create_conference(ext);
            let body = json!({ "session": {
                "id": conf.session_id,
                "voiceCallToken": conf.voice_call_token,
                "creationTime": rfc3339_now(),
                "origin": { "type": "Conference" },
                "parties": [],
            }});
            Response::json(200, &body)
        }
        ("POST", ["account", a, "telephony", "sessions", conference, "parties", "bring-in"]) if account(a) => bring_in(core, conference, req, now),
        (_, ["client-info", "sip-provision"] | ["account", _, "telephony", "conference"] | ["account", _, "telephony", "sessions", _, "parties", "bring-in"]) => method_not_allowed(),
        (_, ["account", _, "extension", _, "phone-number"]) if req.method != "GET" => method_not_allowed(),
        _ => api_error(404, "CMN-102", &format!("Resource for path [/restapi/v1.0/{rest}] is not found")),
    }
}

/// The account id rc-sim's one account has (`~` works too).
pub const ACCOUNT_ID: &str = "400000000";

/// `POST …/client-info/sip-provision`: the token's extension's sipInfo over WSS.
fn sip_provision(state: &RestState, ext: usize, req: &Request) -> Response {
    if !req.body.is_empty() {
        let body: serde_json::Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return api_error(400, "CMN-101", &format!("Request body is not valid JSON: {e}")),
        };
        let transports: Vec<&str> = body["sipInfo"].as_array().map(|a| a.iter().filter_map(|i| i["transport"].as_str()).collect()).unwrap_or_default();
        if let Some(bad) = transports.iter().find(|t| !t.eq_ignore_ascii_case("WSS")) {
            return api_error(400, "CMN-101", &format!("Parameter [transport] value [{bad}] is invalid: rc-sim serves WSS"));
        }
    }
    let cfg = state.oauth.config();
    let extension = &cfg.extensions[ext];
    let info = crate::sipinfo::for_extension(cfg, extension, state.primary, state.backup);
    let mut sip_info = serde_json::to_value(&info).unwrap_or_default();
    sip_info["outboundProxyIPv6"] = json!(null);
    sip_info["certificate"] = json!(null);
    let body = json!({
        "sipInfo": [sip_info],
        "sipInfoPstn": [],
        "sipFlags": {
            "voipFeatureEnabled": true,
            "voipCountryBlocked": false,
            "outboundCallsEnabled": true,
            "dscpEnabled": false,
            "dscpSignaling": 26,
            "dscpVoice": 46,
            "dscpVideo": 34,
        },
        "sipErrorCodes": ["408", "502", "503", "504"],
        "pollingInterval": 7200,
        "device": { "id": format!("80{}", extension.authorization_id), "uri": null, "extension": { "id": cfg.extension_id(ext), "extensionNumber": extension.short_number } },
    });
    Response::json(200, &body)
}

/// `GET …/extension/~/phone-number`, optionally `?usageType=…` (repeatable).
fn phone_numbers(state: &RestState, ext: usize, req: &Request) -> Response {
    let cfg = state.oauth.config();
    let query = oauth::parse_form(req.query().as_bytes());
    let usage: Vec<&str> = query.iter().filter(|(k, _)| k == "usageType").map(|(_, v)| v.as_str()).collect();
    let records: Vec<serde_json::Value> = cfg.extensions[ext]
        .listed_numbers()
        .into_iter()
        .filter(|n| usage.is_empty() || usage.contains(&n.usage_type.as_str()))
        .map(|n| {
            let id = n.phone_number.trim_start_matches('+').to_owned();
            json!({
                "id": id,
                "phoneNumber": n.phone_number,
                "usageType": n.usage_type,
                "features": n.features,
                "type": n.kind,
                "paymentType": "Local",
                "status": "Normal",
                "primary": n.usage_type == "DirectNumber" && n.is_caller_id(),
            })
        })
        .collect();
    let total = records.len();
    let body = json!({
        "records": records,
        "paging": { "page": 1, "totalPages": 1, "perPage": 100, "totalElements": total, "pageStart": 0, "pageEnd": total.saturating_sub(1) },
        "navigation": {},
    });
    Response::json(200, &body)
}

/// `POST …/telephony/sessions/{conference}/parties/bring-in` with `{"sessionId","partyId"}`.
fn bring_in(core: &mut Core, conference: &str, req: &Request, now: Instant) -> Response {
    let body: serde_json::Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return api_error(400, "CMN-101", &format!("Request body is not valid JSON: {e}")),
    };
    let field = |names: &[&str]| names.iter().find_map(|n| body[*n].as_str()).filter(|v| !v.is_empty()).map(str::to_owned);
    let (Some(session_id), Some(party_id)) = (field(&["sessionId", "telephonySessionId"]), field(&["partyId"])) else {
        return api_error(400, "CMN-101", "Parameters [sessionId] and [partyId] are required");
    };
    match core.bring_in(conference, &session_id, &party_id, now) {
        Ok(p) => Response::json(
            200,
            &json!({
                "id": p.party_id,
                "status": { "code": "Answered" },
                "muted": false,
                "standAlone": false,
                "conferenceRole": "Participant",
                "direction": p.direction,
                "from": { "phoneNumber": format!("+{}", p.number.trim_start_matches('+')), "name": p.name },
                "to": { "phoneNumber": conference },
            }),
        ),
        Err(BringInError::NoConference) => api_error(404, "CMN-102", &format!("Resource for parameter [telephonySessionId] is not found: no conference {conference}")),
        Err(BringInError::NoParty) => api_error(404, "CMN-102", &format!("Resource for parameter [partyId] is not found: no party {party_id} in session {session_id}")),
        Err(BringInError::Conflict(why)) => api_error(409, "TAS-102", &format!("The party cannot be brought in: {why}")),
    }
}

/// The current time, RFC 3339 (what RingCentral's `creationTime` looks like).
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn sign_in_page(hidden: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Sign in - rc-sim</title></head>\n<body>\n\
         <h1>Sign in to rc-sim</h1>\n\
         <form method=\"post\" action=\"/restapi/oauth/authorize\">\n{hidden}\
         <label>Phone number or extension <input name=\"username\" autocomplete=\"username\" autofocus></label>\n\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n</body></html>\n"
    )
}

fn error_page(why: &str) -> String {
    format!("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Sign-in error - rc-sim</title></head>\n<body><h1>This sign-in request is not valid</h1><p>{}</p></body></html>\n", escape(why))
}

/// Serves HTTPS on `listener`: each request is handed to `submit`, which returns its answer
/// (the server's core task runs [`handle`]). Ends when `closed` resolves.
pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, acceptor: TlsAcceptor, submit: F, closed: impl std::future::Future<Output = ()>)
where
    F: Fn(Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<Response>> + Send,
{
    tokio::pin!(closed);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut closed => return,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (acceptor, submit) = (acceptor.clone(), submit.clone());
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(Ok(mut tls)) = tokio::time::timeout(READ_TIMEOUT, acceptor.accept(tcp)).await else { return };
            let resp = match tokio::time::timeout(READ_TIMEOUT, http::read_request(&mut tls, MAX_BODY)).await {
                Err(_) => api_error(408, "CMN-408", "The request did not arrive in time"),
                Ok(Err(_)) => return, // closed or broken: nobody to answer
                Ok(Ok(Err(bad))) => api_error(bad.status, "CMN-101", &bad.message),
                Ok(Ok(Ok(req))) => match submit(req).await {
                    Some(resp) => resp,
                    None => api_error(503, "CMN-211", "rc-sim is shutting down"),
                },
            };
            let _ = http::write_response(&mut tls, &resp).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::collections::HashMap;

    fn setup() -> (RestState, Core) {
        let cfg = Config::demo();
        let addr: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let state = RestState { oauth: OAuth::new(cfg.clone(), 7), primary: addr, backup: "127.0.0.1:5062".parse().unwrap() };
        (state, Core::new(cfg, HashMap::new(), 7, Instant::now()))
    }

    fn req(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn json_of(r: &Response) -> serde_json::Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    fn jwt_token(state: &mut RestState, core: &mut Core, now: Instant) -> String {
        let jwt = state.oauth.config().extensions[0].jwt.clone().unwrap();
        let body = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={jwt}");
        let auth = "Basic cmMtc2ltLXNlcnZlci1hcHA6cmMtc2ltLXNlcnZlci1hcHAtc2VjcmV0";
        let r = handle(state, core, &req("POST", "/restapi/oauth/token", &[("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", auth)], &body), now);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        json_of(&r)["access_token"].as_str().unwrap().to_owned()
    }

    #[test]
    fn api_calls_need_a_token_and_see_faults_first() {
        let (mut state, mut core) = setup();
        let now = Instant::now();
        let numbers = "/restapi/v1.0/account/~/extension/~/phone-number";
        let r = handle(&mut state, &mut core, &req("GET", numbers, &[], ""), now);
        assert_eq!((r.status, json_of(&r)["errorCode"].as_str()), (401, Some("TokenInvalid")));
        let token = jwt_token(&mut state, &mut core, now);
        let bearer = format!("Bearer {token}");
        let auth = [("Authorization", bearer.as_str())];
        let r = handle(&mut state, &mut core, &req("GET", &format!("{numbers}?usageType=CompanyNumber"), &auth, ""), now);
        assert_eq!(json_of(&r)["records"].as_array().unwrap().len(), 1);
        assert_eq!(handle(&mut state, &mut core, &req("GET", "/restapi/v1.0/account/~/extension/999/phone-number", &auth, ""), now).status, 404);
        assert_eq!(handle(&mut state, &mut core, &req("DELETE", numbers, &auth, ""), now).status, 405);
        assert_eq!(handle(&mut state, &mut core, &req("GET", "/elsewhere", &auth, ""), now).status, 404);
        let expired = now + Duration::from_secs(3600);
        assert_eq!(json_of(&handle(&mut state, &mut core, &req("GET", numbers, &auth, ""), expired))["errorCode"], "TokenExpired");

        core.set_faults(Faults { rest_rate_limit: Some(3), ..Faults::default() });
        let r = handle(&mut state, &mut core, &req("GET", numbers, &auth, ""), now);
        assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));
        core.set_faults(Faults { rest_5xx: true, rest_rate_limit: Some(3), ..Faults::default() });
        assert_eq!(handle(&mut state, &mut core, &req("GET", numbers, &auth, ""), now).status, 503);
        assert_eq!(jwt_token(&mut state, &mut core, now).len(), 64, "sign-in is not an API call: no fault");
    }

    #[test]
    fn bring_in_errors() {
        let (mut state, mut core) = setup();
        let now = Instant::now();
        let token = jwt_token(&mut state, &mut core, now);
        let bearer = format!("Bearer {token}");
        let auth = [("Authorization", bearer.as_str())];
        let conf = handle(&mut state, &mut core, &req("POST", "/restapi/v1.0/account/~/telephony/conference", &auth, ""), now);
        let session = json_of(&conf)["session"].clone();
        assert!(session["voiceCallToken"].as_str().unwrap().starts_with("conf_"), "{session}");
        let id = session["id"].as_str().unwrap();
        let path = format!("/restapi/v1.0/account/~/telephony/sessions/{id}/parties/bring-in");
        let r = handle(&mut state, &mut core, &req("POST", &path, &auth, r#"{"sessionId":"s-1","partyId":"p-1-1"}"#), now);
        assert_eq!((r.status, json_of(&r)["errorCode"].as_str()), (404, Some("CMN-102")));
        let r = handle(&mut state, &mut core, &req("POST", "/restapi/v1.0/account/~/telephony/sessions/s-none/parties/bring-in", &auth, r#"{"sessionId":"s-1","partyId":"p"}"#), now);
        assert_eq!(r.status, 404);
        assert_eq!(handle(&mut state, &mut core, &req("POST", &path, &auth, "{}"), now).status, 400);
        assert_eq!(handle(&mut state, &mut core, &req("POST", &path, &auth, "nope"), now).status, 400);
    }

    #[test]
    fn dates_are_rfc_3339() {
        let d = rfc3339_now();
        assert!(d.len() == 20 && d.starts_with("20") && d.ends_with('Z'), "{d}");
    }
}
