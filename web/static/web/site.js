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

  // <details data-fold-on-phone open>: the main menu, the filter forms and the dashboard's definitions are open in the HTML
  // (so they work without JavaScript) and folded here on a phone, where they would fill the screen.
  // A filter form that filters something stays open, so the list never looks whole when it is not.
  var phone = window.matchMedia("(max-width: 40rem)");
  function inUse(box) {
    // A choice made in a list, words searched for or a box ticked (numbers have defaults: not counted).
    var fields = box.querySelectorAll("select, input[type=search], input[type=text], input[type=checkbox]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].type === "checkbox" ? fields[i].checked : fields[i].value !== "") return true;
    }
    return false;
  }
  function fold() {
    var boxes = document.querySelectorAll("details[data-fold-on-phone]");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].open = !phone.matches || (boxes[i].classList.contains("filter-box") && inUse(boxes[i]));
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fold);
  else fold();
  if (phone.addEventListener) phone.addEventListener("change", fold);
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
