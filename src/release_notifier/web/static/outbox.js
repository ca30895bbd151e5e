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
  // The frame's width can change after the email is in (the page's scroll bar comes or goes): the email
  // then wraps differently, so measure it again. Only width changes: fit() itself sets the height.
  var width = frame.clientWidth;
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (frame.clientWidth !== width) {
        width = frame.clientWidth;
        fit();
      }
    }).observe(frame);
  }
  fit();
})();
