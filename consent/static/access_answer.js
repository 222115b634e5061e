// The art. 14 answer page's print button (a file: the page's policy allows no inline handler).
"use strict";

document.getElementById("print").addEventListener("click", () => window.print());
