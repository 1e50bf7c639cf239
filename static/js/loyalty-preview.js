// Program change form: the "Members by type" table recounts the program's members with the
// loyalty-type thresholds as typed (admin view loyalty-preview, the same classifier as the nightly
// recompute). A file, not inline script: the Content Security Policy allows none.
(() => {
  const table = () => document.getElementById("loyalty-preview");
  let pending = null;

  async function recount(form) {
    const params = new URLSearchParams();
    form.querySelectorAll("input[name^='loyalty_']").forEach((input) => params.append(input.name, input.value));
    const response = await fetch(`${table().dataset.url}?${params}`, { headers: { Accept: "application/json" } });
    const body = await response.json();
    table().querySelectorAll("td[data-loyalty-type]").forEach((cell) => {
      cell.textContent = response.ok ? body.shown[cell.dataset.loyaltyType] : "–";
    });
  }

  document.addEventListener("input", (event) => {
    if (!table() || !event.target.matches("input[name^='loyalty_']")) return;
    clearTimeout(pending);
    pending = setTimeout(() => recount(event.target.form), 400);
  });
})();
