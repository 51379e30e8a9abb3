// Text page: send the prompt to the API as a stream and show the answer as it arrives.
// Pieces are shown as plain text (textContent, never HTML); at the end the server's
// sanitized HTML rendering of the markdown replaces them.
(function () {
  "use strict";
  const form = document.getElementById("text-form");
  if (!form) return;
  const card = document.getElementById("answer-card");
  const streamBox = document.getElementById("answer-stream");
  const answer = document.getElementById("answer");
  const errorBox = document.getElementById("answer-error");
  const meta = document.getElementById("answer-meta");
  const button = form.querySelector("button[type=submit]");
  const stopButton = document.getElementById("text-stop");
  const tools = document.getElementById("answer-tools");
  const regenerateButton = document.getElementById("text-regenerate");
  const live = document.getElementById("answer-live");
  let controller = null;
  let lastBody = null;
  const sse = window.Studio.sse;
  const errorMessage = sse.errorMessage;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearFieldErrors() {
    form.querySelectorAll("ul.errorlist[data-field-error]").forEach((list) => list.remove());
  }

  // A 400 naming form fields ({"prompt": ["..."]}): each message goes under its field, as
  // the plain-form page shows them. Returns false when the body names no field of the form.
  function showFieldErrors(body) {
    if (!body || typeof body !== "object" || body.detail) return false;
    const fields = Object.keys(body).filter((name) => form.elements[name] instanceof Element);
    if (!fields.length) return false;
    for (const name of fields) {
      const list = document.createElement("ul");
      list.className = "errorlist";
      list.dataset.fieldError = name;
      for (const message of [].concat(body[name])) {
        const item = document.createElement("li");
        item.textContent = String(message);
        list.append(item);
      }
      form.elements[name].insertAdjacentElement("afterend", list);
    }
    // Options hide some fields: open them when one of those is wrong.
    const options = form.querySelector("details.options");
    if (options && fields.some((name) => options.contains(form.elements[name]))) options.open = true;
    form.elements[fields[0]].focus();
    return true;
  }

  function numberOrNull(value) {
    return value === "" ? null : Number(value);
  }

  function finish(result) {
    answer.innerHTML = result.html;  // sanitized on the server (markdown + nh3)
    window.Studio.codeCopy.decorate(answer);
    answer.hidden = false;
    streamBox.hidden = true;
    const usage = result.usage || {};
    meta.textContent = "";
    meta.append(
      "Tokens: " + usage.prompt_tokens + " in, " + usage.completion_tokens + " out · cost " +
      window.Studio.usd(usage.cost || 0) + " · ");
    const link = document.createElement("a");
    link.href = "/history/" + result.id;
    link.textContent = "saved in your history";
    meta.append(link);
    answer.dataset.source = result.text || "";
    tools.hidden = false;
  }

  function setBusy(busy) {
    card.dataset.state = busy ? "streaming" : "done";
    live.setAttribute("aria-busy", String(busy));
    button.disabled = busy;
    stopButton.hidden = !busy;
    if (busy) tools.hidden = true;
  }

  async function run(body) {
    lastBody = body;
    clearFieldErrors();
    card.hidden = false;
    errorBox.hidden = true;
    answer.hidden = true;
    answer.textContent = "";
    answer.dataset.source = "";
    streamBox.hidden = false;
    streamBox.textContent = "";
    meta.textContent = "Waiting for the model…";
    setBusy(true);
    controller = new AbortController();
    try {
      const response = await sse.post(form.dataset.api, body, form.elements.csrfmiddlewaretoken.value, controller.signal);
      const done = await sse.read(response, function (parsed) {
        if (parsed.event === "start") {
          meta.textContent = "Writing, with " + parsed.data.model + "…";
        } else if (parsed.event === "done") {
          finish(parsed.data);
          return true;
        } else if (parsed.event === "error") {
          if (showFieldErrors(parsed.data)) card.hidden = true;
          else showError(errorMessage(parsed.data, response.status));
          meta.textContent = "";
          return true;
        } else if (parsed.data && typeof parsed.data.text === "string") {
          streamBox.textContent += parsed.data.text;
        }
        return false;
      });
      if (!done && !response.ok) showError("The request failed (HTTP " + response.status + ").");
    } catch (error) {
      if (error.name === "AbortError") {
        // Not a failure: what arrived stays on the page and is kept in the history.
        meta.textContent = "Stopped. What arrived so far is kept in your history.";
        answer.dataset.source = streamBox.textContent;
        tools.hidden = false;
      } else {
        showError("The connection failed: " + error.message);
      }
    } finally {
      controller = null;
      setBusy(false);
    }
  }

  form.addEventListener("submit", function (submitEvent) {
    submitEvent.preventDefault();
    if (controller) return;
    run({
      model: form.elements.model.value,
      prompt: form.elements.prompt.value,
      system: form.elements.system.value,
      max_tokens: numberOrNull(form.elements.max_tokens.value),
      temperature: numberOrNull(form.elements.temperature.value),
      stream: true,
    });
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends; a plain Enter is a new line in a long prompt.
  form.elements.prompt.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  stopButton.addEventListener("click", function () {
    if (controller) controller.abort();
  });

  regenerateButton.addEventListener("click", function () {
    if (lastBody && !controller) run(lastBody);
  });
})();
