// What every page has: the narrow screens' menu button, the light/dark toggle (the choice
// is remembered; static/js/theme.js applies it early), and times shown in the reader's
// own time zone (<time data-local datetime="...">).
(function () {
  "use strict";
  const root = document.documentElement;
  const dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function currentTheme() {
    if (root.dataset.theme === "light" || root.dataset.theme === "dark") return root.dataset.theme;
    return dark && dark.matches ? "dark" : "light";
  }

  function showTheme() {
    const isDark = currentTheme() === "dark";
    for (const button of document.querySelectorAll("[data-theme-toggle]")) {
      button.setAttribute("aria-pressed", String(isDark));
      button.textContent = "Dark mode";
    }
    document.dispatchEvent(new CustomEvent("studio:theme", { detail: { theme: currentTheme() } }));
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target instanceof Element ? event.target.closest("[data-theme-toggle]") : null;
    if (toggle) {
      const next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try {
        window.localStorage.setItem("studio-theme", next);
      } catch (e) {
        // not remembered, still applied to this page
      }
      showTheme();
      return;
    }
    const menuButton = event.target instanceof Element ? event.target.closest("[data-menu-toggle]") : null;
    if (menuButton) {
      const header = menuButton.closest("[data-menu]");
      const open = menuButton.getAttribute("aria-expanded") !== "true";
      menuButton.setAttribute("aria-expanded", String(open));
      header.classList.toggle("menu-open", open);
    }
  });

  // Escape closes an open menu and gives the focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const header = document.querySelector("[data-menu].menu-open");
    if (!header) return;
    const button = header.querySelector("[data-menu-toggle]");
    header.classList.remove("menu-open");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });

  if (dark && dark.addEventListener) dark.addEventListener("change", showTheme);

  // Server-rendered times are UTC; say them in the reader's zone, keeping the text's meaning.
  function localTimes(scope) {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    for (const element of scope.querySelectorAll("time[data-local]")) {
      const moment = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) continue;
      if (!element.title) element.title = element.textContent.trim();
      element.textContent = format.format(moment);
    }
  }

  // Dollars as the pages' |usd filter writes them: cents from a cent up, two significant
  // digits below ("$0.00012"), "$0.00" for nothing.
  function usd(value) {
    const amount = Number(value) || 0;
    if (amount === 0) return "$0.00";
    const abs = Math.abs(amount);
    const sign = amount < 0 ? "-" : "";
    if (abs >= 0.01) return sign + "$" + abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const places = Math.min(8, 1 - Math.floor(Math.log10(abs)));
    return sign + "$" + abs.toFixed(places).replace(/0+$/, "");
  }

  // A character counter under a text box with a limit (<span data-counter-for="id">): the
  // box's maxlength is the limit, and text pasted past it is said to be cut, not dropped silently.
  function counters() {
    for (const counter of document.querySelectorAll("[data-counter-for]")) {
      const box = document.getElementById(counter.dataset.counterFor);
      if (!box) continue;
      const limit = Number(box.getAttribute("maxlength")) || 0;
      let cut = false;
      const show = function () {
        const n = box.value.length;
        const text = n.toLocaleString("en-US") + (limit ? " / " + limit.toLocaleString("en-US") : "") + " characters";
        counter.textContent = cut ? text + ": the pasted text was cut at the limit" : (limit && n >= limit ? text + ": the limit" : text);
        counter.classList.toggle("over", Boolean(limit && n >= limit));
      };
      box.addEventListener("paste", function (event) {
        const pasted = event.clipboardData ? event.clipboardData.getData("text").length : 0;
        const kept = box.value.length - (box.selectionEnd - box.selectionStart);
        cut = Boolean(limit && kept + pasted > limit);
      });
      box.addEventListener("input", function (event) {
        if (event.inputType !== "insertFromPaste") cut = false;
        show();
      });
      show();
    }
  }

  // A table wider than its box scrolls inside it; keyboard users reach it with Tab then.
  // The heading a table sits under: the nearest one before it (in its box or above).
  function headingOf(element) {
    for (let node = element; node && node.tagName !== "MAIN"; node = node.parentElement) {
      for (let before = node.previousElementSibling; before; before = before.previousElementSibling) {
        if (/^H[1-3]$/.test(before.tagName)) return before.textContent.trim();
      }
    }
    return "";
  }

  function scrollableTables() {
    const names = new Set();
    for (const wrap of document.querySelectorAll(".table-wrap")) {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        let name = (headingOf(wrap) || "Table") + " (scrolls sideways)";
        for (let n = 2; names.has(name); n++) name = name.replace(/( \d+)?$/, " " + n);
        names.add(name);
        wrap.setAttribute("aria-label", name);
      } else if (!scrolls && wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    }
  }

  window.Studio = window.Studio || {};
  window.Studio.localTimes = localTimes;
  window.Studio.usd = usd;
  counters();
  scrollableTables();
  window.addEventListener("resize", scrollableTables);
  showTheme();
  localTimes(document);
})();
