/* Skillmap attempt page: autosave with retries, progress, flags, ordering by keyboard,
 * countdown, "run examples" and a submit that flushes pending saves first. A busy server
 * (429/503) is retried after its Retry-After.
 * Never loses an answer: a failed save keeps the answer in the page and retries; the page
 * warns before leaving with unsaved work. */
(function () {
  "use strict";

  var root = document.getElementById("attempt");
  if (!root) return;

  var SAVE_DELAY_MS = 700;
  var AUTH_RETRY_MS = 4000;
  var globalState = root.querySelector("[data-global-state]");
  var forms = Array.prototype.slice.call(root.querySelectorAll("form.answer-form"));
  var states = new Map();

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function sectionOf(form) { return form.closest("section.question"); }

  // Each widget marks its inputs with data-answer (how to read them) and the answer
  // key they fill (data-key, else the input's name): no knowledge of item types here.
  function collect(form) {
    var answer = {};
    form.querySelectorAll("[data-answer]").forEach(function (el) {
      var key = el.dataset.key || el.name;
      switch (el.dataset.answer) {
        case "one":
          if (!(key in answer)) answer[key] = null;
          if (el.checked) answer[key] = el.value;
          break;
        case "many":
          answer[key] = answer[key] || [];
          if (el.checked) answer[key].push(el.value);
          break;
        case "bool":
          if (!(key in answer)) answer[key] = null;
          if (el.checked) answer[key] = el.value === "true";
          break;
        case "list":
          (answer[key] = answer[key] || []).push(el.value);
          break;
        case "map":
          (answer[key] = answer[key] || {})[el.dataset.mapKey] = el.value;
          break;
        default:
          answer[key] = el.value;
      }
    });
    return answer;
  }

  function isAnswered(form) {
    var a = collect(form);
    if ("choice" in a) return !!a.choice;
    if ("choices" in a) return a.choices.length > 0;
    if ("value" in a) return a.value !== null && String(a.value).trim() !== "";
    if ("text" in a) return a.text.trim() !== "";
    if ("pairs" in a) return Object.keys(a.pairs).some(function (k) { return a.pairs[k]; });
    if ("order" in a) return !!states.get(form).touched || states.get(form).savedOnce;
    var starter = form.querySelector("[name=code]").dataset.starter || "";
    return (a.code || "").trim() !== "" && (a.code || "").trim() !== starter.trim();
  }

  function setText(el, text, cls) {
    if (!el) return;
    el.textContent = text;
    el.className = el.className.replace(/\bstate-\S+/g, "").trim() + (cls ? " state-" + cls : "");
  }

  function refreshProgress() {
    var answered = 0;
    forms.forEach(function (form) {
      var section = sectionOf(form);
      var done = isAnswered(form);
      if (done) answered += 1;
      var flag = form.querySelector("[data-flag-url]");
      var nav = root.querySelector("[data-nav='" + section.dataset.position + "'] [data-nav-state]");
      var words = [];
      if (done) words.push("answered");
      if (flag && flag.checked) words.push("flagged");
      if (nav) {
        nav.textContent = words.length ? " (" + words.join(", ") + ")" : "";
        nav.parentElement.classList.toggle("is-answered", done);
        nav.parentElement.classList.toggle("is-flagged", !!(flag && flag.checked));
      }
    });
    root.querySelectorAll(".question.is-locked").forEach(function () { answered += 1; });
    var counter = root.querySelector("[data-answered]");
    var bar = root.querySelector("[data-progress]");
    if (counter) counter.textContent = String(answered);
    if (bar) { bar.value = answered; bar.textContent = String(answered); }
  }

  function refreshGlobal() {
    var unsaved = 0, auth = false, failing = false, busy = false;
    states.forEach(function (s) {
      if (s.dirty || s.inflight) unsaved += 1;
      if (s.authProblem) auth = true;
      if (s.failing) failing = true;
      if (s.busy && (s.dirty || s.inflight)) busy = true;
    });
    if (auth) {
      globalState.textContent = "";
      var msg = document.createTextNode("Not saved — your session ended. ");
      var link = document.createElement("a");
      link.href = root.dataset.loginUrl + "?next=" + encodeURIComponent(window.location.pathname);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Log in again (opens a new tab)";
      globalState.appendChild(msg);
      globalState.appendChild(link);
      globalState.appendChild(document.createTextNode("; your answers are kept here and saved once you are back."));
      globalState.className = "save-summary state-error";
    } else if (failing) {
      setText(globalState, "Not saved — retrying. Keep this page open; your answers are kept.", "error");
    } else if (busy) {
      setText(globalState, "The server is busy: saving again in a moment. Keep this page open; your answers are kept.", "pending");
    } else if (unsaved) {
      setText(globalState, "Saving…", "pending");
    } else {
      setText(globalState, "All answers saved.", "ok");
    }
  }

  function schedule(form, delay) {
    var s = states.get(form);
    clearTimeout(s.timer);
    s.timer = setTimeout(function () { save(form); }, delay);
  }

  function save(form) {
    var s = states.get(form);
    if (s.closed) return Promise.resolve();
    if (s.inflight) { s.again = true; return s.inflight; }
    if (!s.dirty) return Promise.resolve();
    s.dirty = false;
    s.revision += 1;
    var stateEl = form.querySelector("[data-save-state]");
    setText(stateEl, "Saving…", "pending");
    var body = JSON.stringify({ answer: collect(form), revision: s.revision });
    var headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    // Sent again after refusals: the server lets such a save wait longer (config/shedding.py).
    if (s.busyCount) headers["X-Shed-Retries"] = String(s.busyCount);
    s.inflight = fetch(form.dataset.saveUrl, {
      method: "PUT",
      credentials: "same-origin",
      redirect: "error",
      headers: headers,
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, retryAfter: response.headers.get("Retry-After") };
      });
    }).then(function (result) {
      s.inflight = null;
      if (result.status >= 200 && result.status < 300) {
        s.failing = false; s.busy = false; s.busyCount = 0; s.authProblem = false; s.backoff = 1000; s.savedOnce = true;
        if (result.data.revision > s.revision) s.revision = result.data.revision;
        var when = result.data.saved_at ? new Date(result.data.saved_at) : new Date();
        setText(stateEl, "Saved " + when.toLocaleTimeString(), "ok");
      } else if (result.status === 401 || result.status === 403) {
        s.dirty = true; s.authProblem = true;
        setText(stateEl, "Not saved — log in again", "error");
        schedule(form, AUTH_RETRY_MS);
      } else if (result.status === 409) {
        s.closed = true;
        setText(stateEl, "Not saved: " + (result.data.detail || "this attempt is closed."), "error");
        form.querySelectorAll("input, select, textarea, button").forEach(function (el) { el.disabled = true; });
      } else if (result.status === 429 || result.status === 503) {
        // The server is busy (or this account saves too often): nothing was stored. Keep
        // the answer and send it again once the server's Retry-After has passed.
        s.dirty = true; s.busy = true;
        var wait = busyWait(result.retryAfter, s);
        setText(stateEl, "Server busy — saving again in " + Math.ceil(wait / 1000) + " s", "pending");
        schedule(form, wait);
      } else if (result.status === 400 || result.status === 413) {
        // Refused as it is (problem details say why): retrying would not help.
        setText(stateEl, "Not saved: " + (result.data.detail || "check this answer."), "error");
      } else {
        throw new Error("HTTP " + result.status);
      }
    }).catch(function () {
      s.inflight = null;
      s.dirty = true; s.failing = true;
      setText(stateEl, "Not saved — retrying", "error");
      s.backoff = Math.min((s.backoff || 1000) * 2, 15000);
      schedule(form, s.backoff);
    }).then(function () {
      if (s.again) { s.again = false; s.dirty = true; schedule(form, 0); }
      refreshGlobal();
      refreshProgress();
    });
    refreshGlobal();
    return s.inflight;
  }

  // How long to wait after a 429/503: the server's Retry-After (seconds), or longer when
  // the server stays busy (2, 4, 8 … 60 s for each refusal in a row, so that a room's
  // retries do not become most of the traffic), spread by up to half again so that a whole
  // exam room does not retry in the same second.
  function busyWait(header, s) {
    s.busyCount = (s.busyCount || 0) + 1;
    var seconds = parseInt(header || "", 10);
    var asked = seconds > 0 ? seconds * 1000 : 0;
    var backoff = Math.min(1000 * Math.pow(2, s.busyCount), 60000);
    return Math.max(asked, backoff) * (1 + Math.random() * 0.5);
  }

  function flushAll(deadlineMs) {
    var end = Date.now() + deadlineMs;
    function round() {
      var pending = [];
      states.forEach(function (s, form) {
        if (s.closed) return;
        if (s.dirty || s.inflight) { clearTimeout(s.timer); pending.push(save(form)); }
      });
      if (!pending.length || Date.now() > end) return Promise.resolve(!pending.length);
      return Promise.all(pending).then(function () {
        var left = 0;
        states.forEach(function (s) { if ((s.dirty || s.inflight) && !s.closed) left += 1; });
        if (!left) return true;
        return new Promise(function (r) { setTimeout(r, 500); }).then(round);
      });
    }
    return round();
  }

  forms.forEach(function (form) {
    var section = sectionOf(form);
    states.set(form, { revision: parseInt(section.dataset.revision || "0", 10), dirty: false, backoff: 1000, savedOnce: parseInt(section.dataset.revision || "0", 10) > 0 });
    var onChange = function (event) {
      if (event.target && event.target.hasAttribute("data-flag-url")) return;
      var s = states.get(form);
      s.dirty = true; s.touched = true;
      setText(form.querySelector("[data-save-state]"), "Unsaved changes", "pending");
      refreshGlobal();
      refreshProgress();
      schedule(form, SAVE_DELAY_MS);
    };
    form.addEventListener("input", onChange);
    form.addEventListener("change", onChange);
    form.addEventListener("submit", function (e) { e.preventDefault(); });

    form.querySelectorAll("[data-move]").forEach(function (button) {
      button.addEventListener("click", function () {
        var li = button.closest("li");
        var list = li.parentElement;
        var up = button.dataset.move === "up";
        var sibling = up ? li.previousElementSibling : li.nextElementSibling;
        if (!sibling) return;
        if (up) list.insertBefore(li, sibling); else list.insertBefore(sibling, li);
        var items = Array.prototype.slice.call(list.children);
        var announce = form.querySelector("[data-order-announce]");
        if (announce) announce.textContent = li.querySelector(".entry-text").textContent.trim() + " moved to position " + (items.indexOf(li) + 1) + " of " + items.length + ".";
        button.focus();
        onChange({ target: button });
      });
    });

    var flag = form.querySelector("[data-flag-url]");
    if (flag) {
      flag.addEventListener("change", function () {
        fetch(flag.dataset.flagUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ flagged: flag.checked })
        }).catch(function () { /* the flag is a convenience; the answer matters */ });
        refreshProgress();
      });
    }

    var run = form.querySelector("[data-run-url]");
    if (run) {
      run.addEventListener("click", function () { runExamples(form, run); });
    }

    var languageSwitch = form.querySelector("[data-language-switch]");
    if (languageSwitch) setUpLanguageSwitch(form, languageSwitch);
  });

  // A code challenge's language switch (language-switch.js, shared with the preview).
  function setUpLanguageSwitch(form, select) {
    window.SkillmapLanguageSwitch.track(select);
    select.addEventListener("change", function () {
      window.SkillmapLanguageSwitch.switched(form, select);
    });
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  var CATEGORY = { passed: "passed", wrong_answer: "wrong answer", exception: "exception", timeout: "time limit", memory_limit: "memory limit", output_limit: "output limit", not_run: "not run", failed: "failed" };

  function renderRun(box, data) {
    box.textContent = "";
    if (data.status === "error") { box.appendChild(el("p", "Could not run: " + (data.error || "grading failed"), "status-bad")); return; }
    var outcomes = data.outcomes || [];
    if (data.message) {
      // As on the result page: green when every example passed, never red (the tags say).
      var all = outcomes.length > 0 && outcomes.every(function (o) { return o.passed; });
      box.appendChild(el("p", data.message, "outcome-summary" + (all ? " status-ok" : "")));
    }
    var wrap = el("div", undefined, "table-scroll");
    var table = el("table", undefined, "outcomes");
    var head = el("tr");
    ["Example", "Result", "Details"].forEach(function (h) { var th = el("th", h); th.scope = "col"; head.appendChild(th); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var tbody = el("tbody");
    outcomes.forEach(function (o) {
      var tr = el("tr");
      tr.appendChild(el("td", o.name));
      var result = el("td");
      result.appendChild(el("span", (o.passed ? "✔ " : "✘ ") + (CATEGORY[o.category] || o.category), o.passed ? "tag tag-ok" : "tag tag-bad"));
      tr.appendChild(result);
      var details = el("td");
      [["Input", o.input_repr], ["Expected", o.expected_repr], ["Got", o.actual_repr]].forEach(function (p) {
        if (p[1]) { var d = el("div"); d.appendChild(el("strong", p[0] + " ")); d.appendChild(el("samp", p[1])); details.appendChild(d); }
      });
      tr.appendChild(details);
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    box.appendChild(wrap);
  }

  function runExamples(form, button) {
    var box = form.querySelector(".run-results");
    var code = form.querySelector("[name=code]").value;
    var languageSwitch = form.querySelector("[data-language-switch]");
    button.disabled = true;
    box.textContent = "Running the examples…";
    var requestId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    fetch(button.dataset.runUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(languageSwitch
        ? { code: code, request_id: requestId, language: languageSwitch.value }
        : { code: code, request_id: requestId })
    }).then(function (r) {
      return r.json().then(function (d) {
        return { status: r.status, data: d, retryAfter: parseInt(r.headers.get("Retry-After") || "", 10) };
      });
    })
      .then(function (res) {
        if (res.status !== 202) {
          // The server's message, e.g. "Too many code runs: try again in 12 s."
          box.textContent = res.data.detail || "Could not run the examples (HTTP " + res.status + ").";
          if (res.status === 429 && res.retryAfter > 0) {
            setTimeout(function () { button.disabled = false; }, res.retryAfter * 1000);
          } else {
            button.disabled = false;
          }
          return;
        }
        var until = Date.now() + 120000;
        var poll = function () {
          fetch(res.data.status_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
            .then(function (r) { return r.json(); })
            .then(function (d) {
              if (d.status === "graded" || d.status === "error") { renderRun(box, d); button.disabled = false; }
              else if (Date.now() > until) { box.textContent = "Still queued: grading is slow or unavailable right now. Your draft is saved."; button.disabled = false; }
              else { box.textContent = d.status === "running" ? "Running the examples…" : (d.note || "Waiting for a grader…"); setTimeout(poll, 700); }
            }).catch(function () { setTimeout(poll, 2000); });
        };
        poll();
      }).catch(function () { box.textContent = "Could not reach the server; try again."; button.disabled = false; });
  }

  // A failed check shows one short sentence in the card, never the server's error page.
  function checkErrorText(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") === 0) {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var alert = doc.querySelector("[data-check-error]");
      if (alert && alert.textContent.trim()) return alert.textContent.trim();
    }
    if (xhr.status === 403) return "This page is out of date: reload it, then check again. Your answer is saved.";
    if (xhr.status === 429) return "Too many checks at once: wait a moment and try again.";
    return "Could not check this answer right now (error " + xhr.status + "). Your answer is saved.";
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var section = event.detail.elt.closest("section.question");
    if (!section) return;
    setText(section.querySelector("[data-save-state]"), checkErrorText(event.detail.xhr), "error");
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    // A check answered by the login page (the session ended) must not replace the card.
    var xhr = event.detail.xhr;
    var section = event.detail.elt.closest && event.detail.elt.closest("section.question");
    if (section && xhr.responseURL && xhr.responseURL.indexOf(root.dataset.loginUrl) !== -1) {
      event.detail.shouldSwap = false;
      setText(section.querySelector("[data-save-state]"),
        "You were logged out: log in again in another tab, then check again. Your answer is saved.", "error");
    }
  });
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    // Save the answer before it is checked (and locked).
    var form = event.detail.elt.closest("form.answer-form");
    if (form && states.get(form) && (states.get(form).dirty || states.get(form).inflight)) {
      event.preventDefault();
      flushAll(8000).then(function () { htmx.trigger(event.detail.elt, "click"); });
    }
  });
  document.body.addEventListener("htmx:afterSwap", function () { refreshProgress(); });

  window.addEventListener("beforeunload", function (event) {
    if (submitting) return;
    var unsaved = false;
    states.forEach(function (s) { if ((s.dirty || s.inflight) && !s.closed) unsaved = true; });
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });

  var submitting = false;
  var submitForm = root.querySelector("[data-submit-form]");
  if (submitForm) {
    var submitNow = function () {
      submitting = true;
      var button = submitForm.querySelector("[data-submit]");
      button.disabled = true;
      button.textContent = "Saving and submitting…";
      flushAll(10000).then(function () { submitForm.submit(); });
    };
    var confirmBox = root.querySelector("[data-submit-confirm]");
    // Before submitting, list what is unanswered or flagged and ask (the deadline does not ask).
    var askFirst = function () {
      var list = confirmBox.querySelector("[data-confirm-list]");
      list.textContent = "";
      var unanswered = 0, flagged = 0;
      root.querySelectorAll("section.question").forEach(function (section) {
        var form = section.querySelector("form.answer-form");
        var open = form ? !isAnswered(form) : false;
        var flag = section.querySelector("[data-flag-url]");
        var isFlagged = !!(flag && flag.checked);
        if (!open && !isFlagged) return;
        unanswered += open ? 1 : 0;
        flagged += isFlagged ? 1 : 0;
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = "#" + section.id;
        link.textContent = section.querySelector(".question-head h2").textContent.trim();
        link.addEventListener("click", function () { confirmBox.close(); });
        li.appendChild(link);
        li.appendChild(document.createTextNode(" — " + [open ? "not answered" : "", isFlagged ? "flagged" : ""].filter(Boolean).join(", ")));
        list.appendChild(li);
      });
      confirmBox.querySelector("[data-confirm-summary]").textContent =
        unanswered || flagged
          ? unanswered + " question" + (unanswered === 1 ? " is" : "s are") + " not answered and " + flagged + " " + (flagged === 1 ? "is" : "are") + " flagged for review:"
          : "Every question is answered and none is flagged.";
      confirmBox.showModal();
      confirmBox.querySelector(unanswered || flagged ? "[data-confirm-cancel]" : "[data-confirm-submit]").focus();
    };
    if (confirmBox) {
      confirmBox.querySelector("[data-confirm-submit]").addEventListener("click", function () { confirmBox.close(); submitNow(); });
      confirmBox.querySelector("[data-confirm-cancel]").addEventListener("click", function () { confirmBox.close(); });
    }
    submitForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (submitting) return;
      if (confirmBox && typeof confirmBox.showModal === "function" && !("noConfirm" in submitForm.dataset)) askFirst();
      else submitNow();
    });
  }

  // The adaptive placement: save the answer, then ask the server for the next question.
  var nextForm = root.querySelector("[data-next-form]");
  if (nextForm) {
    nextForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (submitting) return;
      submitting = true;
      var button = nextForm.querySelector("[data-next]");
      button.disabled = true;
      button.textContent = "Saving…";
      flushAll(10000).then(function () { nextForm.submit(); });
    });
  }

  var countdown = root.querySelector("[data-countdown]");
  if (countdown && root.dataset.secondsLeft) {
    var endAt = performance.now() + parseInt(root.dataset.secondsLeft, 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((endAt - performance.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      countdown.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      if (left === 60) countdown.parentElement.setAttribute("aria-live", "assertive");
      if (left <= 0) {
        if (!submitting && submitForm) {
          submitting = true;
          flushAll(5000).then(function () { submitForm.submit(); });
        }
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }

  // Coming back to an attempt: show the question answered last.
  if (root.dataset.resume && !window.location.hash) {
    var target = document.getElementById("q" + root.dataset.resume);
    if (target) target.scrollIntoView({ block: "start" });
  }

  refreshProgress();
  refreshGlobal();
})();
