// Video pages: the form's model-dependent controls and tabs, and live job widgets
// ([data-video-job], on the job page and gallery cards) that follow the job while it is
// active, show progress and elapsed time, play the video once it is ready, and cancel
// through the API. The widgets of a page share ONE EventSource on the events endpoint
// (status pushed by the server); where EventSource is missing, or the stream fails, each
// widget polls the status API every data-poll-ms instead.
(function () {
  "use strict";

  const TERMINAL = new Set(["completed", "failed", "cancelled"]);
  const LABELS = { queued: "Queued", processing: "Processing", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };

  // What the provider last told us, in words.
  function progressText(status, progress) {
    if (status === "queued") return "Waiting to be sent to the provider…";
    if (progress) return "The provider reports " + progress + "% done";
    return "The provider is making the video; it has not said how far it is…";
  }

  function csrfToken(root) {
    const input = (root || document).querySelector("input[name=csrfmiddlewaretoken]")
      || document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function formatElapsed(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return (m ? m + " min " : "") + s + " s";
  }

  // ---------------------------------------------------------------- job widgets

  function watchJob(box) {
    const parts = {};
    for (const el of box.querySelectorAll("[data-role]")) parts[el.dataset.role] = el;
    const created = Date.parse(box.dataset.createdAt);
    let finished = box.dataset.finishedAt ? Date.parse(box.dataset.finishedAt) : null;
    let status = box.dataset.status;
    const pollMs = Number(box.dataset.pollMs) || 5000;
    let pollTimer = null;
    let clockTimer = null;

    function showElapsed() {
      const end = finished || Date.now();
      const label = TERMINAL.has(status) ? "took " : "elapsed ";
      parts.elapsed.textContent = label + formatElapsed((end - created) / 1000);
    }

    function stop() {
      clearTimeout(pollTimer);
      clearInterval(clockTimer);
      pollTimer = clockTimer = null;
    }

    function render(data) {
      status = data.status;
      box.dataset.status = status;
      parts.status.textContent = LABELS[status] || status;
      parts.status.className = "badge status-" + status;
      const active = !TERMINAL.has(status);
      // Finished, failed or cancelled: no progress bar, no "waiting for the provider".
      parts["progress-box"].hidden = !active;
      if (data.progress !== null && data.progress !== undefined) parts.progress.value = data.progress;
      parts["progress-text"].textContent = progressText(status, data.progress);
      parts["cancel-form"].hidden = !active;
      parts["cancelled-note"].hidden = status !== "cancelled";
      parts.error.hidden = !(status === "failed" && data.error);
      if (data.error) parts.error.textContent = data.error;
      if (status === "completed" && data.video_url && !parts.player.querySelector("video")) {
        const video = document.createElement("video");
        video.controls = true;
        video.preload = "metadata";
        video.playsInline = true;
        video.src = data.video_url;
        video.dataset.testid = "job-video";
        video.setAttribute("data-testid", "job-video");
        video.setAttribute("aria-label", "The video");
        parts.player.append(video);
      }
      if (parts["download-box"]) parts["download-box"].hidden = !(status === "completed" && data.video_url);
      if (!active) {
        finished = finished || (data.updated_at ? Date.parse(data.updated_at) : Date.now());
        stop();
      }
      showElapsed();
    }

    async function poll() {
      pollTimer = null;
      try {
        const response = await fetch(box.dataset.statusUrl, {
          headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
        });
        if (response.ok) render(await response.json());
        else if (response.status === 404) { stop(); return; }
      } catch (err) {
        // A network hiccup: keep polling.
      }
      if (!TERMINAL.has(status)) pollTimer = setTimeout(poll, pollMs);
    }

    parts["cancel-form"].addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = parts.cancel;
      button.disabled = true;
      try {
        const response = await fetch(box.dataset.cancelUrl, {
          method: "POST", credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(box) },
        });
        const data = await response.json().catch(function () { return {}; });
        if (response.ok) {
          render(data);
        } else if (response.status === 409) {
          // It finished first: show how it ended.
          const fresh = await fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" });
          if (fresh.ok) render(await fresh.json());
        } else {
          parts.error.hidden = false;
          parts.error.textContent = data.detail || "The job could not be cancelled; try again.";
        }
      } finally {
        button.disabled = false;
      }
    });

    function startPolling() {
      if (!TERMINAL.has(status) && pollTimer === null) pollTimer = setTimeout(poll, Math.min(pollMs, 1000));
    }

    showElapsed();
    if (!TERMINAL.has(status)) clockTimer = setInterval(showElapsed, 1000);
    return {
      id: String(box.dataset.jobId),
      eventsUrl: box.dataset.eventsUrl,
      active: function () { return !TERMINAL.has(status); },
      render: render,
      startPolling: startPolling,
    };
  }

  // One stream for all the page's active jobs; polling for any the stream cannot serve.
  function follow(jobs) {
    const active = jobs.filter(function (job) { return job.active(); });
    if (!active.length) return;
    if (typeof window.EventSource !== "function" || !active[0].eventsUrl) {
      for (const job of active) job.startPolling();
      return;
    }
    const byId = new Map(active.map(function (job) { return [job.id, job]; }));
    const source = new EventSource(active[0].eventsUrl + "?ids=" + Array.from(byId.keys()).join(","));
    let closed = false;

    function close(pollTheRest) {
      if (closed) return;
      closed = true;
      source.close();  // or the browser reconnects
      if (pollTheRest) {
        for (const job of byId.values()) if (job.active()) job.startPolling();
      }
    }

    source.addEventListener("status", function (event) {
      let data;
      try { data = JSON.parse(event.data); } catch (err) { return; }
      const job = byId.get(String(data.id));
      if (job) job.render(data);
      if (!Array.from(byId.values()).some(function (each) { return each.active(); })) close(false);
    });
    // The server ends the stream once every job it could watch is terminal: any still
    // active here (not visible to the stream) is polled.
    source.addEventListener("end", function () { close(true); });
    // Refused (an HTTP error), cut off, or not a stream: poll, as pages did before.
    source.addEventListener("error", function () { close(true); });
  }

  follow(Array.from(document.querySelectorAll("[data-video-job]"), watchJob));

  // ---------------------------------------------------------------- the form

  const form = document.getElementById("video-form");
  const catalogue = document.getElementById("video-models");
  if (!form || !catalogue) return;
  const models = {};
  for (const model of JSON.parse(catalogue.textContent)) models[model.id] = model;
  const controls = { aspect_ratio: "aspect_ratios", resolution: "resolutions", duration: "durations" };
  const imageSection = form.querySelector('[data-section="image_to_video"]');
  const note = document.getElementById("model-note");

  function mode() {
    const checked = form.querySelector("input[name=generation_type]:checked");
    return checked ? checked.value : "text_to_video";
  }

  function fill(name, values) {
    const seconds = function (text) { return text + " s"; };
    window.StudioPickers.fill(form, name, values, name === "duration" ? seconds : null);  // static/js/pickers.js
  }

  function update() {
    const fromImage = mode() === "image_to_video";
    imageSection.hidden = !fromImage;
    for (const tab of form.querySelectorAll("label.tab")) {
      tab.classList.toggle("current", tab.querySelector("input").checked);
    }
    // Image-to-video: only models that start from an image.
    const select = form.elements.model;
    for (const option of select.options) {
      const model = models[option.value];
      option.disabled = fromImage && model && !model.from_image;
    }
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
      const usable = Array.from(select.options).find(function (o) { return !o.disabled; });
      if (usable) select.value = usable.value;
    }
    const model = models[select.value];
    if (!model) return;
    for (const [name, key] of Object.entries(controls)) fill(name, model[key] || []);
    note.textContent = model.from_image
      ? "Starts from text or from an image."
      : "Starts from text only.";
  }

  // An image picked from the list and a URL exclude each other.
  form.addEventListener("change", function (event) {
    if (event.target.name === "image_id") form.elements.image_url.value = "";
    if (event.target.name === "generation_type" || event.target.name === "model") update();
  });
  form.elements.image_url.addEventListener("input", function () {
    if (form.elements.image_url.value) {
      for (const radio of form.querySelectorAll("input[name=image_id]")) radio.checked = false;
    }
  });
  form.addEventListener("submit", function () {
    form.querySelector("button[type=submit]").disabled = true;
  });
  update();
})();
