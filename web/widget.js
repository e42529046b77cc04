/* Træningsguide chat widget: embeddable, accessible, no dependencies.
 * <script src="/widget.js" data-kommune="koege" data-server="http://localhost:5005"></script>
 * Loads widget.css and widget-config.json from the same folder as this file. */
(function () {
  "use strict";

  // Last-resort defaults, used only if widget-config.json cannot be loaded.
  const FALLBACK_TEXTS = {
    launcher: "Chat", title: "Træningsguiden", close: "Luk", input_label: "Dit spørgsmål",
    send: "Send", typing: "Skriver …", error: "Der opstod en fejl.", no_reply: "Intet svar.",
    contact_prefix: "Kontakt:", contact_general: "Kontakt din kommune.",
    you: "Dig", bot: "Træningsguiden", intro: "Hej! Skriv dit spørgsmål.", new: "Ny samtale",
    delete: "Slet samtale", delete_confirm: "Slet samtalen?", deleted: "Slettet.", delete_error: "Fejl.",
    sources: "Se kilden", sources_intro: "Kilde:", feedback_question: "Hjalp svaret?", feedback_up: "Ja",
    feedback_down: "Nej", feedback_comment: "Hvad manglede?", feedback_send: "Send", feedback_skip: "Spring over",
    feedback_thanks: "Tak."
  };
  const KOMMUNER = ["koege", "holbaek", "hedensted", "roedovre", "roskilde"];
  const TIMEOUT_MS = 15000;
  const MAX_HISTORY = 100;
  const URL_RE = /(https?:\/\/[^\s]+|www\.[^\s]+)/;
  // A Danish phone number as the guide writes it ("56 67 26 26"): a tel: link in the bot's messages.
  const PHONE_RE = /(?<!\d ?)(\d{2} \d{2} \d{2} \d{2})(?! ?\d)/;
  const MAX_QUOTES = 12;
  const MAX_COMMENT = 300; // the rating's optional comment ("Hvad manglede?")
  const ANSWER_ID_RE = /^[a-z0-9]{8,64}$/;
  // The masking rule of traeningsguide/privacy.py: runs of 8+ digits with any separator people use
  // between groups (any white space, line breaks and zero-width characters included; hyphen, dashes,
  // minus, slash, dot, underscore, colon, one or two with spaces around them; a glued comma), except a time range ("08.00-12.00"), and e-mail addresses. What the citizen typed is shown
  // and kept in localStorage masked. (\p{Nd} = any decimal digit, as Python's \d.) The bot's replies
  // (the municipalities' phone numbers) are not masked.
  const SP = "[\\s\\u200b-\\u200d\\u2060\\ufeff]";
  const SEP = "(?:" + SP + "{0,8}[-\\u2010-\\u2015\\u2212/._:]{1,2}" + SP + "{0,8}|,|" + SP + "{1,8})";
  const LONG_DIGITS_RE = new RegExp("(?<!\\p{Nd})\\p{Nd}(?:" + SEP + "?\\p{Nd}){7,}(?!\\p{Nd})", "gu");
  const TIME_RANGE_RE = new RegExp("^\\p{Nd}{1,2}[.:]\\p{Nd}{2}" + SP + "*[-\\u2013\\u2014]" + SP +
    "*\\p{Nd}{1,2}[.:]\\p{Nd}{2}$", "u");
  const EMAIL_RE = /[\p{L}\p{N}_.!#$%&'*+/=?^`{|}~-]+@[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+/gu;
  function maskPersonalNumbers(text) {
    return text.replace(EMAIL_RE, (a) => a.replace(/[\p{L}\p{N}_]/gu, "#"))
      .replace(LONG_DIGITS_RE, (run) => TIME_RANGE_RE.test(run) ? run : run.replace(/\p{Nd}/gu, "#"));
  }

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || document.getElementById("tg-root")) return; // not found, or already embedded

  const base = new URL(".", script.src || location.href).href;
  const server = (script.getAttribute("data-server") || "http://localhost:5005").replace(/\/+$/, "");
  let kommune = (script.getAttribute("data-kommune") || "").trim().toLowerCase();
  if (kommune && KOMMUNER.indexOf(kommune) < 0) {
    console.warn("Træningsguide: unknown data-kommune", kommune);
    kommune = "";
  }

  let T = FALLBACK_TEXTS; // UI texts (from config)
  let contacts = {};      // kommune id -> contact sentence (from config)

  // ---- localStorage helpers (storage may be unavailable, e.g. private mode) ----
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* ignore */ } }
  // Everything the widget keeps in this browser (the sender id and every page's history).
  function forgetLocal() {
    try {
      Object.keys(localStorage).filter((k) => k.indexOf("traeningsguide:") === 0)
        .forEach((k) => localStorage.removeItem(k));
    } catch (e) { /* ignore */ }
  }

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const b = new Uint8Array(16); // fallback: RFC 4122 v4 from random bytes
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.prototype.map.call(b, (x) => (x + 256).toString(16).slice(1)).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  const SENDER_KEY = "traeningsguide:sender";
  const HISTORY_KEY = "traeningsguide:history:" + (kommune || "none");
  let sender = load(SENDER_KEY);
  if (!sender) { sender = uuid(); store(SENDER_KEY, sender); }
  let generation = 0; // a new conversation drops the replies still on their way for the old one

  function cleanButtons(buttons) {
    if (!Array.isArray(buttons)) return [];
    return buttons.filter((b) => b && (b.title || b.payload))
      .map((b) => ({ title: String(b.title || b.payload), payload: String(b.payload || b.title) }));
  }

  // The answer's sources from the server's "custom" payload: [{title, quotes: [...]}], texts only.
  function cleanSources(sources) {
    if (!Array.isArray(sources)) return [];
    return sources.filter((s) => s && typeof s.title === "string" && Array.isArray(s.quotes))
      .map((s) => ({ title: s.title, quotes: s.quotes.filter((q) => typeof q === "string" && q).slice(0, MAX_QUOTES) }))
      .filter((s) => s.quotes.length);
  }

  // A history entry as kept in localStorage (a clicked button row remembers which one was chosen).
  function entry(m) {
    const e = { from: m.from, text: m.text, buttons: cleanButtons(m.buttons) };
    const sources = m.from === "bot" ? cleanSources(m.sources) : [];
    if (sources.length) e.sources = sources;
    if (Number.isInteger(m.chosen) && m.chosen >= 0 && m.chosen < e.buttons.length) e.chosen = m.chosen;
    // an answer the citizen can rate: the server's id for it, and the rating once given
    if (m.from === "bot" && typeof m.answer === "string" && ANSWER_ID_RE.test(m.answer)) {
      e.answer = m.answer;
      if (m.feedback === "up" || m.feedback === "down") e.feedback = m.feedback;
    }
    return e;
  }

  let history = [];
  try {
    const saved = JSON.parse(load(HISTORY_KEY) || "[]");
    if (Array.isArray(saved)) {
      history = saved.filter((m) => m && (m.from === "user" || m.from === "bot") && typeof m.text === "string")
        .map((m) => entry(Object.assign({}, m, { text: m.from === "user" ? maskPersonalNumbers(m.text) : m.text })))
        .slice(-MAX_HISTORY);
    }
  } catch (e) { history = []; }
  if (history.length) store(HISTORY_KEY, JSON.stringify(history)); // re-saved masked (older versions kept it as typed)

  // ---- DOM helpers ----
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  // Only http(s) URLs become links; "www." gets "https://" in front.
  function safeHref(s) {
    try {
      const u = new URL(/^www\./i.test(s) ? "https://" + s : s);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) { return null; }
  }

  // Phone numbers as tel: links (the bot's messages only: a citizen's own digits are masked anyway).
  function appendPhones(parent, text, phones) {
    (phones ? text.split(PHONE_RE) : [text]).forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 0) parent.appendChild(document.createTextNode(part));
      else parent.appendChild(el("a", { href: "tel:+45" + part.replace(/ /g, ""), class: "tg-tel", text: part }));
    });
  }

  // Append text with clickable URLs (and, for the bot, phone numbers); never uses innerHTML.
  function appendRich(parent, text, phones) {
    text.split(URL_RE).forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 0) { appendPhones(parent, part, phones); return; }
      const m = part.match(/^(.*?)([.,;:!?)\]]*)$/); // trailing punctuation stays text
      const href = safeHref(m[1]);
      if (href) {
        parent.appendChild(el("a", { href: href, rel: "noopener noreferrer", target: "_blank", text: m[1] }));
      } else if (m[1]) {
        parent.appendChild(document.createTextNode(m[1]));
      }
      if (m[2]) parent.appendChild(document.createTextNode(m[2]));
    });
  }

  // ---- UI (built after config + CSS are loaded) ----
  let launcher, panel, log, input, sendBtn, typing;
  let pending = 0;
  let started = false;
  let queue = Promise.resolve(); // requests are sent one at a time, in order

  // "Se kilden": the verbatim quotes the answer rests on, opened in place (a native <details>).
  function renderSources(sources) {
    const details = el("details", { class: "tg-sources" }, [el("summary", { text: T.sources })]);
    sources.forEach((s) => {
      details.appendChild(el("p", { class: "tg-source-title", text: T.sources_intro + " " + s.title }));
      s.quotes.forEach((q) => details.appendChild(el("blockquote", { class: "tg-quote", text: q })));
    });
    return details;
  }

  // A row of buttons is answered once: the clicked one is marked and the row disabled, kept in the
  // history so that it reads the same after a reload.
  function markChosen(list, index) {
    Array.prototype.forEach.call(list.querySelectorAll("button"), (b, i) => {
      b.disabled = true;
      if (i === index) { b.classList.add("tg-chosen"); b.setAttribute("aria-pressed", "true"); }
    });
  }

  // A rating goes to the server as a payload the NLU does not read (/feedback{...}); the server's
  // thanks are shown in place of the buttons, not as a message of their own.
  // It belongs to the conversation it was given in: after "Ny samtale" or "Slet samtale" it is dropped.
  function postFeedback(rating) {
    const payload = "/feedback" + JSON.stringify(rating);
    const mine = generation, who = sender;
    queue = queue.then(async () => {
      if (mine !== generation) return;
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
      try {
        await fetch(server + "/webhooks/rest/webhook", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ sender: who, message: payload }), signal: ctrl.signal
        });
      } catch (e) { /* a lost rating is not worth an error in the chat */ }
      clearTimeout(timer);
    });
    return queue;
  }

  // The thanks replace the buttons; the live region is filled after it is in the page, so that screen
  // readers announce it.
  function feedbackThanks(row, announce) {
    while (row.firstChild) row.removeChild(row.firstChild);
    const note = el("p", announce ? { class: "tg-feedback-thanks", role: "status" } : { class: "tg-feedback-thanks" });
    row.appendChild(note);
    if (announce) setTimeout(() => { note.textContent = T.feedback_thanks; }, 50);
    else note.textContent = T.feedback_thanks;
  }

  // After a thumbs down: an optional short comment, then thanks.
  function feedbackComment(m, row) {
    while (row.firstChild) row.removeChild(row.firstChild);
    const id = "tg-comment-" + m.answer;
    const field = el("input", { id: id, type: "text", class: "tg-comment", maxlength: String(MAX_COMMENT),
      autocomplete: "off" });
    const sendComment = el("button", { type: "submit", class: "tg-quick", text: T.feedback_send });
    const skip = el("button", { type: "button", class: "tg-quick", text: T.feedback_skip });
    const form = el("form", { class: "tg-feedback-form" }, [
      el("label", { for: id, text: T.feedback_comment }), field, el("div", { class: "tg-row" }, [sendComment, skip])
    ]);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const comment = maskPersonalNumbers(field.value).replace(/\s+/g, " ").trim().slice(0, MAX_COMMENT);
      if (comment) postFeedback({ answer: m.answer, rating: "down", comment: comment });
      feedbackThanks(row, true);
      input.focus();
    });
    skip.addEventListener("click", () => { feedbackThanks(row, true); input.focus(); });
    row.appendChild(form);
    field.focus();
    form.scrollIntoView({ block: "nearest" }); // its buttons too, not only the field
  }

  function renderFeedback(m) {
    const row = el("div", { class: "tg-feedback", role: "group", "aria-label": T.feedback_question });
    if (m.feedback) { feedbackThanks(row, false); return row; } // rated before a reload
    row.appendChild(el("span", { class: "tg-feedback-q", "aria-hidden": "true", text: T.feedback_question }));
    [["up", "\u{1F44D}", T.feedback_up], ["down", "\u{1F44E}", T.feedback_down]].forEach(([rating, icon, label]) => {
      const btn = el("button", { type: "button", class: "tg-rate tg-rate-" + rating, "aria-label": label, title: label },
        [el("span", { "aria-hidden": "true", text: icon })]);
      btn.addEventListener("click", () => {
        if (m.feedback) return;
        m.feedback = rating;
        store(HISTORY_KEY, JSON.stringify(history));
        postFeedback({ answer: m.answer, rating: rating });
        if (rating === "down") feedbackComment(m, row);
        else { feedbackThanks(row, true); input.focus(); } // the pressed button is gone: back to the question field
      });
      row.appendChild(btn);
    });
    return row;
  }

  function renderMessage(m) {
    const isUser = m.from === "user";
    const node = el("div", { class: "tg-msg " + (isUser ? "tg-user" : "tg-bot") }, [
      el("span", { class: "tg-sr", text: (isUser ? T.you : T.bot) + ": " })
    ]);
    const body = el("span", { class: "tg-text" });
    appendRich(body, m.text || "", !isUser);
    node.appendChild(body);
    if (m.sources && m.sources.length) node.appendChild(renderSources(m.sources));
    if (m.buttons && m.buttons.length) {
      const list = el("div", { class: "tg-quick-list" });
      m.buttons.forEach((b, i) => {
        const btn = el("button", { type: "button", class: "tg-quick", text: b.title });
        btn.addEventListener("click", () => {
          if (btn.disabled) return;
          m.chosen = i;
          markChosen(list, i);
          store(HISTORY_KEY, JSON.stringify(history));
          sendUser(b.title, b.payload);
        });
        list.appendChild(btn);
      });
      node.appendChild(list);
      if (Number.isInteger(m.chosen)) markChosen(list, m.chosen);
    }
    if (!isUser && m.answer) node.appendChild(renderFeedback(m));
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  // A new answer opens at its start: all of it, with the question, when it fits; else the question
  // and the answer's first message when they fit; else the answer's first line at the top of the log.
  function reveal(question, first) {
    if (!first) return;
    const margin = 8;
    const last = log.lastElementChild;
    const top = question ? question.offsetTop : first.offsetTop;
    if (last.offsetTop + last.offsetHeight - top <= log.clientHeight) log.scrollTop = log.scrollHeight;
    else if (question && first.offsetTop + first.offsetHeight - top + margin <= log.clientHeight) {
      log.scrollTop = top - margin;
    } else log.scrollTop = first.offsetTop - margin;
  }

  // Show a message; persist it unless persist === false.
  function add(m, persist) {
    const kept = entry(m);
    const node = renderMessage(kept);
    if (persist === false) return node;
    history.push(kept);
    history = history.slice(-MAX_HISTORY);
    store(HISTORY_KEY, JSON.stringify(history));
    return node;
  }

  function contactLine() {
    return kommune && contacts[kommune] ? T.contact_prefix + " " + contacts[kommune] : T.contact_general;
  }

  function setBusy(delta) {
    pending += delta;
    const busy = pending > 0;
    typing.hidden = !busy;
    typing.setAttribute("aria-hidden", busy ? "false" : "true");
    sendBtn.disabled = busy;
    if (busy) log.scrollTop = log.scrollHeight;
  }

  // POST one message to Rasa's REST channel and render the replies (or an error + contact).
  async function request(payload, silent) {
    const mine = generation;
    setBusy(1);
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    let failure = null;
    try {
      const res = await fetch(server + "/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender, message: payload }),
        signal: ctrl.signal
      });
      if (!res.ok) throw new Error("HTTP " + res.status);
      const data = await res.json();
      const replies = (Array.isArray(data) ? data : []).filter((r) => r &&
        ((typeof r.text === "string" && r.text.trim()) || (Array.isArray(r.buttons) && r.buttons.length)));
      if (!replies.length) failure = T.no_reply;
      if (mine !== generation) replies.length = 0;
      const users = log.querySelectorAll(".tg-user");
      const asked = silent || !users.length ? null : users[users.length - 1];
      const shown = replies.map((r) => {
        const custom = r.custom && typeof r.custom === "object" ? r.custom : {};
        return add({ from: "bot", text: typeof r.text === "string" ? r.text : "", buttons: r.buttons,
          sources: custom.sources, answer: custom.answer });
      });
      reveal(asked, shown[0]);
    } catch (e) {
      failure = T.error;
    } finally {
      clearTimeout(timer);
    }
    if (mine !== generation) { setBusy(-1); return; }
    // A failed silent start is not persisted, so a reload retries it.
    if (failure) add({ from: "bot", text: failure + "\n" + contactLine(), buttons: [] }, !silent);
    setBusy(-1);
  }

  function send(payload, silent) {
    queue = queue.then(() => request(payload, silent));
    return queue;
  }

  // The payload goes to the server as typed (its channel masks it before storing or logging).
  function sendUser(title, payload) {
    add({ from: "user", text: maskPersonalNumbers(title), buttons: [] });
    send(payload);
  }

  // First opening with empty history: tell the bot the municipality, or show the intro.
  function startConversation() {
    if (started) return;
    started = true;
    if (history.length) return;
    if (kommune) send("/inform_kommune" + JSON.stringify({ kommune: kommune }), true);
    else add({ from: "bot", text: T.intro, buttons: [] });
  }

  // "Ny samtale": a new sender id, and nothing of the old conversation left in this browser.
  function newConversation(note) {
    generation += 1;
    forgetLocal();
    sender = uuid();
    store(SENDER_KEY, sender);
    history = [];
    while (log.firstChild) log.removeChild(log.firstChild);
    started = false;
    if (note) add({ from: "bot", text: note, buttons: [] }, false);
    startConversation();
    input.focus();
  }

  // "Slet samtale": the server deletes this sender id's conversation (the random id is the only key),
  // then the browser forgets it too. If the server cannot, nothing is forgotten and the citizen is told.
  async function deleteConversation() {
    if (!window.confirm(T.delete_confirm)) return;
    await queue; // what is still on its way (a rating) is stored first, then deleted with the rest
    let ok = false;
    try {
      const res = await fetch(server + "/webhooks/rest/forget", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sender: sender })
      });
      ok = res.ok;
    } catch (e) { ok = false; }
    if (ok) newConversation(T.deleted);
    else add({ from: "bot", text: T.delete_error, buttons: [] }, false);
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      log.scrollTop = log.scrollHeight;
      input.focus();
      startConversation();
    } else {
      launcher.focus();
    }
  }

  function build() {
    launcher = el("button", {
      type: "button", id: "tg-launcher", "aria-expanded": "false", "aria-controls": "tg-panel", text: T.launcher
    });
    const close = el("button", { type: "button", id: "tg-close", "aria-label": T.close }, [
      el("span", { "aria-hidden": "true", text: "×" })
    ]);
    log = el("div", { id: "tg-log", role: "log", "aria-live": "polite", "aria-labelledby": "tg-title", tabindex: "0" });
    typing = el("div", { id: "tg-typing", role: "status", "aria-hidden": "true", text: T.typing });
    typing.hidden = true;
    input = el("input", { id: "tg-input", type: "text", autocomplete: "off", maxlength: "500" });
    sendBtn = el("button", { type: "submit", id: "tg-send", text: T.send });
    const form = el("form", { id: "tg-form" }, [
      el("label", { for: "tg-input", id: "tg-label", text: T.input_label }),
      el("div", { class: "tg-row" }, [input, sendBtn])
    ]);
    const newBtn = el("button", { type: "button", id: "tg-new", class: "tg-tool", text: T.new });
    const deleteBtn = el("button", { type: "button", id: "tg-delete", class: "tg-tool", text: T.delete });
    panel = el("div", {
      id: "tg-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "tg-title", lang: "da"
    }, [
      el("div", { class: "tg-header" }, [el("h2", { id: "tg-title", text: T.title }), close]),
      el("div", { class: "tg-tools" }, [newBtn, deleteBtn]),
      log, typing, form
    ]);
    newBtn.addEventListener("click", () => newConversation());
    deleteBtn.addEventListener("click", () => deleteConversation());
    panel.hidden = true;
    const root = el("div", { id: "tg-root", lang: "da" }, [launcher, panel]);

    launcher.addEventListener("click", () => setOpen(panel.hidden));
    close.addEventListener("click", () => setOpen(false));
    root.addEventListener("keydown", (e) => {
      if ((e.key === "Escape" || e.key === "Esc") && !panel.hidden) { e.preventDefault(); setOpen(false); }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text || pending) return;
      input.value = "";
      input.focus(); // keep focus when the send button becomes disabled
      sendUser(text, text);
    });

    document.body.appendChild(root);
    history.forEach((m) => renderMessage(m)); // re-render the saved conversation (the entries themselves)
  }

  // ---- Bootstrap: load CSS and config in parallel, then build the widget ----
  const cssLoaded = new Promise((resolve) => {
    const link = el("link", { rel: "stylesheet", href: new URL("widget.css", base).href });
    link.onload = link.onerror = resolve;
    document.head.appendChild(link);
  });
  const configLoaded = fetch(new URL("widget-config.json", base).href, { cache: "no-cache" })
    .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then((cfg) => {
      if (cfg && typeof cfg.texts === "object") T = Object.assign({}, FALLBACK_TEXTS, cfg.texts);
      if (cfg && typeof cfg.contacts === "object" && cfg.contacts) contacts = cfg.contacts;
    })
    .catch((e) => console.warn("Træningsguide: widget-config.json not loaded, using defaults", e));

  Promise.all([cssLoaded, configLoaded]).then(() => {
    if (document.body) build();
    else document.addEventListener("DOMContentLoaded", build);
  });
})();
