// Keyboard shortcuts of the window, and when they must keep out of the way: never while
// the user types, never on a control whose own key it is, never under a dialog.
//   Escape        hangs up the call in progress (closes an open question on a call first)
//   0-9 * #       keypad tones in the call in progress
//   Ctrl+Enter    answers the ringing call (⌘+Enter on macOS)

/** Elements in which keys are typing: text fields, lists, editable content. */
const TYPING = 'input, textarea, select, [contenteditable]:not([contenteditable="false"])';

/** Elements whose own action Enter (or Space) triggers: buttons, links, disclosure heads. */
const PRESSABLE = "button, a[href], summary, [role=\"tab\"]";

/** True when a key on `target` is typing. */
export function isTyping(target) {
  return Boolean(target?.closest?.(TYPING));
}

/** The shortcut a key event stands for, or undefined when the key belongs to where it was
 * pressed. Returns "close-ask" (Escape in a call's question form), "hangup", "dtmf" or
 * "answer". `dialogOpen`: a modal dialog (the welcome, About) has the keys. */
export function shortcutFor(ev, dialogOpen) {
  if (dialogOpen || ev.defaultPrevented || ev.isComposing) return undefined;
  const target = ev.target;
  if (ev.key === "Escape") {
    if (target?.closest?.("form.ask")) return "close-ask";
    return isTyping(target) ? undefined : "hangup";
  }
  if (/^[0-9*#]$/.test(ev.key) && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    return isTyping(target) ? undefined : "dtmf";
  }
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    // A focused Decline button (or any button, link or field) keeps its own Enter: the
    // shortcut never answers on top of it.
    return isTyping(target) || target?.closest?.(PRESSABLE) ? undefined : "answer";
  }
  return undefined;
}
