// About: the version and the licences of everything the app ships.
import { $, run } from "./common.js";

const PLATFORM = { linux: "Linux", windows: "Windows", macos: "macOS" };

/** "" for something on every platform, else " (Windows only)" and the like. */
function platformsNote(platforms) {
  if (platforms.length === Object.keys(PLATFORM).length) return "";
  return ` (${platforms.map((p) => PLATFORM[p] ?? p).join(", ")} only)`;
}

function componentItem(c) {
  const li = document.createElement("li");
  const title = document.createElement("strong");
  title.textContent = `${c.name}${c.version ? ` ${c.version}` : ""}`;
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = `${c.what}${c.via ? ` From the crate ${c.via}.` : ""}`;
  li.append(title, ` — ${c.license}${platformsNote(c.platforms)}`, what);
  return li;
}

function crateItem(c) {
  const li = document.createElement("li");
  li.dataset.search = `${c.name} ${c.license}`.toLowerCase();
  const name = document.createElement("span");
  name.textContent = `${c.name} ${c.version}${platformsNote(c.platforms)}`;
  const licence = document.createElement("span");
  licence.className = "licence";
  licence.textContent = c.license;
  li.append(name, licence);
  return li;
}

function fillAbout(list) {
  $("about-project").textContent = `Free software under the ${list.project.license} licence (its own crates: ${list.project.crates.join(", ")}). It ships the following, each under its own licence.`;
  $("about-bundled").replaceChildren(...list.bundled.map(componentItem));
  $("about-system").replaceChildren(...list.system.map(componentItem));
  $("about-crates-title").textContent = `Rust crates (${list.crates.length})`;
  $("about-crates").replaceChildren(...list.crates.map(crateItem));
}

/** The licence list, read once. */
let licences;

export async function openAbout() {
  if (!licences) {
    licences = await run("licenses");
    if (licences) fillAbout(licences);
  }
  $("about").showModal();
}

export function filterCrates() {
  const f = $("about-filter").value.trim().toLowerCase();
  for (const li of $("about-crates").children) li.hidden = f !== "" && !li.dataset.search.includes(f);
}
