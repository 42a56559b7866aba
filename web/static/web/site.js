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

/* Unit picker (people): a type-to-filter box over the grouped unit ticks
   (web/templates/web/widgets/unit_picker.html). Ticked units always stay in view. */
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function setUp(picker) {
    var box = picker.querySelector("[data-unit-filter]");
    if (!box) return;
    box.closest("p").hidden = false;
    var none = picker.querySelector("[data-unit-none]");
    var options = Array.prototype.slice.call(picker.querySelectorAll(".unit-option"));
    options.forEach(function (o) { o.setAttribute("data-text", fold(o.textContent)); });
    function apply() {
      var words = fold(box.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (o) {
        var ticked = o.querySelector("input").checked;
        var text = o.getAttribute("data-text");
        var match = ticked || words.every(function (w) { return text.indexOf(w) !== -1; });
        o.hidden = !match;
        if (match) shown += 1;
      });
      Array.prototype.forEach.call(picker.querySelectorAll(".unit-group"), function (g) {
        g.hidden = !g.querySelector(".unit-option:not([hidden])");
      });
      if (none) none.hidden = shown > 0;
    }
    box.addEventListener("input", apply);
    // Enter in the search box would send the whole form: it only filters.
    box.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  }
  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-unit-picker]"), function (p) {
      if (!p.hasAttribute("data-ready")) { p.setAttribute("data-ready", ""); setUp(p); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
