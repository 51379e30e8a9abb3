// The colour theme: the system's (prefers-color-scheme) unless the person chose one with
// the header's toggle, remembered in localStorage. Loaded in <head> without defer, so the
// chosen theme is on <html> before anything is drawn; static/js/site.js wires the toggle.
(function () {
  "use strict";
  let stored = null;
  try {
    stored = window.localStorage.getItem("studio-theme");
  } catch (e) {
    stored = null;  // storage refused (private mode, blocked cookies): follow the system
  }
  if (stored === "light" || stored === "dark") document.documentElement.dataset.theme = stored;
  document.documentElement.classList.add("js");
})();
