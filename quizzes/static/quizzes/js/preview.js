/* Skillmap item preview: the ordering widget's Up and Down buttons, as on the attempt page
 * (attempt.js), without saving anything: the preview posts its form to be scored. */
(function () {
  "use strict";
  document.querySelectorAll("form.preview-form [data-move]").forEach(function (button) {
    button.addEventListener("click", function () {
      var li = button.closest("li");
      var list = li.parentElement;
      var up = button.dataset.move === "up";
      var sibling = up ? li.previousElementSibling : li.nextElementSibling;
      if (!sibling) return;
      if (up) list.insertBefore(li, sibling); else list.insertBefore(sibling, li);
      var items = Array.prototype.slice.call(list.children);
      var announce = list.parentElement.querySelector("[data-order-announce]");
      if (announce) announce.textContent = li.querySelector(".entry-text").textContent.trim() + " moved to position " + (items.indexOf(li) + 1) + " of " + items.length + ".";
      button.focus();
    });
  });
})();
