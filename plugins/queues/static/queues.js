// The queues page: live agents and waiting callers (ticking wait), login/pause without reload.
(function () {
  "use strict";
  let received = Date.now();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function form(queue, what, label, withReason, root) {
    const f = el("form");
    f.method = "post";
    f.action = "/queues/" + encodeURIComponent(queue) + "/" + what;
    f.className = "q-" + what + "-form";
    if (withReason) {
      const input = el("input", "q-reason");
      input.name = "reason";
      input.maxLength = 80;
      input.placeholder = root.dataset.tReason;
      f.appendChild(input);
    }
    const b = el("button", "q-" + what, label);
    b.type = "submit";
    f.appendChild(b);
    return f;
  }

  function card(q, root) {
    const d = root.dataset;
    const art = el("article", "q-card");
    art.dataset.queue = q.name;
    const head = el("header");
    head.appendChild(el("h2", "", q.name));
    const dl = el("dl", "q-counts");
    for (const [label, cls, value] of [[d.tWaiting, "q-waiting", q.waiting],
      [d.tAnswered, "q-answered", q.answered], [d.tAbandoned, "q-abandoned", q.abandoned]]) {
      const div = el("div");
      div.append(el("dt", "", label), el("dd", cls + (cls === "q-waiting" && value ? " q-busy" : ""),
        value));
      dl.appendChild(div);
    }
    head.appendChild(dl);
    art.appendChild(head);
    const mine = el("div", "q-mine");
    if (q.static) mine.appendChild(el("span", "q-static", d.tStatic));
    else if (q.logged_in) mine.appendChild(form(q.name, "logout", d.tLogout, false, root));
    else mine.appendChild(form(q.name, "login", d.tLogin, false, root));
    if (q.logged_in) {
      if (q.paused) mine.appendChild(form(q.name, "resume", d.tResume, false, root));
      else mine.appendChild(form(q.name, "pause", d.tPause, true, root));
    }
    art.appendChild(mine);
    const cols = el("div", "q-columns");
    const left = el("div");
    left.appendChild(el("h3", "", d.tAgents));
    const agents = el("ul", "q-agents");
    for (const a of q.agents) {
      const li = el("li", "q-agent q-st-" + a.status + (a.paused ? " q-is-paused" : "") +
        (a.me ? " q-is-me" : ""));
      let state = d["tStatus" + a.status.charAt(0).toUpperCase() + a.status.slice(1)] || a.status;
      if (a.paused) state += " · " + d.tPaused + (a.reason ? " (" + a.reason + ")" : "");
      li.append(el("span", "q-dot"), el("span", "q-agent-name", a.name),
        el("span", "q-agent-state", state));
      agents.appendChild(li);
    }
    if (!q.agents.length) agents.appendChild(el("li", "q-empty", d.tNoagent));
    left.appendChild(agents);
    const right = el("div");
    right.appendChild(el("h3", "", d.tWaiting));
    const callers = el("ol", "q-callers");
    for (const c of q.callers) {
      const li = el("li", "q-caller");
      const wait = el("span", "q-wait", clock(c.wait));
      wait.dataset.wait = c.wait;
      li.append(el("span", "q-caller-name", c.caller), wait);
      callers.appendChild(li);
    }
    if (!q.callers.length) callers.appendChild(el("li", "q-empty", d.tNobody));
    right.appendChild(callers);
    cols.append(left, right);
    art.appendChild(cols);
    return art;
  }

  function render(data) {
    const root = document.querySelector(".q-page");
    if (!root || !data || !data.queues) return;
    const list = root.querySelector(".q-list");
    // Keep a reason being typed.
    const typing = document.activeElement && document.activeElement.classList.contains("q-reason")
      ? [document.activeElement.closest(".q-card").dataset.queue, document.activeElement.value]
      : null;
    received = Date.now();
    list.textContent = "";
    for (const q of data.queues) list.appendChild(card(q, root));
    if (typing) {
      const input = list.querySelector('.q-card[data-queue="' + CSS.escape(typing[0]) +
        '"] .q-reason');
      if (input) { input.value = typing[1]; input.focus(); }
    }
  }

  function tick() {
    const gone = (Date.now() - received) / 1000;
    document.querySelectorAll(".q-wait").forEach((w) => {
      w.textContent = clock(Number(w.dataset.wait) + gone);
    });
  }

  document.addEventListener("submit", (ev) => {
    const f = ev.target.closest(".q-card form");
    if (!f || !window.ctibot) return;
    ev.preventDefault();
    const data = {};
    const reason = f.querySelector(".q-reason");
    if (reason && reason.value.trim()) data.reason = reason.value.trim();
    window.ctibot.post(f.action, data);
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector(".q-page")) return;
    if (window.ctibot && window.ctibot.on) window.ctibot.on("queues", render);
    setInterval(tick, 1000);
  });
})();
