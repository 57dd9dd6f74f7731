// The view tabs: a WAI-ARIA tablist. Each tab controls its panel (role tabpanel); only the
// selected tab is in the Tab order, and Left/Right/Home/End move between the shown tabs.

/** The tabs of `list` that are shown (the SIP log tab is hidden outside debug mode). */
function shownTabs(list) {
  return [...list.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden);
}

/** Selects the tab named `name` in `list`: aria-selected, the Tab order and the panels. */
export function selectTab(list, name) {
  for (const tab of list.querySelectorAll('[role="tab"]')) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    const panel = document.getElementById(tab.getAttribute("aria-controls"));
    if (panel) panel.hidden = !on;
  }
}

/** The tab a key moves to from `current`, or undefined for a key tabs do not take. */
function tabFor(key, tabs, current) {
  const at = tabs.indexOf(current);
  switch (key) {
    case "ArrowRight": return tabs[(at + 1) % tabs.length];
    case "ArrowLeft": return tabs[(at - 1 + tabs.length) % tabs.length];
    case "Home": return tabs[0];
    case "End": return tabs[tabs.length - 1];
    default: return undefined;
  }
}

/** Makes `list` work as a tablist: a click or an arrow key shows a tab through `show(name)`
 * (which selects it with {@link selectTab} and loads its view); the focus follows. */
export function setUpTabs(list, show) {
  list.addEventListener("click", (ev) => {
    const tab = ev.target.closest('[role="tab"]');
    if (tab) show(tab.dataset.tab);
  });
  list.addEventListener("keydown", (ev) => {
    const current = ev.target.closest('[role="tab"]');
    if (!current || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const next = tabFor(ev.key, shownTabs(list), current);
    if (!next) return;
    ev.preventDefault();
    show(next.dataset.tab);
    next.focus();
  });
}
