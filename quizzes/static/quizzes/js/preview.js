/* Skillmap item preview, without saving anything (the preview posts its form to be scored,
 * or a challenge's solution to be run): the ordering widget's Up and Down buttons and a code
 * challenge's language switch, as on the attempt page (attempt.js). Listened for on the
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

  // A code challenge's language switch, as on the attempt page (attempt.js): each language
  // keeps its own draft while the page is open; switching shows that draft, or the
  // language's starter, in the editor (in its mode).
  var drafts = new WeakMap();
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("form.preview-form [data-language-switch]")) return;
    var form = select.form;
    var textarea = form.querySelector("[name=code]");
    var mine = drafts.get(select);
    if (!mine) {
      var initial = Array.prototype.find.call(select.options, function (o) { return o.defaultSelected; });
      mine = { current: initial ? initial.value : select.options[0].value, code: {} };
      drafts.set(select, mine);
    }
    var option = select.options[select.selectedIndex];
    var editor = window.SkillmapEditor ? window.SkillmapEditor.mount(textarea) : null;
    mine.code[mine.current] = editor ? editor.getValue() : textarea.value;
    mine.current = select.value;
    var code = mine.code[mine.current] !== undefined ? mine.code[mine.current] : (option.dataset.starter || "");
    textarea.dataset.starter = option.dataset.starter || "";
    if (editor) {
      editor.setLanguage(option.dataset.editorMode);
      editor.setValue(code);
    } else {
      textarea.value = code;
    }
    var label = form.querySelector("[data-code-label-text]");
    if (label) label.textContent = option.dataset.codeLabel || "";
    var version = form.querySelector("[data-language-version]");
    if (version) version.textContent = option.dataset.version || "";
  });
})();
