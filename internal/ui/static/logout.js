// Front-channel logout: once every application's logout page has loaded in
// its frame (or after a few seconds), continue where the sign-out goes. The
// page's link does the same without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  var next = document.getElementById("continue");
  var frames = document.querySelectorAll("iframe.logout-frame");
  var left = frames.length;
  var done = false;
  function go() {
    if (done || !next) { return; }
    done = true;
    window.location.replace(next.getAttribute("href"));
  }
  frames.forEach(function (f) {
    f.addEventListener("load", function () { left--; if (left <= 0) { go(); } });
  });
  if (left === 0) { go(); }
  window.setTimeout(go, 5000);
});
