/* cookieguard: enhances the consent banner, the dialog and embeds; everything also works
   without it. Saves choices with a JSON POST (no reload), activates content gated by
   category, loads an embed in place once its service is granted, keeps a category and
   its services' checkboxes in step, and manages the dialog's focus. No dependencies,
   no inline code needed. */
(function () {
  "use strict";
  var root = document.getElementById("cookieguard");
  var embeds = document.querySelectorAll("[data-cookieguard-embed]");
  if (!root) {
    // A page with embeds but without the banner: the embeds' buttons still load in place.
    Array.prototype.forEach.call(embeds, function (embed) {
      var form = embed.querySelector("form[data-cookieguard-embed-form]");
      if (form) form.addEventListener("submit", grant);
    });
    return;
  }
  root.classList.add("cookieguard-js");
  var dialog = document.getElementById("cookieguard-preferences");
  var endpoint = root.getAttribute("data-cookieguard-endpoint");
  var allowed = words(root.getAttribute("data-cookieguard-allowed"));
  // The services allowed now (by their category, or granted one by one).
  var services = words(root.getAttribute("data-cookieguard-allowed-services"));
  var opener = null;
  var lastClicked = null;
  var byPointer = false; // was the last choice made with a mouse or a finger?

  function words(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  function allows(categories) {
    return words(categories).every(function (name) { return allowed.indexOf(name) !== -1; });
  }

  function allowsService(name) {
    return services.indexOf(name) !== -1;
  }

  // <script type="text/plain" data-cookieguard-category="..."> and <iframe data-src> come alive.
  function activate() {
    var scripts = document.querySelectorAll('script[type="text/plain"][data-cookieguard-category]');
    Array.prototype.forEach.call(scripts, function (old) {
      if (!allows(old.getAttribute("data-cookieguard-category"))) return;
      var script = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (attr) {
        if (attr.name !== "type") script.setAttribute(attr.name, attr.value);
      });
      var type = old.getAttribute("data-cookieguard-type");
      if (type) script.type = type;
      if (old.nonce) script.nonce = old.nonce;
      script.async = false; // keep the page's order
      script.text = old.text;
      old.parentNode.replaceChild(script, old);
    });
    var frames = document.querySelectorAll("[data-src][data-cookieguard-category]");
    Array.prototype.forEach.call(frames, function (frame) {
      if (!allows(frame.getAttribute("data-cookieguard-category"))) return;
      frame.setAttribute("src", frame.getAttribute("data-src"));
      frame.removeAttribute("data-src");
    });
    var placeholders = document.querySelectorAll("[data-cookieguard-placeholder]");
    Array.prototype.forEach.call(placeholders, function (element) {
      element.hidden = allows(element.getAttribute("data-cookieguard-placeholder"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-cookieguard-embed]"), function (embed) {
      if (allowsService(embed.getAttribute("data-cookieguard-embed"))) loadEmbed(embed);
    });
  }

  function updateConsentMode() {
    var tag = document.querySelector("script[data-cookieguard-consent-mode]");
    if (!tag || typeof window.gtag !== "function") return;
    var config = JSON.parse(tag.getAttribute("data-cookieguard-consent-mode"));
    var state = {};
    Object.keys(config.default).forEach(function (type) {
      var needed = config.requires[type]; // absent: no category grants this type
      state[type] = needed && needed.every(function (c) { return allowed.indexOf(c) !== -1; })
        ? "granted" : "denied";
    });
    window.gtag("consent", "update", state);
  }

  function focusables() {
    return Array.prototype.filter.call(
      dialog.querySelectorAll("a[href], button, input:not([disabled]), summary, [tabindex='0']"),
      function (element) { return element.offsetParent !== null; }
    );
  }

  function openDialog(event) {
    if (event) event.preventDefault();
    opener = document.activeElement;
    dialog.hidden = false;
    var first = dialog.querySelector('input:not([disabled]):not([type="hidden"]), button');
    (first || dialog).focus();
  }

  // Drop ?cookieguard=preferences and #cookieguard-preferences from the address, so that
  // a reload or a bookmark does not open the dialog again.
  function forgetOpening() {
    var params = new URLSearchParams(location.search);
    if (!params.has("cookieguard") && location.hash !== "#" + dialog.id) return;
    params.delete("cookieguard");
    var query = params.toString();
    history.replaceState(history.state, "", location.pathname + (query ? "?" + query : ""));
  }

  function closeDialog(event) {
    if (event) event.preventDefault();
    if (dialog.hidden) return;
    var hadFocus = dialog.contains(document.activeElement);
    dialog.hidden = true;
    forgetOpening();
    var back = opener && document.contains(opener) ? opener : null;
    opener = null;
    if (back) back.focus();
    else if (hadFocus) focusAfterBanner(); // opened from the banner, which is gone now
  }

  function announce() {
    var status = root.querySelector("[data-cookieguard-status]");
    if (status) status.textContent = status.getAttribute("data-cookieguard-saved");
  }

  // Where focus goes when the banner it was in disappears: the preferences link the
  // banner told the visitor about (the last one: the footer's), else the banner's place.
  function focusAfterBanner() {
    var links = document.querySelectorAll(".cookieguard-preferences-link");
    var target = links.length ? links[links.length - 1] : root;
    if (target === root) root.setAttribute("tabindex", "-1");
    // A keyboard user is taken to it; a pointer user's page does not jump.
    target.focus({ preventScroll: byPointer });
  }

  function applied(state) {
    var now = state.allowed_services || [];
    var withdrawn = allowed.some(function (name) { return state.allowed.indexOf(name) === -1; }) ||
      services.some(function (name) { return now.indexOf(name) === -1; });
    allowed = state.allowed;
    services = now;
    root.setAttribute("data-cookieguard-allowed", allowed.join(" "));
    root.setAttribute("data-cookieguard-allowed-services", services.join(" "));
    var banner = document.getElementById("cookieguard-banner");
    var focusWasInBanner = banner && banner.contains(document.activeElement);
    if (banner) banner.parentNode.removeChild(banner);
    if (focusWasInBanner) focusAfterBanner();
    var boxes = dialog.querySelectorAll('input[name="categories"]');
    Array.prototype.forEach.call(boxes, function (box) {
      box.checked = box.disabled || allowed.indexOf(box.value) !== -1;
    });
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-cookieguard-service]"), function (box) {
      box.checked = box.disabled || allowsService(box.value);
    });
    Array.prototype.forEach.call(boxes, showMixed);
    var id = dialog.querySelector("[data-cookieguard-consent-id]");
    if (id) id.textContent = state.consent_id || "";
    var row = dialog.querySelector("[data-cookieguard-consent-id-row]");
    if (row) row.hidden = !state.consent_id;
    document.dispatchEvent(new CustomEvent("cookieguard:consent", { detail: state }));
    if (withdrawn) {
      // Gated content already on the page cannot be unloaded: show the page as it is now.
      forgetOpening();
      location.reload();
      return;
    }
    closeDialog();
    announce();
    updateConsentMode();
    activate();
  }

  function submit(event) {
    var form = event.target;
    var button = event.submitter || lastClicked; // older browsers lack submitter
    var action = button && button.name === "action" ? button.value : "save";
    var categories = Array.prototype.map.call(
      form.querySelectorAll('input[name="categories"]:checked'),
      function (box) { return box.value; }
    );
    // A checked category already allows its services: listing them too would record
    // one-by-one grants the visitor did not make (which Sec-GPC would then not undo).
    var chosen = Array.prototype.filter.call(
      form.querySelectorAll("input[data-cookieguard-service]:checked:not([disabled])"),
      function (box) { return categories.indexOf(box.getAttribute("data-cookieguard-service-category")) === -1; }
    ).map(function (box) { return box.value; });
    if (!window.fetch) return; // the plain form post does the job
    event.preventDefault();
    var body = { action: action, categories: categories };
    if (action === "save") body.services = chosen;
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) throw new Error("consent refused: " + response.status);
      return response.json();
    }).then(applied, function () {
      // Fall back to the plain form post, which the server answers with a redirect.
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "action";
      field.value = action;
      form.appendChild(field);
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  // -- a category and its services, in step --------------------------------------
  // The category's box means the whole category: checking it checks its services,
  // unchecking it unchecks them. Unchecking one service unchecks the category (which
  // would allow it) and keeps the others checked: they are then granted one by one.
  // Checking services never checks the category, which covers more than its services
  // (its cookies without a service, and what the site gates on the category); it shows
  // as mixed while some of its services are on.
  function servicesOf(box) {
    return dialog.querySelectorAll('[data-cookieguard-service-category="' + box.value + '"]');
  }

  function showMixed(box) {
    var on = Array.prototype.filter.call(servicesOf(box), function (s) { return s.checked; });
    box.indeterminate = !box.checked && on.length > 0;
  }

  function categoryBox(name) {
    var boxes = dialog.querySelectorAll('input[name="categories"]');
    return Array.prototype.filter.call(boxes, function (box) { return box.value === name; })[0];
  }

  dialog.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name === "categories") {
      Array.prototype.forEach.call(servicesOf(box), function (service) {
        if (!service.disabled) service.checked = box.checked;
      });
      showMixed(box);
    } else if (box.hasAttribute("data-cookieguard-service")) {
      var category = categoryBox(box.getAttribute("data-cookieguard-service-category"));
      if (!category || category.disabled) return;
      if (!box.checked) category.checked = false;
      showMixed(category);
    }
  });

  // Without JavaScript a service its category allows is disabled (see banner.html);
  // the change listener above keeps the boxes consistent now.
  Array.prototype.forEach.call(dialog.querySelectorAll("[data-cookieguard-included]"), function (box) {
    box.disabled = false;
  });
  Array.prototype.forEach.call(dialog.querySelectorAll('input[name="categories"]'), showMixed);

  Array.prototype.forEach.call(root.querySelectorAll("form[data-cookieguard-form]"), function (form) {
    form.addEventListener("submit", submit);
  });
  Array.prototype.forEach.call(embeds, function (embed) {
    var form = embed.querySelector("form[data-cookieguard-embed-form]");
    if (form) form.addEventListener("submit", function (event) { grant(event, applied); });
  });
  document.addEventListener("pointerdown", function () { byPointer = true; });
  document.addEventListener("keydown", function () { byPointer = false; });
  document.addEventListener("click", function (event) {
    lastClicked = event.target.closest && event.target.closest("[data-cookieguard-action]");
    var target = event.target.closest && event.target.closest("[data-cookieguard-open], [data-cookieguard-close]");
    if (!target) return;
    if (target.hasAttribute("data-cookieguard-open")) openDialog(event);
    else closeDialog(event);
  });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeDialog(event);
    } else if (event.key === "Tab") { // keep focus inside the modal dialog
      var items = focusables();
      if (!items.length) return;
      var first = items[0];
      var last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) closeDialog(event); // a click on the backdrop
  });
  if (!dialog.hidden || location.hash === "#" + dialog.id) openDialog();
  activate();
  // -- embeds, with or without the banner on the page -------------------------------
  // Without JavaScript the placeholder's form posts and comes back at the embed's anchor.
  // The iframe the server rendered into the embed's <template> replaces its placeholder:
  // the service's, or under an enforced Content-Security-Policy (which the page keeps
  // until it loads again) that of the frame page, whose own policy allows the service.
  function loadEmbed(embed) {
    if (embed.hasAttribute("data-cookieguard-embed-loaded")) return null;
    var template = embed.querySelector("template[data-cookieguard-embed-frame]");
    var placeholder = embed.querySelector(".cookieguard-embed-placeholder");
    if (!template) return null;
    var frame = template.content.firstElementChild.cloneNode(true);
    embed.appendChild(frame);
    if (placeholder) placeholder.parentNode.removeChild(placeholder);
    template.parentNode.removeChild(template);
    embed.setAttribute("data-cookieguard-embed-loaded", "");
    return frame;
  }

  // "Load video": grant the one service with a JSON POST, then load every embed of it.
  function grant(event, then) {
    var form = event.target;
    if (!window.fetch) return; // the plain form post does the job (303 back to the anchor)
    event.preventDefault();
    var embed = form.closest("[data-cookieguard-embed]");
    var name = embed.getAttribute("data-cookieguard-embed");
    var focusHere = embed.contains(document.activeElement);
    fetch(form.getAttribute("action"), { // form.action would be its "action" field
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ action: "grant", service: name })
    }).then(function (response) {
      if (!response.ok) throw new Error("consent refused: " + response.status);
      return response.json();
    }).then(function (state) {
      var mine = null;
      Array.prototype.forEach.call(document.querySelectorAll("[data-cookieguard-embed]"), function (other) {
        if (other.getAttribute("data-cookieguard-embed") !== name) return;
        var frame = loadEmbed(other);
        if (other === embed) mine = frame;
      });
      // The button is gone: the keyboard's place is the iframe that took its place.
      if (mine && focusHere) mine.focus({ preventScroll: true });
      if (then) then(state);
    }, function () {
      HTMLFormElement.prototype.submit.call(form); // the server answers with a redirect
    });
  }
})();
