//! Tauri commands: one per user intent, each a thin call into the engine through the app
//! state. Errors come back to the window as sentences.

use crate::number;
use crate::secrets::{Keychain, SecretStore, Stored};
use crate::settings::{self, Settings};
use crate::state::{AppState, CommandResult, Status};
use serde::Serialize;
use tauri::State;
use webphone::{Dial, Reply};

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

/// Calls `number` (pasted in any common format).
#[tauri::command]
pub async fn dial(state: State<'_, AppState>, number: String) -> CommandResult<u64> {
    let callee = number::normalise(&number).ok_or_else(|| format!("\"{}\" is not a number that can be dialled", number.trim()))?;
    let call = state.phone().await?.call(Dial { callee, ..Dial::default() }).await.map_err(says)?;
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

/// Replies to a ringing call with a text; returns what the caller answered, in words.
#[tauri::command]
pub async fn reply(state: State<'_, AppState>, call: u64, text: String) -> CommandResult<String> {
    state.turned_away(call);
    let answer = state.call(call)?.reply(Reply::Text(text)).await.map_err(says)?;
    Ok(match answer.choice {
        webphone::CallerChoice::Yes => "The caller answered: yes".to_owned(),
        webphone::CallerChoice::No => "The caller answered: no".to_owned(),
        webphone::CallerChoice::Urgent(n) => format!("Urgent: call back at {n}"),
        webphone::CallerChoice::Other(_) => "The caller did not answer".to_owned(),
    })
}

/// Hangs up (or cancels, or declines).
#[tauri::command]
pub async fn hangup(state: State<'_, AppState>, call: u64) -> CommandResult<()> {
    state.call(call)?.hangup().await.map_err(says)
}

/// Puts a call on hold or takes it off.
#[tauri::command]
pub async fn set_hold(state: State<'_, AppState>, call: u64, on: bool) -> CommandResult<()> {
    let call = state.call(call)?;
    if on { call.hold().await } else { call.unhold().await }.map_err(says)
}

/// Mutes or unmutes the microphone in a call.
#[tauri::command]
pub async fn set_mute(state: State<'_, AppState>, call: u64, on: bool) -> CommandResult<()> {
    let call = state.call(call)?;
    if on { call.mute().await } else { call.unmute().await }.map_err(says)
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
    let mut prefs = Settings::load(&path).unwrap_or_default();
    prefs.account = Some(info.clone());
    prefs.save(&path)?;
    let status = state.start(app, Some(info), &prefs).await?;
    Ok(Switched { status, note })
}

/// Forgets the account and runs the demo.
#[tauri::command]
pub async fn use_demo(app: tauri::AppHandle, state: State<'_, AppState>) -> CommandResult<Switched> {
    let path = Settings::path_in(&settings::config_dir());
    let mut prefs = Settings::load(&path).unwrap_or_default();
    prefs.account = None;
    prefs.save(&path)?;
    let status = state.start(app, None, &prefs).await?;
    Ok(Switched { status, note: None })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_version_reports_the_package() {
        let v = app_version();
        assert_eq!(v.name, "softphone");
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["name"], "softphone");
    }
}
