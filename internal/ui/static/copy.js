// Copy buttons for values shown once. A button with data-copy="ID" copies the
// value of the element with that id; data-copy-status names a live region
// that announces the result. The buttons stay hidden without JavaScript.
(function () {
  'use strict';

  function selectAll(field) {
    field.focus();
    field.select();
    try { field.setSelectionRange(0, field.value.length); } catch (e) { /* not a text input */ }
  }

  // Older browsers and insecure contexts (plain http on a LAN address) have no
  // async clipboard API: select the text and ask for a copy the old way.
  function legacyCopy(field) {
    selectAll(field);
    try { return document.execCommand('copy'); } catch (e) { return false; }
  }

  function report(status, ok, field) {
    if (status) {
      status.textContent = ok ? 'Copied to the clipboard.' : 'Could not copy automatically: the key is selected, copy it with Ctrl+C or \u2318C.';
    }
    if (!ok) { selectAll(field); }
  }

  function wire(button) {
    var field = document.getElementById(button.getAttribute('data-copy'));
    if (!field) { return; }
    var status = document.getElementById(button.getAttribute('data-copy-status') || '');
    field.addEventListener('focus', function () { field.select(); });
    button.hidden = false;
    button.addEventListener('click', function () {
      if (status) { status.textContent = ''; }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { report(status, true, field); },
          function () { report(status, legacyCopy(field), field); });
      } else {
        report(status, legacyCopy(field), field);
      }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), wire);
  });
}());
