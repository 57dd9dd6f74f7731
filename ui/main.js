// Shows the app's version from the Rust side; the page works without it too.
const { invoke } = window.__TAURI__.core;

async function showVersion() {
  const el = document.getElementById("version");
  try {
    const { name, version } = await invoke("app_version");
    el.textContent = `${name} ${version}`;
  } catch (err) {
    el.textContent = `version unavailable: ${err}`;
  }
}

showVersion();
