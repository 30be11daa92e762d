/* Skillmap item preview, without saving anything (the preview posts its form to be scored,
 * or a challenge's solution to be run): the ordering widget's Up and Down buttons and a code
 * challenge's language switch (language-switch.js, shared with the attempt page). Listened for on the
 * document, so a preview swapped in later (the item form's live preview) works the same. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("form.preview-form [data-move]") : null;
    if (!button) return;
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

  // A code challenge's language switch (language-switch.js).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("form.preview-form [data-language-switch]")) return;
    window.SkillmapLanguageSwitch.switched(select.form, select);
  });
})();
