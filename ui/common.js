// What every view of the window uses: the shell's commands and the message line.
export const { invoke } = window.__TAURI__.core;

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** Shows `text` in the window's message line (a polite live region). */
export function say(text) {
  $("message").textContent = text ?? "";
}

/** Runs the shell's `command`; a refusal is said in the message line and gives undefined. */
export async function run(command, args) {
  try {
    return await invoke(command, args);
  } catch (err) {
    say(String(err));
    return undefined;
  }
}
