// The off-hour page: show the date fields only for "between", the target only when needed;
// follow the live "offhour" topic (rules and announcements changed elsewhere), as text only.
(function () {
  "use strict";
  function tidy(form) {
    var mode = form.querySelector(".oh-mode");
    var action = form.querySelector(".oh-action");
    form.classList.toggle("oh-hide-when", mode.value !== "between");
    form.classList.toggle("oh-hide-target", action.value === "hangup");
  }
  document.querySelectorAll("form.oh-route").forEach(function (form) {
    tidy(form);
    form.addEventListener("change", function () { tidy(form); });
    // Edited here and not saved yet: a change made elsewhere does not overwrite the fields.
    form.addEventListener("input", function () { form.dataset.dirty = "1"; });
    form.addEventListener("change", function () { form.dataset.dirty = "1"; });
  });

  function page() { return document.querySelector(".oh-page"); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }
  function csrfInput() {
    var input = el("input");
    input.type = "hidden";
    input.name = "csrf_token";
    input.value = window.ctibot ? window.ctibot.csrf() : "";
    return input;
  }
  function setSelect(select, value) {
    value = value == null ? "" : String(value);
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    if (!found) {
      var option = el("option", null, value);
      option.value = value;
      select.appendChild(option);
    }
    select.value = value;
  }

  function announcementOptions(select, list, chosen) {
    var root = page();
    select.textContent = "";
    var none = el("option", null, root.dataset.tNoAnnouncement);
    none.value = "";
    select.appendChild(none);
    list.forEach(function (a) {
      if (a.state !== "ready") return;
      var option = el("option", null, a.description + " (" + a.author_name + ")");
      option.value = String(a.id);
      select.appendChild(option);
    });
    setSelect(select, chosen == null ? "" : chosen);
  }

  function renderRoute(r, announcements) {
    var root = page();
    var form = root.querySelector('form.oh-route[data-did="' + CSS.escape(r.did) + '"]');
    if (!form) return;
    var state = form.querySelector(".oh-state");
    state.textContent = r.active ? root.dataset.tActive : root.dataset.tInactive;
    state.classList.toggle("oh-on", r.active);
    state.classList.toggle("oh-off", !r.active);
    if (form.dataset.dirty === "1") return;
    setSelect(form.elements.mode, r.mode);
    form.elements.start.value = r.start_local || "";
    form.elements.end.value = r.end_local || "";
    if (r.start_local) setSelect(form.elements.timezone, r.timezone);
    announcementOptions(form.elements.announcement, announcements, r.announcement);
    setSelect(form.elements.action, r.action);
    form.elements.target.value = r.target || "";
    tidy(form);
  }

  function signature(a) {
    return [a.id, a.author, a.description, a.public ? 1 : 0, a.state].join("|");
  }

  function announcementRow(a) {
    var root = page();
    var tr = el("tr", "oh-announcement");
    tr.dataset.id = String(a.id);
    tr.dataset.sig = signature(a);
    if (a.mine) {
      var td = el("td");
      td.colSpan = 3;
      var form = el("form", "oh-edit");
      form.method = "post";
      form.action = "/offhour/announcements/" + a.id + "/edit";
      var text = el("input");
      text.type = "text";
      text.name = "description";
      text.maxLength = 200;
      text.value = a.description;
      text.setAttribute("aria-label", root.dataset.tDescription);
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.name = "public";
      box.value = "1";
      box.checked = !!a.public;
      label.append(box, " " + root.dataset.tPublic);
      var save = el("button", null, root.dataset.tSave);
      save.type = "submit";
      form.append(csrfInput(), text, el("span", "oh-author", a.author_name), label, save);
      td.appendChild(form);
      tr.appendChild(td);
    } else {
      tr.append(
        el("td", "oh-description", a.description),
        el("td", "oh-author", a.author_name),
        el("td", null, a.public ? root.dataset.tPublic : root.dataset.tPrivate)
      );
    }
    var listen = el("td");
    if (a.state === "ready") {
      var audio = el("audio");
      audio.controls = true;
      audio.preload = "metadata";
      audio.src = "/api/offhour/announcements/" + a.id + "/audio";
      listen.appendChild(audio);
    } else {
      listen.appendChild(el("span", "oh-recording", root.dataset.tRecording));
    }
    tr.appendChild(listen);
    var last = el("td");
    if (a.mine) {
      var del = el("form");
      del.method = "post";
      del.action = "/offhour/announcements/" + a.id + "/delete";
      var button = el("button", "oh-delete", root.dataset.tDelete);
      button.type = "submit";
      del.append(csrfInput(), button);
      last.appendChild(del);
    }
    tr.appendChild(last);
    return tr;
  }

  var waiting = null;  // announcements that came while the user was typing in the table

  function renderAnnouncements(list) {
    var tbody = page().querySelector(".oh-announcements tbody");
    if (tbody.contains(document.activeElement)) { waiting = list; return; }
    waiting = null;
    var old = {};
    tbody.querySelectorAll("tr.oh-announcement").forEach(function (tr) { old[tr.dataset.id] = tr; });
    var rows = list.map(function (a) {
      var kept = old[String(a.id)];
      // Unchanged rows stay as they are (an announcement being listened to keeps playing).
      return kept && kept.dataset.sig === signature(a) ? kept : announcementRow(a);
    });
    tbody.textContent = "";
    if (!rows.length) {
      var tr = el("tr", "oh-none");
      var td = el("td", null, page().dataset.tNone);
      td.colSpan = 5;
      tr.appendChild(td);
      rows.push(tr);
    }
    rows.forEach(function (tr) { tbody.appendChild(tr); });
  }

  function render(data) {
    if (!page()) return;
    (data.routes || []).forEach(function (r) { renderRoute(r, data.announcements || []); });
    renderAnnouncements(data.announcements || []);
  }

  document.addEventListener("focusout", function () {
    setTimeout(function () {
      var root = page();
      if (waiting && root && !root.querySelector(".oh-announcements tbody").contains(document.activeElement)) {
        renderAnnouncements(waiting);
      }
    }, 0);
  });
  if (window.ctibot && window.ctibot.on) window.ctibot.on("offhour", render);
})();
