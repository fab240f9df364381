/* The operator board: drawn once from the page's snapshot, then kept live from the
   "board" topic. Changes are gathered and applied once per animation frame, and only
   the extensions whose row changed are redrawn. Everything from the PBX is text
   (textContent only): caller IDs come from strangers. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const first = JSON.parse($("board-data").textContent);
  const L = JSON.parse($("board-labels").textContent);
  const can = first.can || {};
  const me = first.me || "";
  const CALL_TYPE = "application/x-ctibot-call";

  const list = $("board-extensions");
  const parkingList = $("board-parking");
  const trunkList = $("board-trunks");
  const filterBox = $("board-filter");
  const moveBar = $("board-move");
  const flashBox = $("board-flash");

  let offset = first.now - Date.now() / 1000; // the server's clock minus ours, in seconds
  const exts = new Map(); // number -> {el, key, text}
  const ticking = new Set(); // duration elements (data-since)
  let trunksKey = "";
  let parkingKey = "";
  const queue = [];
  let scheduled = false;
  let moving = null; // {id, ext}: a call being moved with the keyboard / clicks
  let filterText = "";

  // What a benchmark or a test reads: messages received and applied, frames, time spent.
  const stats = (window.boardStats = {
    received: 0, applied: 0, frames: 0, busyMs: 0, maxFrameMs: 0, complete: false,
  });

  function t(key, params) {
    let text = L[key] || key;
    if (params) {
      for (const name in params) text = text.split("{" + name + "}").join(String(params[name]));
    }
    return text;
  }

  function h(tag, cls, text) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null && text !== "") el.textContent = text;
    return el;
  }

  function button(label, act, extra) {
    const b = h("button", "b-" + act, label);
    b.type = "button";
    b.dataset.act = act;
    if (extra) for (const k in extra) b.dataset[k] = extra[k];
    return b;
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const hh = Math.floor(seconds / 3600);
    const mm = Math.floor((seconds % 3600) / 60);
    const ss = String(seconds % 60).padStart(2, "0");
    return hh ? hh + ":" + String(mm).padStart(2, "0") + ":" + ss : mm + ":" + ss;
  }

  function duration(since) {
    const el = h("span", "dur");
    el.dataset.since = since;
    el.textContent = clock(Date.now() / 1000 + offset - since);
    ticking.add(el);
    return el;
  }

  // -- an extension ------------------------------------------------------------------------

  function statusOf(row) {
    if (row.dnd && row.status !== "busy" && row.status !== "ringing") return "dnd";
    return row.status || "unknown";
  }

  function callItem(call, ext) {
    const li = h("li", "call st-" + call.state);
    li.draggable = !!(can.transfer || can.park);
    li.dataset.call = call.id;
    li.dataset.ext = ext;
    li.tabIndex = -1;
    const who = h("span", "party");
    if (call.state === "parked") {
      li.append(h("span", "cstate", t("call.parked")), h("span", "slot-num", call.party));
      li.draggable = false;
      return li;
    }
    who.append(h("span", "name", call.name || call.party || "?"));
    if (call.name && call.party) who.append(h("span", "num", call.party));
    li.append(who, h("span", "cstate", t("call." + call.state)), duration(call.since));
    if (call.recording) li.append(h("span", "rec", "● " + t("recording")));
    const acts = h("span", "call-actions");
    const data = { call: call.id, ext: ext };
    if (can.hangup) acts.append(button(t("hangup"), "hangup", data));
    if (can.record && call.state !== "ringing") {
      acts.append(call.recording ? button(t("stop_record"), "unrecord", data)
        : button(t("record"), "record", data));
    }
    if (call.state !== "ringing") {
      if (can.spy && ext !== me) acts.append(button(t("listen"), "listen", data));
      if (can.whisper && ext !== me) acts.append(button(t("whisper"), "whisper", data));
    }
    if (can.transfer && ext !== me && me) acts.append(button(t("pickup"), "take", data));
    if (can.transfer || can.park) acts.append(button(t("move"), "move", data));
    li.append(acts);
    return li;
  }

  function drawExt(row, li) {
    const status = statusOf(row);
    li.className = "ext st-" + status + (row.calls.length ? " has-calls" : "");
    li.dataset.number = row.number;
    li.replaceChildren();
    const head = h("div", "ext-head");
    if (can.call && row.number !== me && status === "idle" && !row.calls.length) {
      const b = button(row.number, "dial", { ext: row.number });
      b.className = "ext-num b-dial";
      b.title = t("call_it", { number: row.number });
      head.append(b);
    } else {
      head.append(h("span", "ext-num", row.number));
    }
    head.append(h("span", "ext-user", row.user));
    const st = h("div", "ext-status");
    st.append(h("span", "dot"), h("span", "word", t("status." + status)));
    li.append(head, st);
    if (row.calls.length) {
      const calls = h("ul", "ext-calls");
      for (const call of row.calls) calls.append(callItem(call, row.number));
      li.append(calls);
    }
    if (row.login && (row.jid || can.postit || can.sms)) {
      const tools = h("div", "ext-tools");
      if (row.jid) {
        const a = h("a", "chat", t("chat"));
        a.href = "xmpp:" + encodeURI(row.jid) + "?message";
        tools.append(a);
      }
      if (can.postit) tools.append(button(t("postit"), "postit", { to: row.login, who: row.user }));
      if (can.sms) tools.append(button(t("sms"), "sms", { to: row.login, who: row.user }));
      li.append(tools);
    }
  }

  function searchText(row) {
    const parts = [row.number, row.user, row.login];
    for (const c of row.calls) parts.push(c.party, c.name);
    return parts.join(" ").toLowerCase();
  }

  function matches(entry) {
    return !filterText || entry.text.indexOf(filterText) !== -1;
  }

  function updateExt(number, row) {
    let entry = exts.get(number);
    if (row === null) {
      if (entry) {
        entry.el.remove();
        exts.delete(number);
      }
      return;
    }
    if (entry && row.user === undefined) {
      row = Object.assign({}, entry.row, row); // a delta leaves out the user's fields
    }
    const key = JSON.stringify(row);
    if (entry && entry.key === key) return;
    if (!entry) {
      const li = h("li");
      li.tabIndex = 0;
      entry = { el: li, key: "", text: "", row: null };
      exts.set(number, entry);
      insertInOrder(li, number);
    }
    entry.key = key;
    entry.row = row;
    entry.text = searchText(row);
    drawExt(row, entry.el);
    entry.el.hidden = !matches(entry);
  }

  function numberKey(n) {
    return /^\d+$/.test(n) ? [0, Number(n), n] : [1, 0, n];
  }

  function before(a, b) {
    const x = numberKey(a), y = numberKey(b);
    return x[0] !== y[0] ? x[0] < y[0] : x[1] !== y[1] ? x[1] < y[1] : x[2] < y[2];
  }

  function insertInOrder(li, number) {
    if (!building) {
      for (const [other, entry] of exts) {
        if (entry.el !== li && entry.el.isConnected && before(number, other)) {
          list.insertBefore(li, entry.el);
          return;
        }
      }
    }
    (building || list).append(li);
  }

  // -- parking and trunks ------------------------------------------------------------------

  function drawParking(slots) {
    const key = JSON.stringify(slots);
    if (key === parkingKey) return;
    parkingKey = key;
    const out = [];
    for (const p of slots) {
      const li = h("li", "slot" + (p.from ? " taken" : " free"));
      li.dataset.slot = p.slot;
      li.tabIndex = 0;
      li.append(h("span", "slot-num", p.slot));
      if (p.from) {
        const who = h("span", "party");
        who.append(h("span", "name", p.from_name || p.from));
        if (p.from_name) who.append(h("span", "num", p.from));
        li.append(who, duration(p.since));
        if (can.pickup) li.append(button(t("pickup"), "pickup", { slot: p.slot }));
      } else {
        li.append(h("span", "slot-free", t("free")));
      }
      out.push(li);
    }
    parkingList.replaceChildren(...out);
  }

  function drawTrunks(trunks) {
    const key = JSON.stringify(trunks);
    if (key === trunksKey) return;
    trunksKey = key;
    const out = [];
    for (const tr of trunks) {
      const li = h("li", "trunk");
      const head = h("div", "trunk-head");
      head.append(h("span", "trunk-name", tr.name),
        h("span", "trunk-use", t("channels", { used: tr.used, max: tr.max || "∞" })));
      const bar = h("div", "trunk-bar");
      const fill = h("span");
      fill.style.width = (tr.max ? Math.min(100, (100 * tr.used) / tr.max) : 0) + "%";
      bar.append(fill);
      li.append(head, bar);
      const calls = h("ul", "trunk-calls");
      for (const c of tr.calls) {
        const item = h("li", "call st-" + c.state);
        item.draggable = !!(can.transfer || can.park);
        item.dataset.call = c.id;
        item.dataset.ext = "";
        const who = h("span", "party");
        who.append(h("span", "name", c.from_name || c.from || "?"));
        if (c.from_name && c.from) who.append(h("span", "num", c.from));
        item.append(who, h("span", "arrow", "→"), h("span", "to", c.to), duration(c.since));
        if (can.hangup) item.append(button(t("hangup"), "hangup", { call: c.id, ext: "" }));
        calls.append(item);
      }
      if (!tr.calls.length) calls.append(h("li", "none", t("no_calls")));
      li.append(calls);
      out.push(li);
    }
    trunkList.replaceChildren(...out);
  }

  // -- applying the live messages ------------------------------------------------------------

  let building = null;

  function apply(messages) {
    let rows = new Map();
    let trunks = null, parking = null, snapshot = false;
    for (const m of messages) {
      if (!m || typeof m !== "object") continue;
      if (m.kind === "snapshot") {
        snapshot = true;
        rows = new Map();
        for (const r of m.extensions || []) rows.set(r.number, r);
      } else {
        const changed = m.extensions || {};
        for (const n in changed) rows.set(n, changed[n]);
        for (const n of m.gone || []) rows.set(n, null);
      }
      if (m.trunks) trunks = m.trunks;
      if (m.parkings) parking = m.parkings;
      if (typeof m.now === "number") offset = m.now - Date.now() / 1000;
    }
    if (snapshot) {
      for (const n of Array.from(exts.keys())) if (!rows.has(n)) updateExt(n, null);
    }
    if (!exts.size) building = document.createDocumentFragment();
    for (const [n, r] of rows) updateExt(n, r);
    if (building) {
      list.append(building);
      building = null;
    }
    if (trunks) drawTrunks(trunks);
    if (parking) drawParking(parking);
    $("board-count").textContent = String(exts.size);
  }

  function frame() {
    scheduled = false;
    const started = performance.now();
    const batch = queue.splice(0, queue.length);
    apply(batch);
    stats.applied += batch.length;
    stats.frames += 1;
    const spent = performance.now() - started;
    stats.busyMs += spent;
    stats.maxFrameMs = Math.max(stats.maxFrameMs, spent);
  }

  function receive(data) {
    stats.received += 1;
    queue.push(data);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(frame);
    }
  }

  setInterval(() => {
    const now = Date.now() / 1000 + offset;
    for (const el of ticking) {
      if (!el.isConnected) ticking.delete(el);
      else el.textContent = clock(now - Number(el.dataset.since));
    }
  }, 1000);

  // -- actions ---------------------------------------------------------------------------------

  function flash(text, bad) {
    flashBox.textContent = text || "";
    flashBox.classList.toggle("bad", !!bad);
  }

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function post(url, body) {
    let result;
    if (window.ctibot && typeof window.ctibot.post === "function") {
      result = await window.ctibot.post(url, new URLSearchParams(body));
    } else {
      result = await fetch(url, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
        body: new URLSearchParams(body),
        credentials: "same-origin",
      });
    }
    if (result instanceof Response) result = await result.json().catch(() => ({}));
    return result || {};
  }

  async function act(url, body) {
    try {
      const r = await post(url, body || {});
      flash(r.message || (r.error ? r.error : t("done")), !!r.error || r.ok === false);
    } catch (err) {
      flash(String((err && err.message) || err), true);
    }
  }

  const enc = encodeURIComponent;

  function callUrl(id, what) {
    return "/board/calls/" + enc(id) + "/" + what;
  }

  function moveTo(call, target) {
    if (target.dataset.slot !== undefined) {
      return act(callUrl(call.id, "park"), { extension: call.ext });
    }
    const number = target.dataset.number;
    if (!number || number === call.ext) return null;
    return act(callUrl(call.id, "transfer"), { extension: call.ext, destination: number });
  }

  function startMoving(call) {
    moving = call;
    document.body.classList.add("board-moving");
    moveBar.hidden = false;
    const firstTarget = list.querySelector("li.ext:not([hidden])");
    if (firstTarget) firstTarget.focus();
  }

  function stopMoving() {
    moving = null;
    document.body.classList.remove("board-moving");
    moveBar.hidden = true;
  }

  const note = $("board-note");
  const noteForm = $("board-note-form");

  function openNote(kind, to, who) {
    noteForm.dataset.kind = kind;
    noteForm.elements.to.value = to;
    noteForm.elements.text.value = "";
    noteForm.querySelector(".board-note-number").hidden = kind !== "sms";
    noteForm.elements.number.required = kind === "sms";
    $("board-note-title").textContent = t(kind) + " — " + who;
    if (typeof note.showModal === "function") note.showModal();
    else note.setAttribute("open", "");
  }

  noteForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = noteForm.elements;
    if (noteForm.dataset.kind === "sms") {
      act("/board/sms", { number: f.number.value, text: f.text.value });
    } else {
      act("/board/postit", { to: f.to.value, text: f.text.value });
    }
    note.close();
  });
  $("board-note-cancel").addEventListener("click", () => note.close());

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    const board = $("board");
    if (b && board.contains(b)) {
      const d = b.dataset;
      switch (d.act) {
        case "hangup": act(callUrl(d.call, "hangup"), { extension: d.ext }); break;
        case "record": act(callUrl(d.call, "record"), { extension: d.ext, action: "start" }); break;
        case "unrecord": act(callUrl(d.call, "record"), { extension: d.ext, action: "stop" }); break;
        case "listen": act("/board/extensions/" + enc(d.ext) + "/spy", { mode: "listen" }); break;
        case "whisper": act("/board/extensions/" + enc(d.ext) + "/spy", { mode: "whisper" }); break;
        case "take": act(callUrl(d.call, "transfer"), { extension: d.ext, destination: me }); break;
        case "pickup": act("/board/parking/" + enc(d.slot) + "/pickup", {}); break;
        case "dial": if (!moving) act("/board/extensions/" + enc(d.ext) + "/call", {}); break;
        case "move": startMoving({ id: d.call, ext: d.ext }); break;
        case "postit": openNote("postit", d.to, d.who); break;
        case "sms": openNote("sms", d.to, d.who); break;
      }
      if (d.act !== "dial" || !moving) return;
    }
    if (moving) {
      const target = ev.target.closest("li.ext, li.slot");
      if (target && board.contains(target)) {
        const call = moving;
        stopMoving();
        moveTo(call, target);
      }
    }
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && moving) {
      stopMoving();
      return;
    }
    if ((ev.key === "Enter" || ev.key === " ") && moving) {
      const target = ev.target.closest && ev.target.closest("li.ext, li.slot");
      if (target) {
        ev.preventDefault();
        const call = moving;
        stopMoving();
        moveTo(call, target);
      }
    }
  });
  $("board-move-cancel").addEventListener("click", stopMoving);

  // -- drag and drop -------------------------------------------------------------------------

  document.addEventListener("dragstart", (ev) => {
    const item = ev.target.closest && ev.target.closest("li.call[data-call]");
    if (!item) return;
    const call = { id: item.dataset.call, ext: item.dataset.ext || "" };
    ev.dataTransfer.setData(CALL_TYPE, JSON.stringify(call));
    ev.dataTransfer.setData("text/plain", item.textContent);
    ev.dataTransfer.effectAllowed = "move";
    document.body.classList.add("board-dragging");
  });
  document.addEventListener("dragend", () => {
    document.body.classList.remove("board-dragging");
    for (const el of document.querySelectorAll(".drop-here")) el.classList.remove("drop-here");
  });

  function dropTarget(ev) {
    if (!ev.dataTransfer || !Array.from(ev.dataTransfer.types).includes(CALL_TYPE)) return null;
    return ev.target.closest && ev.target.closest("li.ext, li.slot");
  }

  document.addEventListener("dragover", (ev) => {
    const target = dropTarget(ev);
    if (!target) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    target.classList.add("drop-here");
  });
  document.addEventListener("dragleave", (ev) => {
    const target = dropTarget(ev);
    if (target && !target.contains(ev.relatedTarget)) target.classList.remove("drop-here");
  });
  document.addEventListener("drop", (ev) => {
    const target = dropTarget(ev);
    if (!target) return;
    ev.preventDefault();
    target.classList.remove("drop-here");
    let call;
    try {
      call = JSON.parse(ev.dataTransfer.getData(CALL_TYPE));
    } catch (err) {
      return;
    }
    moveTo(call, target);
  });

  // -- the filter ----------------------------------------------------------------------------

  let filterScheduled = false;
  filterBox.addEventListener("input", () => {
    if (filterScheduled) return;
    filterScheduled = true;
    requestAnimationFrame(() => {
      filterScheduled = false;
      filterText = filterBox.value.trim().toLowerCase();
      let shown = 0;
      for (const entry of exts.values()) {
        const show = matches(entry);
        if (entry.el.hidden === show) entry.el.hidden = !show;
        if (show) shown += 1;
      }
      $("board-count").textContent = filterText ? shown + " / " + exts.size : String(exts.size);
    });
  });

  // -- start -----------------------------------------------------------------------------------

  apply([first]);
  stats.complete = true;
  stats.readyMs = performance.now(); // since the navigation started
  document.body.dataset.boardReady = "1";
  if (window.ctibot && typeof window.ctibot.on === "function") {
    window.ctibot.on("board", receive);
  }
})();
