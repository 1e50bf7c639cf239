/* Segment builder: while staff edit the rules, ask the admin's preview endpoint (staff-only, the
   campaigns segment selectors) how many members match and show a sample, without saving.
   A file, not an inline script (the CSP forbids those); without JavaScript the count appears on save. */
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
