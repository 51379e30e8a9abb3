// Image page: show only the controls and values the chosen model accepts (from the
// catalogue the page carries), so a request never asks for something the model refuses.
(function () {
  "use strict";
  const form = document.getElementById("image-form");
  const data = document.getElementById("image-models");
  if (!form || !data) return;
  const models = {};
  for (const model of JSON.parse(data.textContent)) models[model.id] = model;
  const select = form.elements.model;
  const route = document.getElementById("model-route");
  const controls = {
    aspect_ratio: "aspect_ratios",
    image_size: "resolutions",
    size: "sizes",
  };

  function fill(name, values) {
    window.StudioPickers.fill(form, name, values);  // static/js/pickers.js
  }

  function update() {
    const model = models[select.value];
    if (!model) return;
    for (const [name, key] of Object.entries(controls)) fill(name, model[key] || []);
    const n = form.elements.n;
    n.max = model.max_n || 4;
    if (Number(n.value) > Number(n.max)) n.value = n.max;
    const nBox = form.querySelector('[data-control="n"]');
    nBox.hidden = (model.max_n || 4) <= 1 && !nBox.querySelector(".errorlist");
    route.textContent = model.route === "chat"
      ? "Drawn by a chat model (chat completions): choose an aspect ratio and resolution."
      : "Image-only model (images endpoint).";
  }

  // Exact sizes and aspect ratios exclude each other: picking one clears the other.
  form.elements.size.addEventListener("change", function () {
    if (form.elements.size.value) form.elements.aspect_ratio.value = "";
  });
  form.elements.aspect_ratio.addEventListener("change", function () {
    if (form.elements.aspect_ratio.value) form.elements.size.value = "";
  });
  select.addEventListener("change", update);
  form.addEventListener("submit", function () {
    form.querySelector("button[type=submit]").disabled = true;
    document.getElementById("image-busy").hidden = false;
  });
  update();
})();
