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
