// Conversation page: send a message to the API as a stream and show the answer as it
// arrives; stop it, regenerate the last answer. Pieces are shown as plain text
// (textContent, never HTML); at the end the server's sanitized HTML replaces them.
(function () {
  "use strict";
  const dataNode = document.getElementById("conversation-data");
  const form = document.getElementById("composer");
  if (!dataNode || !form) return;
  const data = JSON.parse(dataNode.textContent);
  const thread = document.getElementById("thread");
  const errorBox = document.getElementById("turn-error");
  const content = form.elements.content;
  const modelSelect = form.elements.model;
  const sendButton = form.querySelector("button[type=submit]");
  const stopButton = document.getElementById("stop");
  const regenerateButton = document.getElementById("regenerate");
  const titleInput = document.getElementById("conversation-title");
  const csrf = form.elements.csrfmiddlewaretoken.value;
  const attachButton = document.getElementById("attach");
  const fileInput = document.getElementById("composer-images");
  const attachmentsBox = document.getElementById("attachments");
  const MAX_IMAGES = 4;
  let attached = [];  // data: URLs of the images picked, pasted or dropped for the next message
  let controller = null;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  const sse = window.Studio.sse;
  const errorMessage = sse.errorMessage;

  function setBusy(busy) {
    thread.dataset.state = busy ? "streaming" : "idle";
    thread.setAttribute("aria-busy", String(busy));
    sendButton.disabled = busy;
    stopButton.hidden = !busy;
    if (busy) regenerateButton.hidden = true;
  }

  function userBubble(text, id, images) {
    const item = document.createElement("li");
    item.className = "message-user";
    item.dataset.role = "user";
    item.setAttribute("data-testid", "message");
    if (id) item.dataset.id = id;
    if (images && images.length) {
      const box = document.createElement("div");
      box.className = "attached-images";
      images.forEach(function (src, index) {
        const img = document.createElement("img");
        img.src = src;
        img.alt = "Attached image " + (index + 1);
        img.setAttribute("data-testid", "attached-image");
        box.append(img);
      });
      item.append(box);
    }
    if (text) {
      const body = document.createElement("div");
      body.className = "content user-text";
      body.textContent = text;
      item.append(body);
    }
    const tools = document.createElement("div");
    tools.className = "message-tools";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "link small";
    edit.textContent = "Edit";
    edit.dataset.editMessage = "";
    edit.setAttribute("data-testid", "edit-message");
    tools.append(edit);
    item.append(tools);
    return item;
  }

  // Edit an earlier message and ask again: the thread is cut there (later messages go).
  function openEditor(item) {
    if (controller || !item.dataset.id || item.querySelector("form.edit-message")) return;
    const text = item.querySelector(".user-text");
    const editor = document.createElement("form");
    editor.className = "edit-message";
    editor.setAttribute("data-testid", "edit-form");
    const id = "edit-" + item.dataset.id;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Your message";
    const area = document.createElement("textarea");
    area.id = id;
    area.rows = 3;
    area.value = text ? text.textContent : "";
    area.setAttribute("data-testid", "edit-content");
    const note = document.createElement("p");
    note.className = "muted small";
    note.textContent = "Sending it again removes the messages after it and asks the model anew.";
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "small";
    save.textContent = "Send again";
    save.setAttribute("data-testid", "edit-send");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary small";
    cancel.textContent = "Cancel";
    const buttons = document.createElement("div");
    buttons.className = "actions";
    buttons.append(save, " ", cancel);
    editor.append(label, area, note, buttons);
    item.querySelector(".message-tools").hidden = true;
    if (text) text.hidden = true;
    item.append(editor);
    area.focus();
    cancel.addEventListener("click", function () {
      editor.remove();
      if (text) text.hidden = false;
      item.querySelector(".message-tools").hidden = false;
    });
    editor.addEventListener("submit", function (event) {
      event.preventDefault();
      const value = area.value.trim();
      const images = Array.from(item.querySelectorAll(".attached-images img")).map(function (img) { return img.src; });
      if (!value && !images.length) {
        area.focus();
        return;
      }
      while (item.nextElementSibling) item.nextElementSibling.remove();
      const mine = userBubble(value, item.dataset.id, images);
      item.replaceWith(mine);
      const bubble = answerBubble(null);
      thread.append(bubble);
      run(data.messages_api + "/" + mine.dataset.id + "/edit", { content: value, model: modelSelect.value }, bubble, null);
    });
  }

  thread.addEventListener("click", function (event) {
    const button = event.target.closest("[data-edit-message]");
    if (button) openEditor(button.closest("li"));
  });

  // Attachments: picked, pasted or dropped images, shown as thumbnails until sent.
  function showAttachments() {
    attachmentsBox.textContent = "";
    attached.forEach(function (src, index) {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = src;
      img.alt = "Image " + (index + 1) + " to send";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary small";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove image " + (index + 1));
      remove.addEventListener("click", function () {
        attached.splice(index, 1);
        showAttachments();
      });
      figure.append(img, remove);
      attachmentsBox.append(figure);
    });
    attachmentsBox.hidden = attached.length === 0;
  }

  function readAsDataUrl(file) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }

  // Images are added in the order given, however long each takes to read.
  let reading = Promise.resolve();
  function attachFiles(files) {
    const images = Array.from(files || []).filter(function (file) { return file && file.type.startsWith("image/"); });
    if (!images.length) return false;
    showError("");
    reading = reading.then(async function () {
      for (const file of images) {
        if (attached.length >= MAX_IMAGES) {
          showError("At most " + MAX_IMAGES + " images per message.");
          break;
        }
        try {
          attached.push(await readAsDataUrl(file));
        } catch (error) {
          showError("That image could not be read.");
        }
      }
      showAttachments();
    });
    return true;
  }

  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    attachFiles(fileInput.files);
    fileInput.value = "";
  });
  content.addEventListener("paste", function (event) {
    const files = Array.from((event.clipboardData && event.clipboardData.items) || [])
      .filter(function (item) { return item.kind === "file"; })
      .map(function (item) { return item.getAsFile(); });
    if (attachFiles(files)) event.preventDefault();
  });
  form.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
      form.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", function () { form.classList.remove("dropping"); });
  form.addEventListener("drop", function (event) {
    form.classList.remove("dropping");
    if (event.dataTransfer && attachFiles(event.dataTransfer.files)) event.preventDefault();
  });

  function answerBubble(message) {
    const item = document.createElement("li");
    item.className = "message-assistant";
    item.dataset.role = "assistant";
    item.setAttribute("data-testid", "message");
    const meta = document.createElement("p");
    meta.className = "muted meta";
    const error = document.createElement("p");
    error.className = "errors";
    error.hidden = true;
    const stream = document.createElement("pre");
    stream.className = "stream";
    stream.setAttribute("data-testid", "answer-stream");
    const body = document.createElement("div");
    body.className = "content markdown";
    body.hidden = true;
    item.append(meta, error, stream, body);
    if (message) fillAnswer(item, message);
    else {
      item.dataset.status = "pending";
      meta.textContent = modelSelect.value + " · waiting for the model…";
    }
    return item;
  }

  function fillAnswer(item, message) {
    item.dataset.id = message.id;
    item.dataset.status = message.status;
    const meta = item.querySelector(".meta");
    meta.textContent = message.model;
    // A partial answer was stopped (by the person, or the connection went): not a failure.
    const stopped = message.status === "partial";
    if (message.status !== "completed") {
      const badge = document.createElement("span");
      badge.className = "badge status-" + (stopped ? "stopped" : message.status);
      badge.textContent = stopped ? "Stopped" : message.status.charAt(0).toUpperCase() + message.status.slice(1);
      meta.append(" · ", badge);
    }
    const error = item.querySelector(".errors");
    error.className = stopped ? "muted stopped-note" : "errors";
    error.textContent = stopped ? "Stopped before the end; what arrived is kept." : message.error || "";
    error.hidden = !error.textContent;
    const body = item.querySelector(".content");
    body.innerHTML = message.html;  // sanitized on the server (markdown + nh3)
    body.id = "answer-" + message.id;
    body.dataset.source = message.content || "";
    window.Studio.codeCopy.decorate(body);
    body.hidden = false;
    const stream = item.querySelector("pre.stream");
    if (stream) stream.remove();
    if (!item.querySelector(".answer-tools")) {
      const tools = document.createElement("div");
      tools.className = "answer-tools";
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "secondary small";
      copy.textContent = "Copy answer";
      copy.dataset.copyAnswer = body.id;
      copy.setAttribute("data-testid", "copy-answer");
      tools.append(copy);
      item.append(tools);
    }
  }

  function renderThread(messages) {
    thread.textContent = "";
    for (const message of messages) {
      thread.append(message.role === "user"
        ? userBubble(message.content, message.id, (message.images || []).map(function (image) { return image.url; }))
        : answerBubble(message));
    }
  }

  function lastAnswer() {
    const last = thread.lastElementChild;
    return last && last.dataset.role === "assistant" && last.dataset.id ? last : null;
  }

  async function refresh(reloadThread) {
    try {
      const response = await fetch(data.conversation_api, { credentials: "same-origin",
                                                            headers: { "Accept": "application/json" } });
      if (!response.ok) return;
      const conversation = await response.json();
      if (titleInput && !titleInput.value) titleInput.value = conversation.title;
      const current = document.querySelector(".conversation-list li.current a");
      if (current && conversation.title) current.textContent = conversation.title;
      if (reloadThread) renderThread(conversation.messages);
      return conversation;
    } catch (e) {
      return null;  // the page keeps what it shows
    }
  }

  // POST a turn and stream its answer into `bubble`; the user's bubble (if any) gets its id.
  async function run(url, body, bubble, mine) {
    showError("");
    setBusy(true);
    controller = new AbortController();
    let started = false;
    let finished = false;
    let stopped = false;
    const stream = bubble.querySelector("pre.stream");
    try {
      const response = await sse.post(url, Object.assign({ stream: true }, body), csrf, controller.signal);
      finished = await sse.read(response, async function (parsed) {
        if (parsed.event === "start") {
          started = true;
          bubble.dataset.id = parsed.data.answer;
          if (mine && parsed.data.message) mine.dataset.id = parsed.data.message;
          bubble.querySelector(".meta").textContent = parsed.data.model + " · streaming…";
        } else if (parsed.event === "done") {
          fillAnswer(bubble, parsed.data);
          return true;
        } else if (parsed.event === "error") {
          if (started) {
            bubble.dataset.status = "failed";
            const error = bubble.querySelector(".errors");
            error.textContent = errorMessage(parsed.data, response.status);
            error.hidden = false;
          } else {
            showError(errorMessage(parsed.data, response.status));
            if (mine) {
              const mineText = mine.querySelector(".user-text");
              content.value = content.value || (mineText ? mineText.textContent : "");
              if (mine.images && !attached.length) {
                attached = mine.images;  // kept for another try
                showAttachments();
              }
            }
            await refresh(true);  // what the server kept of this turn, if anything
          }
          return true;
        } else if (parsed.data && typeof parsed.data.text === "string") {
          stream.textContent += parsed.data.text;
        }
        return false;
      });
      if (!finished && !response.ok) showError("The request failed (HTTP " + response.status + ").");
    } catch (error) {
      if (error.name === "AbortError") {
        stopped = true;
        bubble.dataset.status = "partial";
        bubble.querySelector(".meta").textContent = modelSelect.value + " · Stopped";
      } else {
        showError("The connection failed: " + error.message);
      }
    } finally {
      controller = null;
      if (stopped) {
        // The server saves what arrived as partial once it sees the connection closed.
        const settle = async (tries) => {
          const saved = await refresh(false);
          const last = saved && saved.messages[saved.messages.length - 1];
          if (last && last.status === "pending" && tries > 0) setTimeout(() => settle(tries - 1), 300);
          else if (saved) {
            renderThread(saved.messages);
            updateRegenerate();
          }
        };
        setTimeout(() => settle(10), 300);
      } else {
        await refresh(false);
      }
      setBusy(false);
      updateRegenerate();
    }
  }

  function updateRegenerate() {
    regenerateButton.hidden = !lastAnswer() || thread.dataset.state === "streaming";
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (controller) return;
    await reading;  // images still being read go with this message
    if (controller) return;
    const text = content.value.trim();
    if (!text && !attached.length) {
      content.focus();
      return;
    }
    const images = attached;
    const mine = userBubble(text, null, images);
    mine.images = images;
    const bubble = answerBubble(null);
    thread.append(mine, bubble);
    content.value = "";
    attached = [];
    showAttachments();
    const body = { content: text, model: modelSelect.value };
    if (images.length) body.images = images;
    run(data.messages_api, body, bubble, mine);
  });

  content.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  stopButton.addEventListener("click", function () {
    if (controller) controller.abort();
  });

  regenerateButton.addEventListener("click", function () {
    const last = lastAnswer();
    if (!last || controller) return;
    const bubble = answerBubble(null);
    last.replaceWith(bubble);
    run(data.messages_api + "/" + last.dataset.id + "/regenerate", { model: modelSelect.value }, bubble, null);
  });

  // The conversation's instructions (system prompt), saved through the API's PATCH.
  const systemForm = document.getElementById("system-form");
  if (systemForm) {
    const systemStatus = document.getElementById("system-status");
    systemForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      systemStatus.textContent = "Saving…";
      try {
        const response = await fetch(data.conversation_api, {
          method: "PATCH",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify({ system: systemForm.elements.system.value }),
        });
        const body = await response.json().catch(function () { return {}; });
        systemStatus.textContent = response.ok ? "Saved: the next answers follow these instructions."
                                               : errorMessage(body, response.status);
      } catch (error) {
        systemStatus.textContent = "Not saved: the connection failed.";
      }
    });
  }

  thread.dataset.state = "idle";
  thread.setAttribute("aria-busy", "false");
})();
