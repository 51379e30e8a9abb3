// Model-dependent pickers shared by the image and video pages: a <select> offers only
// the values the chosen model accepts (from the catalogue the page carries).
(function () {
  "use strict";

  // Fills the select `name` of `form` (inside its [data-control] box) with `values`,
  // keeping the value asked for when the model still offers it; `label`, if given, turns
  // a value into the text shown. A control the model does not take is hidden and
  // disabled, so it is not sent, unless it carries the server's error (e.g. the
  // catalogue changed since the page loaded): then it stays in view.
  function fill(form, name, values, label) {
    const box = form.querySelector('[data-control="' + name + '"]');
    const field = form.elements[name];
    const wanted = String(field.value || field.dataset.selected || "");
    field.replaceChildren(new Option("Model default", ""));
    for (const value of values) {
      const text = String(value);
      field.append(new Option(label ? label(text) : text, text, false, text === wanted));
    }
    box.hidden = values.length === 0 && !box.querySelector(".errorlist");
    field.disabled = values.length === 0;
    field.dataset.selected = "";
  }

  window.StudioPickers = { fill: fill };
})();
