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
})();
