// Server-sent events over fetch: POST a JSON body asking for text/event-stream and read
// the answer's `event:`/`data:` blocks as they arrive. Shared by the text page and the
// conversation page (window.Studio.sse).
(function () {
  "use strict";

  function errorMessage(body, status) {
    if (body && typeof body === "object") {
      if (body.detail) return body.detail;
      const parts = Object.entries(body).map(([field, errors]) =>
        field + ": " + (Array.isArray(errors) ? errors.join(" ") : String(errors)));
      if (parts.length) return parts.join("; ");
    }
    return "The request failed (HTTP " + status + ").";
  }

  function parseEvent(block) {
    let event = "message";
    const lines = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
    }
    if (!lines.length) return null;
    try {
      return { event: event, data: JSON.parse(lines.join("\n")) };
    } catch (e) {
      return null;
    }
  }

  // POST `body` as JSON with the CSRF token, asking for an event stream.
  function post(url, body, csrf, signal) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      signal: signal,
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }

  // Call `onEvent({event, data})` for each event of the response, in order. Reading stops
  // once a call returns true (the events already received are still handed over); returns
  // whether that happened, false when the stream ended first.
  async function read(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let finished = false;
    while (!finished) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const parsed = parseEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!parsed) continue;
        if (await onEvent(parsed)) finished = true;
      }
    }
    return finished;
  }

  window.Studio = window.Studio || {};
  window.Studio.sse = { errorMessage: errorMessage, parseEvent: parseEvent, post: post, read: read };
})();
