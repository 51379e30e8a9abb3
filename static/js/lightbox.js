// Image results: a thumbnail opens its picture full size in a <dialog> (Escape or Close
// shuts it, and the focus goes back to the thumbnail).
(function () {
  "use strict";
  const dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const frame = document.getElementById("lightbox-frame");
  const download = document.getElementById("lightbox-download");
  let opener = null;

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-enlarge]") : null;
    if (!button) return;
    opener = button;
    // Made on opening: an empty <img> would sit on the page as a broken image until then.
    const picture = document.createElement("img");
    picture.src = button.dataset.enlarge;
    picture.width = Number(button.dataset.width) || 0;
    picture.height = Number(button.dataset.height) || 0;
    picture.alt = button.querySelector("img").alt.replace(/ \(select to enlarge\)$/, "");
    picture.setAttribute("data-testid", "lightbox-image");
    frame.replaceChildren(picture);
    download.href = button.dataset.download;
    download.setAttribute("download", button.dataset.filename || "");
    dialog.showModal();
  });
  document.getElementById("lightbox-close").addEventListener("click", function () { dialog.close(); });
  // A click on the backdrop (outside the picture and its bar) closes it too.
  dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener("close", function () {
    if (opener) opener.focus();
  });
})();
