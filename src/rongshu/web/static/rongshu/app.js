// rongshu — small progressive enhancements (no inline scripts: the CSP allows only 'self').
document.addEventListener("DOMContentLoaded", function () {
  var language = document.getElementById("language");
  if (language && language.form) {
    language.addEventListener("change", function () { language.form.submit(); });
  }
});
