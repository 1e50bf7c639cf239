// Admin filter forms: a <select data-autosubmit> submits its form on change. A file, not an
// onchange="" attribute: the Content Security Policy allows no inline script.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
