/* followthrough's own script. Behaviour is carried by data-* attributes, so the
   templates hold no inline code and the Content-Security-Policy can forbid it.
   Everything here is optional: without JavaScript every form still works. */
(function () {
  "use strict";

  // <form data-confirm="Delete …?">: ask before sending. In the capture phase, so it
  // runs before htmx's own submit handler; the message is text, never markup.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      var message = form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  // The progress form's reason for reopening ([data-reopen-reason]): shown once another status than
  // Completed is chosen, hidden while Completed stays chosen. Without this it is simply always shown,
  // and the server asks for it whenever it is needed.
  function showReopenReason(form) {
    var box = form.querySelector("[data-reopen-reason]");
    var status = form.querySelector("select[name=status]");
    if (!box || !status) return;
    var reopening = status.value !== box.getAttribute("data-completed") || box.classList.contains("has-error");
    box.hidden = !reopening;
  }
  function showAll(root) {
    var boxes = (root || document).querySelectorAll("[data-reopen-reason]");
    for (var i = 0; i < boxes.length; i++) {
      var form = boxes[i].closest("form");
      if (form) showReopenReason(form);
    }
  }
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.name === "status" && field.form) showReopenReason(field.form);
  });
  document.addEventListener("DOMContentLoaded", function () { showAll(document); });
  // Forms htmx swaps in (the inline progress panel).
  document.addEventListener("htmx:load", function (event) { showAll(event.target); });
})();
