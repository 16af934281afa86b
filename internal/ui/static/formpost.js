// Submits a form_post authorization response on load; the page's button
// does the same without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("form-post");
  if (f) { f.submit(); }
});
