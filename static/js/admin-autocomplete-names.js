// Django's autocomplete boxes (select2) name their combobox by the chosen value only, so an empty one
// has no accessible name: add the field's label to it. A file, not an inline script (the CSP).
(function () {
  "use strict";
  function name() {
    document.querySelectorAll("select.admin-autocomplete[id]").forEach(function (select) {
      var label = document.querySelector("label[for='" + select.id + "']");
      var box = select.parentElement.querySelector(".select2-selection[aria-labelledby]");
      if (!label || !box || box.dataset.named) return;
      label.id = label.id || select.id + "-label";
      var shown = document.getElementById(box.getAttribute("aria-labelledby"));
      box.setAttribute("aria-labelledby", label.id + " " + box.getAttribute("aria-labelledby"));
      if (shown) shown.setAttribute("aria-labelledby", label.id + " " + shown.id);
      box.dataset.named = "1";
    });
  }
  window.addEventListener("load", name);
  document.addEventListener("formset:added", function () { window.setTimeout(name, 0); });
})();
