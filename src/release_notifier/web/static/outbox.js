// The demo outbox: size the email's frame to the email, so the page scrolls and the frame never does.
(function () {
  "use strict";
  var frame = document.querySelector("iframe.email");
  if (!frame) {
    return;
  }
  function fit() {
    var page = frame.contentDocument && frame.contentDocument.documentElement;
    if (!page) {
      return;
    }
    frame.style.height = "0";  // measure the email, not the frame it was given
    frame.style.height = page.scrollHeight + "px";
  }
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  fit();
})();
