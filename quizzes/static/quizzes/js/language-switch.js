/* A code challenge's language switch, on the attempt page (attempt.js) and in an author's
 * preview (preview.js): each language keeps its own draft while the page is open; switching
 * shows that draft, or the language's starter, in the editor (in its mode), and the code
 * saved or run is the chosen language's. */
(function () {
  "use strict";
  var drafts = new WeakMap();

  function draftsOf(select) {
    var mine = drafts.get(select);
    if (!mine) {
      var initial = Array.prototype.find.call(select.options, function (o) { return o.defaultSelected; });
      mine = { current: initial ? initial.value : select.options[0].value, code: {} };
      drafts.set(select, mine);
    }
    return mine;
  }

  window.SkillmapLanguageSwitch = {
    // The language shown now is the select's value (a browser may restore another).
    track: function (select) {
      draftsOf(select).current = select.value;
    },
    // Called on the select's "change": keep the draft left, show the one chosen.
    switched: function (form, select) {
      var textarea = form.querySelector("[name=code]");
      var mine = draftsOf(select);
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
    },
  };
})();
