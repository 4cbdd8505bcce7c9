// stuf-broker dashboard: confirmations for actions, and jumping from a mapping problem to its line.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.jump");
  const editor = document.getElementById("editor");
  if (!link || !editor || !link.dataset.line) return;
  event.preventDefault();
  const line = parseInt(link.dataset.line, 10);
  const lines = editor.value.split("\n");
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const height = parseFloat(getComputedStyle(editor).lineHeight) || 18;
  editor.scrollTop = Math.max(0, (line - 3) * height);
});

// A table that a template did not put in a scroll box of its own gets one, so that on a narrow screen
// the table scrolls, not the page (and the box can be reached with the keyboard).
const boxTables = (root) => {
  for (const table of root.querySelectorAll("main table")) {
    if (table.closest(".table-scroll, .scroll-box")) continue;
    const box = document.createElement("div");
    box.className = "table-scroll";
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    const heading = table.closest("section, main").querySelector("h1, h2");
    box.setAttribute("aria-label", heading ? heading.textContent.trim() : "table");
    table.replaceWith(box);
    box.appendChild(table);
  }
};
document.addEventListener("DOMContentLoaded", () => boxTables(document));

// Live pages (main[data-live]): the content is fetched again every few seconds at the same address
// (so filters and range stay), unless paused (remembered in this browser), hidden, or someone is
// typing in one of its forms.
(() => {
  const main = document.getElementById("main");
  if (!main || !main.dataset.live) return;
  const KEY = "stuf-broker-live-paused";
  let paused = window.localStorage.getItem(KEY) === "1";
  const label = () => {
    for (const b of document.querySelectorAll("[data-live-toggle]")) {
      b.textContent = paused ? b.dataset.labelResume : b.dataset.labelPause;
      b.setAttribute("aria-pressed", paused ? "true" : "false");
    }
  };
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-live-toggle]")) return;
    paused = !paused;
    window.localStorage.setItem(KEY, paused ? "1" : "0");
    label();
  });
  const refresh = async () => {
    if (paused || document.hidden) return false;
    const active = document.activeElement;
    if (active && main.contains(active) && active.matches("input, select, textarea")) return false;
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok || response.redirected) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("main");
    if (!fresh) return false;
    main.innerHTML = fresh.innerHTML;
    label();
    return true;
  };
  window.stufBrokerRefresh = refresh;  // tests and impatient people
  label();
  window.setInterval(refresh, 1000 * parseInt(main.dataset.live, 10));
})();
