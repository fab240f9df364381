// The top bar's post-it badge: how many unread post-its, live on every page.
(function () {
  "use strict";
  function start() {
    const badge = document.querySelector(".pi-badge");
    if (!badge || !window.ctibot) return;
    window.ctibot.on("postit", (data) => {
      const count = (data && data.unread) || 0;
      badge.querySelector(".pi-badge-count").textContent = String(count);
      badge.hidden = count === 0;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
