// A form with data-confirm="Question?" asks before it submits; Cancel keeps it from
// submitting (and from reaching other submit listeners). Inline onsubmit= handlers would be
// refused by the Content-Security-Policy (script-src 'self'), so pages say it this way.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
