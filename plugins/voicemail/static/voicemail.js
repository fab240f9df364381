// The voicemail page: play a message in the page, delete one, and follow the live list.
(function () {
  "use strict";
  function page() { return document.querySelector(".vm-page"); }

  function play(key, src) {
    const root = page();
    const player = root.querySelector(".vm-player");
    const audio = root.querySelector("#vm-audio");
    player.hidden = false;
    root.querySelectorAll("tr.vm-playing").forEach((tr) => tr.classList.remove("vm-playing"));
    const row = root.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
    if (row) {
      row.classList.add("vm-playing");
      root.querySelector(".vm-now").textContent = row.querySelector(".vm-caller").textContent;
    }
    audio.src = src;
    const started = audio.play();
    if (started && started.catch) started.catch(() => {});  // autoplay may be refused
  }

  function cell(tr, cls, text) {
    const td = document.createElement("td");
    td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function render(data) {
    const root = page();
    if (!root) return;
    const tbody = root.querySelector(".vm-list tbody");
    const playing = root.querySelector("tr.vm-playing");
    const keep = playing ? playing.dataset.key : null;
    const token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    tbody.textContent = "";
    if (!data.messages.length) {
      const tr = document.createElement("tr");
      tr.className = "vm-none";
      const td = cell(tr, "", root.dataset.empty);
      td.colSpan = 5;
      tbody.appendChild(tr);
    }
    for (const m of data.messages) {
      const tr = document.createElement("tr");
      tr.className = "vm-msg" + (m.new ? " vm-new" : "") + (m.key === keep ? " vm-playing" : "");
      tr.dataset.key = m.key;
      cell(tr, "vm-state", m.new ? root.dataset.tNew : root.dataset.tHeard);
      cell(tr, "vm-caller", m.caller);
      cell(tr, "vm-date", m.when);
      cell(tr, "vm-duration", m.duration + " s");
      const actions = cell(tr, "vm-actions", "");
      const listen = document.createElement("button");
      listen.type = "button";
      listen.className = "vm-listen";
      listen.dataset.src = "/voicemail/" + m.key + "/audio";
      listen.textContent = root.dataset.tListen;
      const down = document.createElement("a");
      down.className = "vm-download";
      down.href = "/voicemail/" + m.key + "/download";
      down.textContent = root.dataset.tDownload;
      const form = document.createElement("form");
      form.method = "post";
      form.className = "vm-delete-form";
      form.action = "/voicemail/" + m.key + "/delete";
      const csrf = document.createElement("input");
      csrf.type = "hidden";
      csrf.name = "csrf_token";
      csrf.value = token;
      const del = document.createElement("button");
      del.type = "submit";
      del.className = "vm-delete";
      del.textContent = root.dataset.tDelete;
      form.append(csrf, del);
      actions.append(listen, down, form);
      tbody.appendChild(tr);
    }
    for (const [box, c] of Object.entries(data.boxes || {})) {
      const el = root.querySelector('.vm-box[data-box="' + CSS.escape(box) + '"] .vm-box-new');
      if (el) el.textContent = el.textContent.replace(/\d+/, String(c.new));
    }
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest(".vm-listen");
    if (!button) return;
    play(button.closest("tr").dataset.key, button.dataset.src);
  });

  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest(".vm-delete-form");
    if (!form) return;
    ev.preventDefault();
    if (!window.confirm(page().dataset.confirm)) return;
    window.ctibot.post(form.action, {}).then((answer) => {
      const tr = form.closest("tr");
      if (tr && answer.status < 400 && answer.ok !== false) tr.remove();
    });
  });

  document.addEventListener("DOMContentLoaded", () => {
    const root = page();
    if (!root) return;
    // Heard to the end: the message moves to Old, as listening on the phone does.
    root.querySelector("#vm-audio").addEventListener("ended", () => {
      const row = root.querySelector("tr.vm-playing");
      const parts = row ? row.dataset.key.split("/") : [];
      if (parts[1] === "INBOX") {
        window.ctibot.post("/voicemail/" + parts[0] + "/INBOX/" + parts[2] + "/heard", {});
      }
    });
    if (window.ctibot && window.ctibot.on) window.ctibot.on("voicemail", render);
    const wanted = root.dataset.play;
    if (wanted) {
      const row = root.querySelector('tr[data-key="' + CSS.escape(wanted) + '"]');
      if (row) play(wanted, row.querySelector(".vm-listen").dataset.src);
    }
  });
})();
