// The SMS page: a live part counter (GSM-7 160/153, else UCS-2 70/67, as the service counts),
// the history live (status changes, inbound SMS); texts are shown as text.
(function () {
  "use strict";
  const BASIC = new Set(["\n", "\r", " ", "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?", "@", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "_", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "¡", "£", "¤", "¥", "§", "¿", "Ä", "Å", "Æ", "Ç", "É", "Ñ", "Ö", "Ø", "Ü", "ß", "à", "ä", "å", "æ", "è", "é", "ì", "ñ", "ò", "ö", "ø", "ù", "ü", "Γ", "Δ", "Θ", "Λ", "Ξ", "Π", "Σ", "Φ", "Ψ", "Ω"]);
  const EXTENDED = new Set(["\f", "[", "\\", "]", "^", "{", "|", "}", "~", "€"]);

  // Mirrors plugins/sms/numbers.py segments(): units and parts of a text.
  function segments(text) {
    const chars = Array.from(text);
    if (chars.every((c) => BASIC.has(c) || EXTENDED.has(c))) {
      const units = chars.reduce((n, c) => n + (EXTENDED.has(c) ? 2 : 1), 0);
      return { encoding: "gsm7", units: units, parts: units <= 160 ? 1 : Math.ceil(units / 153) };
    }
    const units = text.length;  // UTF-16 code units, as the service counts them
    return { encoding: "ucs2", units: units, parts: units <= 70 ? 1 : Math.ceil(units / 67) };
  }
  window.ctibotSmsSegments = segments;

  function cleaned(text) {
    // As the service sends it: CRLF as LF, control characters gone, trimmed.
    return text.replace(/\r\n/g, "\n")
      .replace(/[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\ud800-\udfff]/g, "").trim();
  }

  function count(root) {
    const d = root.dataset;
    const area = root.querySelector(".sms-text");
    const out = root.querySelector(".sms-counter");
    if (!area || !out) return;
    const s = segments(cleaned(area.value));
    const single = s.encoding === "gsm7" ? 160 : 70;
    const per = s.encoding === "gsm7" ? 153 : 67;
    const limit = s.parts <= 1 ? single : per * s.parts;
    let text = s.units + " / " + limit + " · " + (s.encoding === "gsm7" ? d.tGsm7 : d.tUcs2) +
      " · " + s.parts + " " + d.tParts;
    const over = s.parts > Number(d.maxParts || 6);
    if (over) text += " · " + d.tTooLong;
    out.textContent = text;
    out.classList.toggle("sms-over", over);
    out.dataset.parts = String(s.parts);
    out.dataset.units = String(s.units);
    out.dataset.encoding = s.encoding;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function render(data) {
    const root = document.querySelector(".sms-page");
    if (!root || !data || !data.sms) return;
    const d = root.dataset;
    const body = root.querySelector(".sms-history tbody");
    body.textContent = "";
    for (const r of data.sms) {
      const tr = el("tr", "sms-row sms-" + r.direction + " sms-st-" + r.status);
      tr.dataset.id = r.id;
      const key = "tStatus" + r.status.charAt(0).toUpperCase() + r.status.slice(1);
      tr.append(el("td", "sms-when", r.when), el("td", "sms-dir", r.direction === "in" ? d.tIn : d.tOut),
        el("td", "sms-num", r.number), el("td", "sms-body", r.text),
        el("td", "sms-status", d[key] || r.status));
      body.appendChild(tr);
    }
    if (!data.sms.length) {
      const tr = el("tr", "sms-empty");
      const td = el("td", "", d.tNone);
      td.colSpan = 5;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function start() {
    const root = document.querySelector(".sms-page");
    if (!root) return;
    const area = root.querySelector(".sms-text");
    area.addEventListener("input", () => count(root));
    count(root);
    root.querySelector(".sms-send").addEventListener("submit", (ev) => {
      if (!window.ctibot) return;
      ev.preventDefault();
      const f = ev.target;
      window.ctibot.post(f.action, new FormData(f)).then((answer) => {
        if (answer.status < 400 && answer.ok !== false) { area.value = ""; count(root); }
      });
    });
    if (window.ctibot) window.ctibot.on("sms", render);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
