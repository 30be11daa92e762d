// Skillmap code editor: a CodeMirror 6 view that shadows a <textarea>.
//
// Built by `npm run build` into quizzes/static/quizzes/vendor/editor.min.js
// (IIFE, no eval, CSP-safe). Usage:
//
//   const ed = window.SkillmapEditor.mount(textarea, {
//     language: "python" | "javascript" | "typescript" | "go" | "java" | "sql",
//     label: "Your solution",        // default: aria-label / aria-labelledby / <label for>
//     readOnly: false,               // default: textarea.readOnly
//     nonce: "...",                  // default: <meta name="csp-nonce" content="...">
//   });
//   ed.getValue(); ed.setValue("..."); ed.setLanguage("go"); ed.focus(); ed.destroy();
//
// Pages under `script-src 'self'` cannot call mount() inline, so any
// <textarea data-skillmap-editor> is also mounted automatically on
// DOMContentLoaded and after every htmx swap (htmx:load); options come from
// data-language / data-label / readonly. Mounting twice returns the same editor.
//
// Keyboard: Tab / Shift-Tab are NOT captured, so keyboard users can leave the
// editor. Indent with Ctrl-] (Cmd-] on macOS), dedent with Ctrl-[ (Cmd-[).
//
// The textarea stays in the form (hidden) and always holds the document; each
// user edit fires a bubbling "input" event on it so form-level listeners
// (autosave) notice. setValue() updates the textarea without firing "input".

import { EditorState, Annotation, Compartment } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  placeholder as placeholderExt,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  syntaxHighlighting,
  defaultHighlightStyle,
  bracketMatching,
  indentOnInput,
  indentUnit,
} from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { sql, SQLite } from "@codemirror/lang-sql";
import { javascript } from "@codemirror/lang-javascript";
import { java } from "@codemirror/lang-java";
import { go } from "@codemirror/lang-go";

const programmatic = Annotation.define();
// The language mode lives in a compartment, so a challenge can switch it (setLanguage).
const languageSlot = new Compartment();
const mounted = new WeakMap();

function languageExtension(name) {
  switch ((name || "python").toLowerCase()) {
    case "python":
    case "py":
      return [python(), indentUnit.of("    ")];
    case "javascript":
    case "js":
      return [javascript(), indentUnit.of("  ")];
    case "typescript":
    case "ts":
      return [javascript({ typescript: true }), indentUnit.of("  ")];
    case "go":
      // gofmt indents with tabs.
      return [go(), indentUnit.of("\t")];
    case "java":
      return [java(), indentUnit.of("    ")];
    case "sql":
    case "sqlite":
      // SQL challenges are graded on SQLite (see docs/architecture.md).
      return [sql({ dialect: SQLite, upperCaseKeywords: true }), indentUnit.of("  ")];
    default:
      throw new Error(`SkillmapEditor: unsupported language "${name}"`);
  }
}

function labelFor(textarea, options) {
  if (options.label) return { "aria-label": String(options.label) };
  const labelledby = textarea.getAttribute("aria-labelledby");
  if (labelledby) return { "aria-labelledby": labelledby };
  const aria = textarea.getAttribute("aria-label");
  if (aria) return { "aria-label": aria };
  const label = textarea.labels && textarea.labels[0];
  if (label) {
    if (!label.id) label.id = `${textarea.id || "skillmap-editor"}-label`;
    return { "aria-labelledby": label.id };
  }
  return { "aria-label": "Code editor" };
}

function metaNonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.getAttribute("content") || meta.nonce || "" : "";
}

const theme = EditorView.theme({
  "&": { border: "1px solid #8a8f98", borderRadius: "4px", backgroundColor: "#fff" },
  "&.cm-focused": { outline: "2px solid #1a5fb4", outlineOffset: "1px" },
  ".cm-scroller": {
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    minHeight: "10em",
    maxHeight: "40em",
    overflow: "auto",
  },
  ".cm-content": { minHeight: "10em" },
  ".cm-gutters": { backgroundColor: "#f4f5f7", color: "#59606b", borderRight: "1px solid #d0d4da" },
});

function mount(textarea, options = {}) {
  if (!(textarea instanceof HTMLTextAreaElement)) {
    throw new TypeError("SkillmapEditor.mount expects a <textarea>");
  }
  if (mounted.has(textarea)) return mounted.get(textarea);

  const language = options.language || textarea.dataset.language || "python";
  const readOnly = options.readOnly ?? textarea.readOnly;
  const nonce = options.nonce || metaNonce();
  const label = options.label || textarea.dataset.label;

  const contentAttrs = labelFor(textarea, { label });
  if (textarea.getAttribute("aria-describedby")) {
    contentAttrs["aria-describedby"] = textarea.getAttribute("aria-describedby");
  }

  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    // defaultKeymap binds Mod-] / Mod-[ to indentMore / indentLess and leaves
    // Tab alone, so Tab keeps moving focus (no indentWithTab on purpose).
    keymap.of([...defaultKeymap, ...historyKeymap]),
    languageSlot.of(languageExtension(language)),
    theme,
    EditorView.lineWrapping,
    EditorView.contentAttributes.of(contentAttrs),
    EditorState.readOnly.of(Boolean(readOnly)),
    EditorView.updateListener.of((update) => {
      if (!update.docChanged) return;
      textarea.value = update.state.doc.toString();
      if (!update.transactions.some((tr) => tr.annotation(programmatic))) {
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }),
  ];
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));
  if (textarea.placeholder) extensions.push(placeholderExt(textarea.placeholder));

  const view = new EditorView({
    state: EditorState.create({ doc: textarea.value, extensions }),
  });
  view.dom.classList.add("skillmap-editor");
  textarea.insertAdjacentElement("afterend", view.dom);
  const wasHidden = textarea.hidden;
  textarea.hidden = true;

  // Clicking a <label for=textarea> should focus the editor, not the hidden textarea.
  const labels = Array.from(textarea.labels || []);
  const onLabelClick = (event) => {
    event.preventDefault();
    view.focus();
  };
  labels.forEach((l) => l.addEventListener("click", onLabelClick));

  const api = {
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: String(text ?? "") },
        annotations: programmatic.of(true),
      });
      textarea.value = view.state.doc.toString();
    },
    setLanguage(name) {
      view.dispatch({ effects: languageSlot.reconfigure(languageExtension(name)) });
      textarea.dataset.language = name;
    },
    focus: () => view.focus(),
    destroy() {
      labels.forEach((l) => l.removeEventListener("click", onLabelClick));
      textarea.value = view.state.doc.toString();
      view.destroy();
      view.dom.remove();
      textarea.hidden = wasHidden;
      mounted.delete(textarea);
    },
  };
  mounted.set(textarea, api);
  return api;
}

function mountAll(root = document) {
  const scope = root && root.querySelectorAll ? root : document;
  const found = Array.from(scope.querySelectorAll("textarea[data-skillmap-editor]"));
  if (scope.matches && scope.matches("textarea[data-skillmap-editor]")) found.unshift(scope);
  return found.map((ta) => mount(ta));
}

window.SkillmapEditor = { mount, mountAll };

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountAll(document));
} else {
  mountAll(document);
}
document.addEventListener("htmx:load", (event) => mountAll(event.target));
