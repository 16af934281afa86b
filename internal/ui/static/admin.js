// The admin UI's progressive enhancement: the permission grid's "whole row"
// and "whole column" buttons and its endpoint filter. Every page works
// without it (the checkboxes are plain form fields).
(function () {
  'use strict';

  function boxes(grid, selector) {
    return Array.prototype.slice.call(grid.querySelectorAll(selector));
  }

  function toggle(list) {
    var on = list.some(function (b) { return !b.checked; });
    list.forEach(function (b) { b.checked = on; });
  }

  function wireGrid(grid) {
    boxes(grid, 'button[data-row]').forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener('click', function () {
        toggle(boxes(grid, 'input[data-endpoint="' + btn.getAttribute('data-row') + '"]'));
      });
    });
    boxes(grid, 'button[data-col]').forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener('click', function () {
        var m = btn.getAttribute('data-col');
        toggle(boxes(grid, 'tbody tr:not([hidden]) input[data-method="' + m + '"]'));
      });
    });
    var search = document.getElementById(grid.getAttribute('data-search'));
    if (search) {
      search.closest('.field').hidden = false;
      var status = document.getElementById('grid-count');
      search.addEventListener('input', function () {
        var q = search.value.trim().toLowerCase();
        var shown = 0;
        boxes(grid, 'tbody tr').forEach(function (tr) {
          var hit = tr.getAttribute('data-endpoint').indexOf(q) >= 0;
          tr.hidden = !hit;
          if (hit) { shown++; }
        });
        if (status) { status.textContent = shown + ' endpoints shown'; }
      });
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('table[data-grid]'), wireGrid);
  });
}());
