// The post-its page: my post-its and the ones I left, live; texts are shown as text.
(function () {
  "use strict";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function action(id, what, label, cls) {
    const f = el("form");
    f.method = "post";
    f.action = "/postits/" + encodeURIComponent(id) + "/" + what;
    const token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = window.ctibot ? window.ctibot.csrf() : "";
    const b = el("button", cls, label);
    b.type = "submit";
    f.append(token, b);
    return f;
  }

  function row(p, sent, d) {
    const li = el("li", "pi-item" + (p.unread ? " pi-unread" : ""));
    li.dataset.id = p.id;
    const meta = el("div", "pi-meta");
    const state = el("span", "pi-state", p.unread ? "●" : "○");
    state.title = p.unread ? d.tUnread : d.tRead;
    meta.append(state, el("span", "pi-who", sent ? p.recipient_name : p.author_name),
      el("time", "pi-when", p.when));
    if (sent) {
      meta.appendChild(el("span", "pi-status", p.unread ? d.tNotRead : d.tReadBy + " " + p.read_when));
    }
    li.appendChild(meta);
    li.appendChild(el("p", "pi-text", p.text));
    const actions = el("div", "pi-actions");
    if (!sent && p.unread) actions.appendChild(action(p.id, "read", d.tMark, "pi-mark"));
    actions.appendChild(action(p.id, "delete", d.tDelete, "pi-delete"));
    li.appendChild(actions);
    return li;
  }

  function fill(list, items, sent, empty, d) {
    list.textContent = "";
    for (const p of items) list.appendChild(row(p, sent, d));
    if (!items.length) list.appendChild(el("li", "pi-empty", empty));
  }

  function render(data) {
    const root = document.querySelector(".pi-page");
    if (!root || !data || !data.postits) return;
    const d = root.dataset;
    fill(root.querySelector(".pi-mine"), data.postits, false, d.tNone, d);
    fill(root.querySelector(".pi-sent"), data.sent, true, d.tNoneSent, d);
    const count = root.querySelector(".pi-count");
    if (count) count.textContent = count.textContent.replace(/\d+/, String(data.unread));
  }

  // Read, delete and write without a reload: the live topic redraws the lists.
  document.addEventListener("submit", (ev) => {
    const f = ev.target.closest(".pi-page form");
    if (!f || !window.ctibot) return;
    ev.preventDefault();
    window.ctibot.post(f.action, new FormData(f)).then((answer) => {
      if (f.classList.contains("pi-write") && answer.status < 400) {
        f.querySelector(".pi-new-text").value = "";
      }
    });
  });

  if (window.ctibot) window.ctibot.on("postit", render);
})();
