// The top bar's voicemail badge: how many new messages, live on every page.
(function () {
  "use strict";
  function start() {
    const badge = document.querySelector(".vm-badge");
    if (!badge || !window.ctibot) return;
    window.ctibot.on("voicemail", (data) => {
      const count = (data && data.new) || 0;
      badge.querySelector(".vm-badge-count").textContent = String(count);
      badge.hidden = count === 0;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
