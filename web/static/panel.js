// ctibot panel: one websocket per page (topics from <body data-topics>), handlers by topic,
// fetch() posts with the CSRF header, small toasts. No framework, no build step.
(function () {
  "use strict";
  var handlers = {};
  var socket = null;
  var retry = 500;
  var topics = [];

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function dispatch(message) {
    var list = handlers[message.topic] || [];
    for (var i = 0; i < list.length; i++) {
      try { list[i](message.data, message.topic); } catch (e) { console.error(e); }
    }
  }

  function connect() {
    if (!topics.length) return;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(proto + "//" + location.host + "/ws");
    socket.onopen = function () {
      retry = 500;
      document.body.classList.remove("offline");
      socket.send(JSON.stringify({ subscribe: topics }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (Array.isArray(frame)) frame.forEach(dispatch); else dispatch(frame);
    };
    socket.onclose = function (event) {
      socket = null;
      document.body.classList.add("offline");
      if (event.code === 1008 || event.code === 4401) { location.reload(); return; }
      if (retry >= 4000) {
        // Refused again and again: logged out (session ended, ctibot restarted)? Then the
        // page reloads into the login page instead of retrying for ever.
        fetch("/api/me", { credentials: "same-origin" }).then(function (resp) {
          if (resp.status === 401) location.reload();
        }).catch(function () {});
      }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function toast(text, kind) {
    if (!text) return;
    var box = document.getElementById("toasts");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "toast" + (kind ? " " + kind : "");
    div.textContent = text;  // text, never HTML
    box.appendChild(div);
    setTimeout(function () { div.remove(); }, 4000);
  }

  function post(url, data) {
    var body, headers = { "X-CSRF-Token": csrf(), "Accept": "application/json" };
    if (data instanceof FormData || data instanceof URLSearchParams) {
      body = data;
    } else {
      body = JSON.stringify(data || {});
      headers["Content-Type"] = "application/json";
    }
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (json) {
          json = json || {};
          json.status = resp.status;
          toast(json.message, resp.ok && json.ok !== false ? "" : "error");
          return json;
        });
      });
  }

  window.ctibot = {
    on: function (topic, fn) {
      (handlers[topic] = handlers[topic] || []).push(fn);
      if (topics.indexOf(topic) < 0) {
        topics.push(topic);
        if (socket && socket.readyState === 1) socket.send(JSON.stringify({ subscribe: [topic] }));
      }
    },
    post: post,
    toast: toast,
    csrf: csrf,
    text: function (el, value) { el.textContent = value == null ? "" : String(value); }
  };

  document.addEventListener("DOMContentLoaded", function () {
    var named = (document.body.getAttribute("data-topics") || "").split(/\s+/);
    named.forEach(function (t) { if (t && topics.indexOf(t) < 0) topics.push(t); });
    connect();
    // Forms marked data-fetch post through fetch() (no reload) and show the answer as a toast.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute("data-fetch")) return;
      event.preventDefault();
      post(form.action, new FormData(form));
    });
  });
})();
