/* cookieguard: Google Consent Mode v2 defaults, computed by the server for this visitor.
   Load it before Google's tag, without async or defer; it reads its own data attribute. */
(function () {
  "use strict";
  var tag = document.currentScript;
  var config = tag && tag.getAttribute("data-cookieguard-consent-mode");
  if (!config) return;
  window.dataLayer = window.dataLayer || [];
  window.gtag = window.gtag || function () { window.dataLayer.push(arguments); };
  window.gtag("consent", "default", JSON.parse(config).default);
})();
