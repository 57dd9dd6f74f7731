//! Tauri commands: one per user intent, each a thin call into the engine through the app
//! state. Errors come back to the window as sentences.

use crate::number;
use crate::secrets::{Keychain, SecretStore, Stored};
use crate::settings::{self, Settings};
use crate::signin;
use crate::state::{AppState, CommandResult, Status};
use serde::Serialize;
use tauri::{Emitter, Manager, State};
use webphone::{CallSession, Dial, Reply};

/// The application's name and version, as shown in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppVersion {
    /// Cargo package name of the app.
    pub name: &'static str,
    /// Semantic version of the app.
    pub version: &'static str,
}

/// Returns the name and version the app was built as.
#[tauri::command]
pub fn app_version() -> AppVersion {
    AppVersion { name: env!("CARGO_PKG_NAME"), version: env!("CARGO_PKG_VERSION") }
}

fn says(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Where the phone stands (starting, registered, failed).
#[tauri::command]
pub fn status(state: State<'_, AppState>) -> Status {
    state.status()
}

/// Calls `number` (pasted in any common format), showing `caller_id` when given (else the
/// chosen caller ID of the settings, else the account's number).
#[tauri::command]
pub async fn dial(state: State<'_, AppState>, number: String, caller_id: Option<String>) -> CommandResult<u64> {
    let callee = number::normalise(&number).ok_or_else(|| format!("\"{}\" is not a number that can be dialled", number.trim()))?;
    let caller_id = caller_id.or_else(|| state.settings().caller_id).map(|id| caller_id_of(&id)).transpose()?;
    let call = state.phone().await?.call(Dial { callee, caller_id, ..Dial::default() }).await.map_err(says)?;
    let id = call.id().0;
    state.add_call(call);
    Ok(id)
}

/// Answers a ringing call.
#[tauri::command]
pub async fn answer(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.call(call)?.answer().await.map_err(says)
}

/// Declines a ringing call.
#[tauri::command]
pub async fn decline(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.turned_away(call);
    state.call(call)?.decline().await.map_err(says)
}

/// Sends a ringing call to voicemail.
#[tauri::command]
pub async fn to_voicemail(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.turned_away(call);
    state.call(call)?.to_voicemail().await.map_err(says)
}

/// Forwards a ringing call.
#[tauri::command]
pub async fn forward(state: State<'_, AppState>, call: u64, target: String) -> CommandResult<()> {
    let target = number::normalise(&target).ok_or("not a number to forward to")?;
    state.turned_away(call);
    state.call(call)?.forward(&target).await.map_err(says)
}

/// Replies to a ringing call with a text or a preset (`on-my-way`, `call-back-5min`,
/// `in-a-meeting`, `on-other-line`, `call-back-later`); returns what the caller answered,
/// in words.
#[tauri::command]
pub async fn reply(state: State<'_, AppState>, call: u64, text: Option<String>, preset: Option<String>) -> CommandResult<String> {
    let reply = reply_of(text, preset.as_deref())?;
    state.turned_away(call);
    let answer = state.call(call)?.reply(reply).await.map_err(says)?;
    Ok(match answer.choice {
        webphone::CallerChoice::Yes => "The caller answered: yes".to_owned(),
        webphone::CallerChoice::No => "The caller answered: no".to_owned(),
        webphone::CallerChoice::Urgent(n) => format!("Urgent: call back at {n}"),
        webphone::CallerChoice::Other(_) => "The caller did not answer".to_owned(),
    })
}

/// `id` as a caller ID to present, made dialable.
fn caller_id_of(id: &str) -> CommandResult<String> {
    number::normalise(id).ok_or_else(|| format!("\"{id}\" is not a caller ID"))
}

/// The reply a text or a preset name stands for.
pub fn reply_of(text: Option<String>, preset: Option<&str>) -> CommandResult<Reply> {
    use webphone::{ReplyDirection, ReplyUnit};
    Ok(match (preset, text) {
        (Some("on-my-way"), _) => Reply::OnMyWay,
        (Some("on-other-line"), _) => Reply::OnOtherLine,
        (Some("in-a-meeting"), _) => Reply::InAMeeting,
        (Some("call-back-later"), _) => Reply::CallYouBackLater(ReplyDirection::ToCaller),
        (Some("call-back-5min"), _) => Reply::CallYouBack { direction: ReplyDirection::ToCaller, delay: 5, unit: ReplyUnit::Minutes },
        (Some(other), _) => return Err(format!("there is no reply preset \"{other}\"")),
        (None, Some(text)) if !text.trim().is_empty() => Reply::Text(text.trim().to_owned()),
        (None, _) => return Err("write a reply or choose one".into()),
    })
}

/// Hangs up (or cancels, or declines).
#[tauri::command]
pub async fn hangup(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.call(call)?.hangup().await.map_err(says)
}

/// Puts a call on hold or takes it off. Returns once the far end agreed, with whether the
/// call is held now (the window shows the change as pending until then).
#[tauri::command]
pub async fn set_hold(state: State<'_, AppState>, call: u64, on: bool) -> CommandResult<bool> {
    let call = state.call(call)?;
    let what = if on { "the call could not be held" } else { "the call could not be resumed" };
    if on { call.hold().await } else { call.unhold().await }.map_err(|e| format!("{what}: {e}"))?;
    Ok(on)
}

/// Mutes or unmutes the microphone in a call. Returns once the engine did it, with whether
/// the microphone is muted now.
#[tauri::command]
pub async fn set_mute(state: State<'_, AppState>, call: u64, on: bool) -> CommandResult<bool> {
    let call = state.call(call)?;
    let what = if on { "the microphone could not be muted" } else { "the microphone could not be turned back on" };
    if on { call.mute().await } else { call.unmute().await }.map_err(|e| format!("{what}: {e}"))?;
    Ok(on)
}

/// Sends keypad digits in a call.
#[tauri::command]
pub async fn send_dtmf(state: State<'_, AppState>, call: u64, digits: String) -> CommandResult<()> {
    state.call(call)?.send_dtmf(&digits, None, None).await.map_err(says)
}

/// Blind transfer to `target`.
#[tauri::command]
pub async fn transfer(state: State<'_, AppState>, call: u64, target: String) -> CommandResult<()> {
    let target = number::normalise(&target).ok_or("not a number to transfer to")?;
    state.call(call)?.transfer(&target).await.map_err(says)
}

/// Warm transfer: holds the call and calls `target` first; returns the new call's id.
#[tauri::command]
pub async fn warm_transfer(state: State<'_, AppState>, call: u64, target: String) -> CommandResult<u64> {
    let target = number::normalise(&target).ok_or("not a number to transfer to")?;
    let transfer = state.call(call)?.warm_transfer(&target, None).await.map_err(says)?;
    let id = transfer.target.id().0;
    state.add_call(transfer.target.clone());
    state.add_warm_transfer(call, transfer);
    Ok(id)
}

/// Connects the held party with the consulted one.
#[tauri::command]
pub async fn complete_transfer(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.take_warm_transfer(call)?.complete().await.map_err(says)
}

/// Ends the consultation and resumes the held call.
#[tauri::command]
pub async fn cancel_transfer(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.take_warm_transfer(call)?.cancel().await.map_err(says)
}

/// Flips the call to another of the user's phones (`target`): that phone rings and takes
/// the call over.
#[tauri::command]
pub async fn flip(state: State<'_, AppState>, call: u64, target: String) -> CommandResult<()> {
    let target = number::normalise(&target).ok_or("not a number to flip to")?;
    let result = state.call(call)?.flip(&target).await.map_err(says)?;
    result.succeeded().then_some(()).ok_or_else(|| format!("flip failed: {}", result.description))
}

/// Starts or stops recording the call. Returns once the server answered, with whether the
/// call is recorded now.
#[tauri::command]
pub async fn set_recording(state: State<'_, AppState>, call: u64, on: bool) -> CommandResult<bool> {
    let call = state.call(call)?;
    let what = if on { "recording could not start" } else { "recording could not stop" };
    let result = if on { call.start_recording().await } else { call.stop_recording().await }.map_err(|e| format!("{what}: {e}"))?;
    result.succeeded().then_some(on).ok_or_else(|| format!("{what}: {}", result.description))
}

/// Parks a call; returns the park extension to dial to pick it up.
#[tauri::command]
pub async fn park(state: State<'_, AppState>, call: u64) -> CommandResult<String> {
    let result = state.call(call)?.park().await.map_err(says)?;
    result.park_extension().map(|e| format!("*{e}")).ok_or_else(|| format!("park failed: {}", result.description))
}

/// The keychain entry name of an account.
pub fn account_key(info: &webphone::SipInfo) -> String {
    format!("{}@{}", info.authorization_id, info.domain)
}

/// The account changes from `old` to `new`: the old account's password leaves the keychain
/// (nothing of an account the user left stays behind).
pub fn forget_replaced_account(keychain: &dyn crate::secrets::SecretStore, old: Option<&webphone::SipInfo>, new: Option<&webphone::SipInfo>) {
    let Some(old) = old else { return };
    if new.is_none_or(|n| account_key(n) != account_key(old)) {
        keychain.delete(&account_key(old));
    }
}

/// Ends the sign-in in force before another one replaces it or the user signs out: its
/// tokens are revoked at the server (a note says when that failed) and leave the keychain.
pub async fn end_sign_in(current: Option<std::sync::Arc<rc_rest::RcClient>>, keychain: &dyn crate::secrets::SecretStore) -> Option<String> {
    let note = match current {
        Some(client) => client.revoke().await.err().map(|e| format!("signed out here; the server was not told ({e})")),
        None => None,
    };
    signin::forget_tokens(keychain);
    note
}

/// What using an account or the demo gave: the phone's status, and a note for the user
/// (e.g. that the password could only be kept for this session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Switched {
    /// The phone's status.
    pub status: Status,
    /// Something the user should know, if anything.
    pub note: Option<String>,
}

/// Uses the account in `sipinfo` (pasted JSON, the object or a whole sip-provision answer):
/// checks every field, keeps the password in the keychain and the rest in the settings, and
/// registers with it.
#[tauri::command]
pub async fn use_account(app: tauri::AppHandle, state: State<'_, AppState>, keychain: State<'_, Keychain>, sipinfo: String) -> CommandResult<Switched> {
    let info = webphone::SipInfo::from_json(&sipinfo).map_err(says)?;
    let note = match keychain.set(&account_key(&info), &info.password) {
        Stored::Keychain => None,
        Stored::SessionOnly(why) => Some(why),
    };
    let path = Settings::path_in(&settings::config_dir());
    let mut prefs = Settings::load(&path)?;
    forget_replaced_account(keychain.inner(), prefs.account.as_ref(), Some(&info));
    prefs.account = Some(info.clone());
    // A user with an account is past the first-run welcome, also after a later sign-out.
    prefs.welcomed = true;
    prefs.save(&path)?;
    let status = state.start(app, Some(info), &prefs).await?;
    Ok(Switched { status, note })
}

/// Forgets the account and runs the demo.
#[tauri::command]
pub async fn use_demo(app: tauri::AppHandle, state: State<'_, AppState>, keychain: State<'_, Keychain>) -> CommandResult<Switched> {
    let path = Settings::path_in(&settings::config_dir());
    let mut prefs = Settings::load(&path)?;
    forget_replaced_account(keychain.inner(), prefs.account.as_ref(), None);
    prefs.account = None;
    prefs.save(&path)?;
    let status = state.start(app, None, &prefs).await?;
    Ok(Switched { status, note: None })
}

/// What the settings view shows: the settings (without the account), the devices to choose
/// from, the caller IDs to offer, and what the system says about starting at login and the
/// tray.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// The settings; the account is left out (it is set apart, see [`use_account`]).
    #[serde(flatten)]
    pub settings: Settings,
    /// Input device names.
    pub inputs: Vec<String>,
    /// Output device names.
    pub outputs: Vec<String>,
    /// Caller IDs the picker offers.
    pub available_caller_ids: Vec<String>,
    /// Whether the app starts at login; `None` when the system cannot say (then why, in
    /// `start_at_login_error`).
    pub start_at_login: Option<bool>,
    /// Why starting at login is unknown, if it is.
    pub start_at_login_error: Option<String>,
    /// Whether there is a tray icon (without one, closing the window quits).
    pub tray: bool,
}

/// `update` (settings from the window, without an account) checked and put over `base`:
/// volume 0..=100, caller IDs dialable, the instance ID a plain token, blank names `None`;
/// the account stays `base`'s.
pub fn checked_settings(update: Settings, base: &Settings) -> CommandResult<Settings> {
    if update.ring_volume > 100 {
        return Err(format!("the ring volume must be 0 to 100, not {}", update.ring_volume));
    }
    let mut caller_ids = Vec::new();
    for id in &update.caller_ids {
        let n = number::normalise(id).ok_or_else(|| format!("\"{id}\" is not a phone number for the caller ID list"))?;
        if !caller_ids.contains(&n) {
            caller_ids.push(n);
        }
    }
    let blank_none = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    // Blank: a new instance ID of this installation's own.
    let instance_id = blank_none(update.instance_id).unwrap_or_else(settings::new_instance_id);
    if !instance_id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
        return Err(format!("the instance ID may hold letters, digits and - _ . : only, not \"{instance_id}\""));
    }
    let instance_id = Some(instance_id);
    let caller_id = blank_none(update.caller_id).map(|id| caller_id_of(&id)).transpose()?;
    Ok(Settings {
        account: base.account.clone(),
        signed_in: base.signed_in.clone(),
        input_device: blank_none(update.input_device),
        output_device: blank_none(update.output_device),
        ring_device: blank_none(update.ring_device),
        caller_ids,
        caller_id,
        instance_id,
        // Answered in the welcome, never in the settings view.
        welcomed: base.welcomed,
        ..update
    })
}

/// The settings, devices and caller IDs for the settings view.
#[tauri::command]
pub fn settings(app: tauri::AppHandle, state: State<'_, AppState>) -> SettingsView {
    let (inputs, outputs) = state.devices();
    let settings = Settings { account: None, ..state.settings() };
    let (start_at_login, start_at_login_error) = match crate::autostart::is_on(&app) {
        Ok(on) => (Some(on), None),
        Err(e) => (None, Some(e)),
    };
    let tray = app.try_state::<crate::tray::Tray>().is_some();
    SettingsView { settings, inputs, outputs, available_caller_ids: state.available_caller_ids(), start_at_login, start_at_login_error, tray }
}

/// Saves the settings and puts them in force at once (devices of calls in progress too);
/// `start_at_login`, when given, turns starting at login on or off. Returns what the user
/// should know.
#[tauri::command]
pub async fn save_settings(app: tauri::AppHandle, state: State<'_, AppState>, update: Settings, start_at_login: Option<bool>) -> CommandResult<String> {
    let path = Settings::path_in(&settings::config_dir());
    let on_disk = Settings::load(&path).unwrap_or_else(|_| state.settings());
    let new = checked_settings(update, &on_disk)?;
    new.save(&path)?;
    let note = state.apply_settings(&app, new).await?;
    if let Some(on) = start_at_login {
        crate::autostart::set(&app, on).map_err(|e| format!("Settings saved, but {e}."))?;
    }
    Ok(note.unwrap_or_else(|| "Settings saved.".into()))
}

/// Chooses the caller ID of the next calls (`None`: the account's number) and saves it.
#[tauri::command]
pub fn choose_caller_id(state: State<'_, AppState>, caller_id: Option<String>) -> CommandResult<()> {
    let update = Settings { caller_id, ..state.settings() };
    let path = Settings::path_in(&settings::config_dir());
    let new = checked_settings(update, &state.settings())?;
    new.save(&path)?;
    state.replace_settings(new);
    Ok(())
}

/// Plays the ringtone once on `device` (the default output when `None`) at `volume`.
#[tauri::command]
pub fn test_sound(state: State<'_, AppState>, device: Option<String>, ringtone: crate::ringer::Ringtone, volume: u8) -> CommandResult<()> {
    state.test_sound(&crate::ringer::RingSettings { device, ringtone, volume: volume.min(100) })
}

/// Debug mode's SIP messages containing `filter` (all when empty), oldest first.
#[tauri::command]
pub fn sip_log(state: State<'_, AppState>, filter: String) -> Vec<crate::siplog::Line> {
    state.sip_log(&filter)
}

/// Empties the SIP log.
#[tauri::command]
pub fn clear_sip_log(state: State<'_, AppState>) {
    state.clear_sip_log();
}

/// The number of a `tel:`/`callto:` link that opened the app before the window was ready.
#[tauri::command]
pub fn pending_link(state: State<'_, AppState>) -> Option<String> {
    state.take_pending_link()
}

/// The call history, newest first.
#[tauri::command]
pub fn history(state: State<'_, AppState>) -> Vec<crate::history::Entry> {
    state.history()
}

/// Demo mode: a bot (`tone`, `echo`, `ivr`) calls us.
#[tauri::command]
pub async fn demo_incoming_call(state: State<'_, AppState>, bot: String) -> CommandResult<()> {
    use rc_sim::core::BotKind;
    let kind = match bot.as_str() {
        "echo" => BotKind::Echo,
        "ivr" => BotKind::Ivr,
        _ => BotKind::Tone,
    };
    state.demo().await?.call_extension(kind, crate::state::DEMO_NUMBER).await.map(drop)
}

/// Demo mode: the demo server drops this phone's connection, as a network failure would (the
/// phone reconnects by itself; calls in progress go on).
#[tauri::command]
pub async fn demo_drop_connection(state: State<'_, AppState>) -> CommandResult<()> {
    let sim = state.demo().await?;
    let registrations = sim.registrations().await;
    let mine = registrations.iter().filter(|b| b.number == crate::state::DEMO_NUMBER);
    let conns: std::collections::HashSet<u64> = mine.map(|b| b.conn).collect();
    if conns.is_empty() {
        return Err("the demo phone is not connected".into());
    }
    for conn in conns {
        sim.drop_connection(conn);
    }
    Ok(())
}

/// What signing in gave: the phone's status, the account's caller IDs and a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedInView {
    /// The phone's status.
    pub status: Status,
    /// The caller IDs the account offers.
    pub caller_ids: Vec<String>,
    /// Something the user should know, if anything.
    pub note: Option<String>,
}

/// Signs in to RingCentral (the browser with PKCE, or a JWT), provisions the phone with the
/// sipInfo the account gives, and fills the caller IDs. In demo mode `server` may be `demo`:
/// the embedded demo server's REST API, whose account the phone already uses.
#[tauri::command]
pub async fn sign_in(app: tauri::AppHandle, state: State<'_, AppState>, keychain: State<'_, Keychain>, request: signin::SignInRequest) -> CommandResult<SignedInView> {
    let demo = request.server == signin::DEMO_SERVER;
    let endpoint = match demo {
        true => state.demo_endpoint().await?,
        false => signin::Endpoint { base_url: signin::base_url(&request.server), extra_ca_pem: crate::state::extra_ca_from_env()? },
    };
    let client_id = match (demo, request.client_id.trim()) {
        (true, "") => rc_sim::config::OAuthSettings::DEMO_PUBLIC_CLIENT.to_owned(),
        (_, "") => return Err("enter the client ID of your RingCentral app".into()),
        (_, id) => id.to_owned(),
    };
    let client = signin::client(&endpoint, &client_id, request.client_secret.as_deref())?;
    signin::sign_in(&client, &request, signin::open_in_browser).await?;
    // The new sign-in replaces the one in force (perhaps at another server): revoke that one
    // first, so no valid token of it is left anywhere.
    let _ = end_sign_in(state.rest().ok(), keychain.inner()).await;
    state.set_rest(None);
    signin::save_tokens_of(&client, keychain.inner());
    let info = client.sip_info().await.map_err(|e| signin::explain(&e))?;
    let caller_ids = signin::caller_ids(&client).await.unwrap_or_default();
    signin::save_tokens_of(&client, keychain.inner());
    let path = Settings::path_in(&settings::config_dir());
    let mut prefs = Settings::load(&path)?;
    prefs.signed_in = Some(signin::SignedIn { server: request.server.clone(), client_id });
    let (status, note) = if demo {
        prefs.save(&path)?;
        state.remember_settings(&prefs);
        (state.status(), None)
    } else {
        let note = match keychain.set(&account_key(&info), &info.password) {
            Stored::Keychain => None,
            Stored::SessionOnly(why) => Some(why),
        };
        forget_replaced_account(keychain.inner(), prefs.account.as_ref(), Some(&info));
        prefs.account = Some(info.clone());
        prefs.welcomed = true;
        prefs.save(&path)?;
        (state.start(app, Some(info), &prefs).await?, note)
    };
    state.set_rest(Some(std::sync::Arc::new(client)));
    state.set_account_caller_ids(caller_ids.clone());
    Ok(SignedInView { status, caller_ids, note })
}

/// The demo server's sign-in credentials for a service account (JWT), to fill the form with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCredentials {
    /// The demo's confidential app.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The demo user's JWT credential.
    pub jwt: String,
}

/// Demo mode: the credentials of the demo server's service-account sign-in.
#[tauri::command]
pub async fn demo_credentials(state: State<'_, AppState>) -> CommandResult<DemoCredentials> {
    let sim = state.demo().await?;
    let (_, me) = sim.config().extension_by_number(crate::state::DEMO_NUMBER).ok_or("the demo account is missing")?;
    let jwt = me.jwt.clone().ok_or("the demo account has no JWT credential")?;
    use rc_sim::config::OAuthSettings;
    Ok(DemoCredentials { client_id: OAuthSettings::DEMO_CONFIDENTIAL_CLIENT.into(), client_secret: OAuthSettings::DEMO_SECRET.into(), jwt })
}

/// At start: the saved sign-in comes back (its tokens from the keychain) for the caller IDs
/// and conferences. A sign-in to the demo server does not outlive it (a new one starts each
/// time).
pub async fn restore_sign_in(state: &AppState, keychain: &Keychain, prefs: &Settings) -> CommandResult<()> {
    let Some(signed_in) = prefs.signed_in.clone().filter(|s| s.server != signin::DEMO_SERVER) else { return Ok(()) };
    let Some(tokens) = signin::saved_tokens(keychain) else {
        return Err("the RingCentral sign-in has ended (no saved tokens): sign in again in Settings".into());
    };
    let endpoint = signin::Endpoint { base_url: signin::base_url(&signed_in.server), extra_ca_pem: crate::state::extra_ca_from_env()? };
    let client = signin::client(&endpoint, &signed_in.client_id, None)?;
    client.set_tokens(Some(tokens));
    let caller_ids = signin::caller_ids(&client).await;
    signin::save_tokens_of(&client, keychain);
    state.set_rest(Some(std::sync::Arc::new(client)));
    state.set_account_caller_ids(caller_ids?);
    Ok(())
}

/// Signs out: revokes the tokens (the local sign-out happens even when the server cannot be
/// reached), forgets them and the account, and runs the demo.
#[tauri::command]
pub async fn sign_out(app: tauri::AppHandle, state: State<'_, AppState>, keychain: State<'_, Keychain>) -> CommandResult<Switched> {
    let revoked = end_sign_in(state.rest().ok(), keychain.inner()).await;
    state.set_rest(None);
    let was_demo = state.settings().signed_in.as_ref().is_some_and(|s| s.server == signin::DEMO_SERVER);
    let path = Settings::path_in(&settings::config_dir());
    let mut prefs = Settings::load(&path)?;
    prefs.signed_in = None;
    if was_demo {
        prefs.save(&path)?;
        state.remember_settings(&prefs);
        return Ok(Switched { status: state.status(), note: revoked });
    }
    forget_replaced_account(keychain.inner(), prefs.account.as_ref(), None);
    prefs.account = None;
    prefs.save(&path)?;
    let status = state.start(app, None, &prefs).await?;
    Ok(Switched { status, note: revoked })
}

/// Brings call `call` into this phone's conference, creating the conference (and dialling
/// into it as its host) first when there is none. Returns our call into the conference.
#[tauri::command]
pub async fn conference(state: State<'_, AppState>, keychain: State<'_, Keychain>, call: u64) -> CommandResult<u64> {
    let client = state.rest()?;
    let (session_id, party_id) = telephony_ids(&state.call(call)?).await?;
    let (conference, host) = match state.conference() {
        Some(session) => (session, None),
        None => {
            let created = client.create_conference().await.map_err(|e| signin::explain(&e))?;
            state.dialling_conference(&created.voice_call_token);
            let host = state.phone().await?.call(Dial { callee: created.voice_call_token.clone(), ..Dial::default() }).await.map_err(says)?;
            host.wait_answered(std::time::Duration::from_secs(15)).await.map_err(|e| format!("the conference did not answer: {e}"))?;
            let id = host.id().0;
            state.add_call(host);
            state.set_conference(created.session_id.clone(), id);
            (created.session_id, Some(id))
        }
    };
    let result = client.bring_in(&conference, &session_id, &party_id).await.map_err(|e| signin::explain(&e));
    signin::save_tokens_of(&client, keychain.inner());
    result?;
    Ok(host.or_else(|| state.conference_call()).unwrap_or(call))
}

/// The RingCentral telephony session and party of `call` (from its `p-rc-api-ids`), which
/// bring-in names it by.
async fn telephony_ids(call: &CallSession) -> CommandResult<(String, String)> {
    let facts = call.info().await.map_err(says)?;
    match (facts.session_id, facts.party_id) {
        (Some(session), Some(party)) => Ok((session, party)),
        _ => Err("this call carries no RingCentral session (it cannot join a conference)".into()),
    }
}

/// How long an invited number may ring before the invitation is given up.
const INVITE_RING_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Invites `number` into the conference we host: dials it and, once it answers, brings the
/// call in. Returns the new call's id at once; how the invitation ends is told as a notice.
#[tauri::command]
pub async fn conference_invite(app: tauri::AppHandle, state: State<'_, AppState>, number: String) -> CommandResult<u64> {
    let client = state.rest()?;
    let conference = state.conference().ok_or("host a conference first: press Conference on a call")?;
    let callee = number::normalise(&number).ok_or_else(|| format!("\"{}\" is not a number that can be dialled", number.trim()))?;
    let call = state.phone().await?.call(Dial { callee: callee.clone(), ..Dial::default() }).await.map_err(says)?;
    let id = call.id().0;
    state.add_call(call.clone());
    tauri::async_runtime::spawn(async move {
        let text = match bring_in_when_answered(&client, &conference, &call).await {
            Ok(()) => format!("{callee} joined your conference"),
            Err(why) => format!("{callee} did not join the conference: {why}"),
        };
        signin::save_tokens_of(&client, app.state::<Keychain>().inner());
        let _ = app.emit("phone-event", crate::events::UiEvent::Notice { text });
    });
    Ok(id)
}

/// Waits for `call` to be answered, then brings it into `conference`; a call that is not
/// answered in time is hung up.
async fn bring_in_when_answered(client: &rc_rest::RcClient, conference: &str, call: &CallSession) -> Result<(), String> {
    if let Err(e) = call.wait_answered(INVITE_RING_LIMIT).await {
        let _ = call.hangup().await;
        return Err(format!("not answered ({e})"));
    }
    let (session_id, party_id) = telephony_ids(call).await?;
    client.bring_in(conference, &session_id, &party_id).await.map(drop).map_err(|e| signin::explain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets in memory, for tests.
    #[derive(Default)]
    struct Memory(std::sync::Mutex<std::collections::HashMap<String, String>>);

    impl crate::secrets::SecretStore for Memory {
        fn set(&self, account: &str, secret: &str) -> Stored {
            self.0.lock().unwrap().insert(account.into(), secret.into());
            Stored::Keychain
        }
        fn get(&self, account: &str) -> Result<String, String> {
            self.0.lock().unwrap().get(account).cloned().ok_or_else(|| "none".into())
        }
        fn delete(&self, account: &str) {
            self.0.lock().unwrap().remove(account);
        }
    }

    fn info(auth: &str) -> webphone::SipInfo {
        webphone::SipInfo::from_json(&format!(r#"{{"username":"1650","password":"pw-{auth}","authorizationId":"{auth}","domain":"sip.ringcentral.com","outboundProxy":"sip.example:8083"}}"#)).unwrap()
    }

    #[test]
    fn a_replaced_accounts_password_leaves_the_keychain() {
        use crate::secrets::SecretStore as _;
        let store = Memory::default();
        let (old, new) = (info("801"), info("802"));
        store.set(&account_key(&old), &old.password);
        store.set(&account_key(&new), &new.password);
        forget_replaced_account(&store, Some(&old), Some(&old));
        assert!(store.get(&account_key(&old)).is_ok(), "the same account again keeps its password");
        forget_replaced_account(&store, Some(&old), Some(&new));
        assert!(store.get(&account_key(&old)).is_err() && store.get(&account_key(&new)).is_ok());
        forget_replaced_account(&store, Some(&new), None);
        assert!(store.get(&account_key(&new)).is_err(), "signing out or going to the demo forgets it too");
    }

    #[tokio::test]
    async fn ending_a_sign_in_revokes_its_tokens_at_the_server_and_forgets_them() {
        use rc_sim::config::{demo_jwt, OAuthSettings};
        let sim = rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.unwrap();
        let endpoint = signin::Endpoint { base_url: sim.rest_url(), extra_ca_pem: Some(sim.ca_pem.clone()) };
        let client = signin::client(&endpoint, OAuthSettings::DEMO_CONFIDENTIAL_CLIENT, Some(OAuthSettings::DEMO_SECRET)).unwrap();
        client.sign_in_jwt(&demo_jwt("101")).await.unwrap();
        let store = Memory::default();
        signin::save_tokens_of(&client, &store);
        let tokens = signin::saved_tokens(&store).expect("saved");

        assert_eq!(end_sign_in(Some(std::sync::Arc::new(client)), &store).await, None, "revoked without trouble");
        assert!(signin::saved_tokens(&store).is_none(), "gone from the keychain");
        let stolen = signin::client(&endpoint, OAuthSettings::DEMO_CONFIDENTIAL_CLIENT, Some(OAuthSettings::DEMO_SECRET)).unwrap();
        stolen.set_tokens(Some(tokens));
        assert!(stolen.caller_ids().await.is_err(), "a copy of the old tokens is worth nothing at the server");
        sim.shutdown();
    }

    #[test]
    fn app_version_reports_the_package() {
        let v = app_version();
        assert_eq!(v.name, "softphone");
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["name"], "softphone");
    }

    fn update() -> Settings {
        Settings::default()
    }

    #[test]
    fn settings_from_the_window_are_checked_and_cleaned() {
        let mut u = update();
        u.caller_ids = vec!["+1 (650) 555-0100".into(), "16505550100".into(), "+16505550100".into()];
        u.input_device = Some("  ".into());
        u.output_device = Some("Speakers".into());
        u.instance_id = Some(" desk-1 ".into());
        u.caller_id = Some("+1 650 555 0100".into());
        let base = Settings { debug: true, ..Settings::default() };
        let s = checked_settings(u, &base).unwrap();
        assert_eq!(s.caller_ids, ["+16505550100", "16505550100"], "normalised, repeats dropped");
        assert_eq!((s.input_device, s.output_device.as_deref()), (None, Some("Speakers")), "blank is the default device");
        assert_eq!((s.instance_id.as_deref(), s.caller_id.as_deref()), (Some("desk-1"), Some("+16505550100")));
        assert!(!s.debug, "the window's value wins over the base");
        let mut u = update();
        u.instance_id = Some(" ".into());
        let fresh = checked_settings(u, &base).unwrap().instance_id.expect("a blank instance ID is a new one");
        assert!(fresh.len() == 36 && fresh != settings::new_instance_id(), "{fresh}");
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        let mut u = update();
        u.ring_volume = 101;
        assert!(checked_settings(u, &Settings::default()).unwrap_err().contains("0 to 100"));
        let mut u = update();
        u.caller_ids = vec!["call me".into()];
        assert!(checked_settings(u, &Settings::default()).unwrap_err().contains("\"call me\""));
        let mut u = update();
        u.instance_id = Some("a b".into());
        assert!(checked_settings(u, &Settings::default()).unwrap_err().contains("instance ID"));
    }

    #[test]
    fn the_settings_view_keeps_the_welcome_answered_and_sets_close_to_tray() {
        let base = Settings { welcomed: true, ..Settings::default() };
        let s = checked_settings(Settings { close_to_tray: false, ..update() }, &base).unwrap();
        assert!(s.welcomed, "the window's settings (which do not carry it) never bring the welcome back");
        assert!(!s.close_to_tray, "the window's choice is saved");
        let s = checked_settings(Settings { welcomed: true, ..update() }, &Settings::default()).unwrap();
        assert!(!s.welcomed, "only the welcome itself answers it");
    }

    #[test]
    fn the_account_survives_a_settings_change() {
        let info = webphone::SipInfo::from_json(r#"{"username":"1650","password":"pw","authorizationId":"802","domain":"d.example","outboundProxy":"p.example:8083"}"#).unwrap();
        let base = Settings { account: Some(info), ..Settings::default() };
        let s = checked_settings(update(), &base).unwrap();
        assert_eq!(s.account.unwrap().authorization_id, "802");
    }

    #[test]
    fn replies_are_texts_or_known_presets() {
        assert_eq!(reply_of(Some(" On my way ".into()), None).unwrap(), Reply::Text("On my way".into()));
        assert_eq!(reply_of(None, Some("in-a-meeting")).unwrap(), Reply::InAMeeting);
        assert!(matches!(reply_of(None, Some("call-back-5min")).unwrap(), Reply::CallYouBack { delay: 5, .. }));
        assert!(reply_of(None, Some("sing")).unwrap_err().contains("no reply preset"));
        assert!(reply_of(Some("   ".into()), None).is_err());
    }
}
