// The calls plugin's top bar: the dial box (Enter dials; text lists matching users) and the
// call box (the other party, a ticking duration, hang up / transfer / park / record, F26 URL).
// Caller IDs are hostile: everything goes in with textContent, URLs are encoded.
(function () {
  "use strict";
  var box = document.getElementById("callbox");
  var form = document.getElementById("dialbox");
  if (!box || !form) return;
  var input = document.getElementById("dial-input");
  var list = document.getElementById("dial-matches");
  var tpl = document.getElementById("callbox-item");
  var holder = box.querySelector(".callbox-list");
  var calls = [];
  var urlTemplate = "";
  var timer = null;
  var DIALABLE = /^\+?[0-9*#]{1,32}$/;

  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function fillUrl(template, call) {
    if (!template) return "";
    var url = template
      .split("$CALLER_NUMBER").join(encodeURIComponent(call.party || ""))
      .split("$CALLER_NAME").join(encodeURIComponent(call.party_name || ""))
      .split("$CALLED").join(encodeURIComponent(call.called || ""));
    return /^https?:\/\//i.test(url) ? url : "";
  }

  function tick() {
    var now = Date.now();
    box.querySelectorAll(".call").forEach(function (el) {
      var t = el.querySelector(".call-time");
      t.textContent = fmt((now - Number(el.dataset.t0)) / 1000);
    });
  }

  function act(url, data) {
    return window.ctibot.post(url, data || {});
  }

  function render() {
    holder.textContent = "";
    var now = Date.now();
    calls.forEach(function (call) {
      var el = tpl.content.firstElementChild.cloneNode(true);
      el.dataset.callId = call.call_id;
      el.dataset.t0 = String(now - call.elapsed * 1000);
      el.classList.add(call.state);
      if (call.answered) el.classList.add("answered");
      el.querySelector(".call-party").textContent = call.label;
      el.querySelector(".call-state").textContent = box.dataset["t" + call.state.charAt(0).toUpperCase() + call.state.slice(1)] || call.state;
      var rec = el.querySelector(".call-rec");
      rec.textContent = call.recording ? (call.recording_paused ? box.dataset.tPaused : box.dataset.tRecording) : "";
      var link = el.querySelector(".call-url");
      var url = fillUrl(urlTemplate, call);
      if (url) { link.href = url; link.hidden = false; }
      var b;
      if ((b = el.querySelector(".act-hangup"))) b.onclick = function () { act("/calls/hangup"); };
      if ((b = el.querySelector(".act-park"))) b.onclick = function () { act("/calls/park"); };
      if ((b = el.querySelector(".act-record"))) {
        b.onclick = function () { act("/calls/record", { action: call.recording ? "stop" : "start" }); };
        if (call.recording) b.textContent = b.textContent + " \u25a0";
      }
      if ((b = el.querySelector(".act-pause"))) {
        b.hidden = !call.recording;
        b.onclick = function () { act("/calls/record", { action: call.recording_paused ? "resume" : "pause" }); };
      }
      var tf = el.querySelector(".call-transfer");
      if (tf) tf.onsubmit = function (event) {
        event.preventDefault();
        act("/calls/transfer", { destination: tf.elements.destination.value });
      };
      holder.appendChild(el);
    });
    box.hidden = calls.length === 0;
    if (calls.length && !timer) timer = setInterval(tick, 1000);
    if (!calls.length && timer) { clearInterval(timer); timer = null; }
    tick();
  }

  window.ctibot.on("calls.me", function (data) {
    calls = (data && data.calls) || [];
    urlTemplate = (data && data.url) || "";
    render();
    box.dataset.live = "1";
  });

  // -- the dial box ------------------------------------------------------------------------
  var selected = -1, matches = [], seq = 0;

  function showMatches(users) {
    matches = users; selected = -1;
    list.textContent = "";
    users.forEach(function (u, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.textContent = u.label;
      li.onmousedown = function (e) { e.preventDefault(); dial(u.extension); };
      list.appendChild(li);
    });
    list.hidden = users.length === 0;
  }

  function dial(destination) {
    showMatches([]);
    input.value = "";
    act("/calls/dial", { destination: destination });
  }

  input.addEventListener("input", function () {
    var text = input.value.trim();
    if (!text || DIALABLE.test(text.replace(/[\s().-]/g, ""))) { showMatches([]); return; }
    var mine = ++seq;
    fetch("/api/calls/search?q=" + encodeURIComponent(text), { credentials: "same-origin",
      headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { users: [] }; })
      .then(function (j) { if (mine === seq) showMatches(j.users || []); })
      .catch(function () {});
  });
  input.addEventListener("keydown", function (e) {
    var items = list.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!items.length) return;
      e.preventDefault();
      selected = (selected + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === selected ? "true" : "false"); });
    } else if (e.key === "Escape") {
      showMatches([]);
    }
  });
  input.addEventListener("blur", function () { setTimeout(function () { showMatches([]); }, 150); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (selected >= 0 && matches[selected]) { dial(matches[selected].extension); return; }
    var text = input.value.trim();
    if (!text) return;
    if (matches.length === 1) { dial(matches[0].extension); return; }
    dial(text);
  });
})();
