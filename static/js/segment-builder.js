/* Segment builder: each rule shows only the fields its kind reads (SegmentRule.PARAMETERS, given to the
   page as JSON); while staff edit the rules, ask the admin's preview endpoint (staff-only, the campaigns
   segment selectors) how many members match and show a sample, without saving.
   A file, not an inline script (the CSP forbids those). Without JavaScript every field shows, the server
   empties the ones a kind does not read, and the count appears on save. */
(function () {
  "use strict";
  var parameters = document.getElementById("segment-rule-parameters");
  if (!parameters) return;
  var reads = JSON.parse(parameters.textContent);
  var all = [];
  Object.keys(reads).forEach(function (kind) {
    reads[kind].forEach(function (name) { if (all.indexOf(name) === -1) all.push(name); });
  });

  // One rule block: its kind's fields shown, the others (and lines left empty) hidden.
  function fit(block) {
    var kind = block.querySelector("select[name$='-kind']");
    if (!kind) return;
    var wanted = reads[kind.value] || [];
    all.forEach(function (name) {
      var box = block.querySelector(".fieldBox.field-" + name);
      if (box) box.parentElement.hidden = wanted.indexOf(name) === -1;
    });
    Array.prototype.forEach.call(block.querySelectorAll(".form-row"), function (row) {
      var boxes = row.querySelectorAll(".fieldBox");
      if (!boxes.length) return;
      row.hidden = Array.prototype.every.call(boxes, function (box) { return box.parentElement.hidden; });
    });
  }

  function fitAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".segment-rules .inline-related"), fit);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".segment-rules select[name$='-kind']")) {
      fit(event.target.closest(".inline-related"));
    }
  });
  document.addEventListener("formset:added", fitAll);
  fitAll();
})();

(function () {
  "use strict";
  var panel = document.getElementById("segment-live");
  var form = document.getElementById("segment_form");
  if (!panel || !form) return;
  var count = panel.querySelector("[data-count]");
  var status = panel.querySelector("[data-status]");
  var sample = panel.querySelector("[data-sample]");
  var timer = null;
  var sequence = 0;
  panel.hidden = false;

  function refresh() {
    var mine = ++sequence;
    status.textContent = panel.dataset.loading || "…";
    fetch(panel.dataset.url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (mine !== sequence) return; // a newer edit is on its way
        if (!answer.ok) {
          count.textContent = "—";
          status.textContent = answer.body.error || "";
          return;
        }
        count.textContent = answer.body.count.toLocaleString(document.documentElement.lang || undefined);
        status.textContent = answer.body.status || "";
        sample.innerHTML = answer.body.sample; // rendered and escaped by the server's template
      })
      .catch(function () {
        if (mine === sequence) status.textContent = "—";
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // Django adds rule blocks ("Add another") and fills autocompletes through jQuery events.
  document.addEventListener("formset:added", later);
  document.addEventListener("formset:removed", later);
  refresh();
})();
