// The users page, live: each row's state from the "info.users" topic (text only).
(function () {
  "use strict";
  var table = document.getElementById("users");
  document.querySelectorAll("#recent td.when[data-start]").forEach(function (td) {
    var s = Number(td.dataset.start);
    if (s) td.textContent = new Date(s * 1000).toLocaleString(document.documentElement.lang);
  });
  if (!table) return;
  var d = table.dataset;
  function key(prefix, word) { return d[prefix + word.charAt(0).toUpperCase() + word.slice(1)] || word; }
  window.ctibot.on("info.users", function (data) {
    (data.users || []).forEach(function (u) {
      var row = table.querySelector('tr[data-name="' + CSS.escape(u.name) + '"]');
      if (!row) return;
      row.className = "ph-" + u.phone + " pr-" + u.presence;
      row.querySelector(".u-phone").textContent = key("phone", u.phone);
      row.querySelector(".u-presence").textContent = u.presence === "online" ? "" : "· " + key("presence", u.presence);
      row.querySelector(".u-talk").textContent = u.talking_with ? "· " + u.talking_with : "";
    });
  });
})();
