// The phone plugin's top bar: the DND toggle, the forward menu (live from "phone.me") and the
// queue menu (live from the queues plugin's "queues" topic, its actions). Text only, no HTML.
(function () {
  "use strict";
  var bar = document.getElementById("phonebar");
  if (!bar) return;
  var t = bar.dataset;
  var toggle = document.getElementById("dnd-toggle");
  var dndForm = toggle.form;
  var state = { dnd: false };

  dndForm.addEventListener("submit", function (event) {
    event.preventDefault();
    window.ctibot.post("/phone/dnd", { on: state.dnd ? "0" : "1" });
  });

  var fwForm = document.getElementById("forward-form");
  if (fwForm) fwForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(fwForm);
    window.ctibot.post("/phone/forward", { forward: data.get("forward"), number: data.get("number") || "" })
      .then(function (answer) { if (answer.ok) document.getElementById("forward-menu").open = false; });
  });

  window.ctibot.on("phone.me", function (data) {
    state = data;
    bar.dataset.live = "1";
    toggle.setAttribute("aria-pressed", data.dnd ? "true" : "false");
    toggle.title = data.dnd ? t.tDndOn : t.tDndOff;
    var menu = document.getElementById("forward-menu");
    if (!menu) return;
    var word = { off: t.tOff, voicemail: t.tVoicemail, mobile: t.tMobile, number: t.tNumber }[data.forward] || data.forward;
    if (data.forward === "number" && data.forward_to) word = data.forward_to;
    menu.querySelector(".fw-state").textContent = word;
    menu.classList.toggle("active", data.forward !== "off");
    var radio = fwForm.querySelector('input[value="' + data.forward + '"]');
    if (radio) radio.checked = true;
    fwForm.querySelector(".fw-mobile").hidden = !data.has_mobile;
  });

  var qmenu = document.getElementById("queue-menu");
  if (qmenu) window.ctibot.on("queues", function (data) {
    var panel = document.getElementById("queue-panel");
    var queues = (data && data.queues) || [];
    panel.textContent = "";
    var inCount = 0;
    if (!queues.length) {
      var p = document.createElement("p");
      p.className = "muted"; p.textContent = t.tNoQueues; panel.appendChild(p);
    }
    queues.forEach(function (q) {
      if (q.logged_in) inCount++;
      var row = document.createElement("div");
      row.className = "queue-row";
      var name = document.createElement("span");
      name.textContent = q.name + (q.paused ? " \u23f8" : "");
      row.appendChild(name);
      function button(label, action) {
        var b = document.createElement("button");
        b.type = "button"; b.textContent = label;
        b.onclick = function () { window.ctibot.post("/queues/" + encodeURIComponent(q.name) + "/" + action, {}); };
        row.appendChild(b);
      }
      if (!q.logged_in) button(t.tLogin, "login");
      else {
        if (!q.static) button(t.tLogout, "logout");
        button(q.paused ? t.tResume : t.tPause, q.paused ? "resume" : "pause");
      }
      panel.appendChild(row);
    });
    qmenu.querySelector(".q-state").textContent = queues.length ? "(" + inCount + "/" + queues.length + ")" : "";
  });
})();
