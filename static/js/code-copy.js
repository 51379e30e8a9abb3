// A "Copy" button on each code block of rendered markdown (answers are sanitized HTML,
// so the buttons are added here, never stored). Blocks on the page get theirs at load;
// pages that render an answer later call Studio.codeCopy.decorate(element).
(function () {
  "use strict";
  const RESET_MS = 2000;

  // The fallback where the Clipboard API is missing or refused (an http:// origin, an
  // older browser): copy from a hidden textarea.
  function copyWithSelection(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (e) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (e) {
        // refused (no permission, page not focused): try the old way
      }
    }
    return copyWithSelection(text);
  }

  function show(button, label) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = label;
    clearTimeout(button._reset);
    button._reset = setTimeout(function () { button.textContent = button.dataset.label; }, RESET_MS);
  }

  // Wrap each code block under `root` (an element or the document) with its button;
  // blocks already wrapped are left alone, so calling it again is harmless.
  function decorate(root) {
    if (!root) return;
    const blocks = root.matches && root.matches(".markdown") ? root.querySelectorAll("pre")
                                                              : root.querySelectorAll(".markdown pre");
    for (const pre of blocks) {
      if (pre.parentElement.classList.contains("code-block")) continue;
      const wrapper = document.createElement("div");
      wrapper.className = "code-block";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary copy-code";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy the code");
      button.setAttribute("data-testid", "copy-code");
      pre.replaceWith(wrapper);
      wrapper.append(button, pre);
    }
  }

  function selectContents(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // One listener for every button, those added later included. A "Copy answer" button
  // (data-copy-answer="<id>") copies the answer's markdown as written (data-source), else
  // its text as shown.
  document.addEventListener("click", async function (event) {
    const whole = event.target instanceof Element ? event.target.closest("button[data-copy-answer]") : null;
    if (whole) {
      const answer = document.getElementById(whole.dataset.copyAnswer) || whole.closest("li");
      const body = answer && (answer.matches(".markdown") ? answer : answer.querySelector(".markdown"));
      if (!body) return;
      const text = body.dataset.source || body.innerText;
      if (await copyText(text)) show(whole, "Copied");
      else {
        selectContents(body);
        show(whole, "Press Ctrl+C");
      }
      return;
    }
    const button = event.target instanceof Element ? event.target.closest("button.copy-code") : null;
    const pre = button && button.parentElement.querySelector("pre");
    if (!pre) return;
    if (await copyText(pre.textContent)) {
      show(button, "Copied");
    } else {
      selectContents(pre);  // so Ctrl+C copies it
      show(button, "Press Ctrl+C");
    }
  });

  window.Studio = window.Studio || {};
  window.Studio.codeCopy = { decorate: decorate, copyText: copyText };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { decorate(document); });
  } else {
    decorate(document);
  }
})();
