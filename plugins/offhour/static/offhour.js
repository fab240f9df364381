// The off-hour page: show the date fields only for "between", the target only when needed.
(function () {
  "use strict";
  function tidy(form) {
    var mode = form.querySelector(".oh-mode");
    var action = form.querySelector(".oh-action");
    form.classList.toggle("oh-hide-when", mode.value !== "between");
    form.classList.toggle("oh-hide-target", action.value === "hangup");
  }
  document.querySelectorAll("form.oh-route").forEach(function (form) {
    tidy(form);
    form.addEventListener("change", function () { tidy(form); });
  });
})();
