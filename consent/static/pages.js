// The consent pages' behaviour (a file: the pages' policy allows no inline script).
// Signing: the required «Я прочитал(а) документ» box explains itself in Russian.
// Receipt: print, copy the receipt's text, save it as a file (the bytes shown).
"use strict";

(function () {
  const read = document.getElementById("read");
  if (read) {
    const say = "Отметьте «Я прочитал(а) документ», чтобы подписать.";
    read.addEventListener("invalid", () => read.setCustomValidity(read.checked ? "" : say));
    read.addEventListener("change", () => read.setCustomValidity(""));
  }

  const file = document.getElementById("file");
  const fileName = document.getElementById("file-name");
  if (file && fileName) {
    const show = () => {
      fileName.textContent = file.files.length ? file.files[0].name : "Файл не выбран";
    };
    file.addEventListener("change", show);
    show();
  }

  const print = document.getElementById("print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", () => window.print());
  }

  const jws = document.getElementById("jws");
  if (!jws) return;
  const text = jws.textContent.trim();
  const status = document.getElementById("copied");

  const download = document.getElementById("download");
  if (download) {
    const blob = new Blob([text + "\n"], { type: "application/jose" });
    download.href = URL.createObjectURL(blob);
    download.download = jws.dataset.filename || "receipt.jws";
    download.hidden = false;
  }

  const copy = document.getElementById("copy");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        status.textContent = "Скопировано.";
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(jws);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        status.textContent = "Текст выделен: скопируйте его сочетанием клавиш или через меню.";
      }
    });
  }
})();
