// The «Распечатать» button of the documents (the processing policy, the art. 14 answer): a
// file, since the pages' Content-Security-Policy allows no inline handler.
"use strict";

document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
