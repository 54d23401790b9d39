// Progressive enhancement for /s/<token>: display logic and saving answers as the respondent goes.
// The page works without this file; the server applies the same display logic on submit.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) return;
  function value(name) {
    var el = form.querySelector('input[name="' + name + '"]:checked');
    return el ? el.value : null;
  }
  function test(q) {
    var got = value(q.dataset.showIfQ), want = q.dataset.showIfV, op = q.dataset.showIfOp;
    if (got === null) return false;
    var g = Number(got), w = Number(want);
    if (op === "lte") return g <= w;
    if (op === "gte") return g >= w;
    if (op === "ne") return got !== want;
    return got === want;
  }
  function logic() {
    form.querySelectorAll("[data-show-if-q]").forEach(function (q) { q.hidden = !test(q); });
  }
  var timer = null;
  function save() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.dataset.draft, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
        .catch(function () {});
    }, 400);
  }
  form.addEventListener("change", function () { logic(); save(); });
  form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA" || e.target.type === "text") save(); });
  var submitted = false;
  form.addEventListener("submit", function (e) {
    if (submitted) { e.preventDefault(); return; }  // the server is idempotent anyway; this spares a request
    submitted = true;
  });
  logic();
})();
