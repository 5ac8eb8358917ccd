// Progressive enhancement only: every link and form works without this file.
(function () {
  "use strict";
  var opener = null;
  var pushNext = false;  // the panel being loaded was asked for from outside it (a row): a new history entry
  var restoring = false;  // the panel being loaded is one that Back or Forward came back to

  function panel() {
    return document.getElementById("side-panel");
  }

  // Remember what opened the side panel (a row's link, not the panel's own Manage or History), so closing it can
  // give focus back.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "side-panel") return;
    pushNext = !restoring && !target.contains(event.detail.elt);
    if (pushNext) opener = event.detail.elt;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "side-panel" && !event.detail.successful) pushNext = restoring = false;
  });

  // Where keyboard focus goes when a page (or the side panel) arrives, so a screen reader says what happened:
  // a form's error box, else its first field in error (its label, "invalid" and its error are read out), else a
  // box the page marks for it (data-focus-on-load), else the messages an action left ("Details saved.").
  // A live region that is already there when the page loads is not announced; moving focus to it is.
  function focusable(element) {
    if (!element.hasAttribute("tabindex") && !element.matches("a[href], button, input, select, textarea")) {
      element.setAttribute("tabindex", "-1");
    }
    return element;
  }

  function problemOrNews(root, withMessages) {
    var box = root.querySelector(".form-errors");
    if (box) return focusable(box);
    var failed = root.querySelector(".message-error");
    if (failed) return focusable(failed.closest(".messages") || failed);
    var field = root.querySelector('[aria-invalid="true"]');
    if (field) return field;
    var marked = root.querySelector("[data-focus-on-load]");
    if (marked) return focusable(marked);
    var news = withMessages && root.querySelector(".messages");
    return news ? focusable(news) : null;
  }

  // A field is scrolled into view with its label and error (its .field), not just its box.
  function moveFocus(element) {
    element.focus({ preventScroll: true });
    (element.closest(".field, fieldset") || element).scrollIntoView({ block: "nearest" });
  }

  // A full page: only when nothing has focus yet (an autofocus field keeps it) and the address does not point
  // somewhere in the page (#row-3) for anything but errors.
  (function () {
    var layout = document.querySelector(".layout");
    if (!layout || (document.activeElement && document.activeElement !== document.body)) return;
    var target = problemOrNews(layout, !location.hash);
    if (target && (!location.hash || target.matches('.form-errors, .messages, [aria-invalid="true"]'))) {
      moveFocus(target);
    }
  })();

  // After htmx fills the side panel, move keyboard focus into it: to its errors or its message as above, else
  // to its heading (the client's name is read out, not just "Details, complementary").
  // The address follows the panel (its data-panel-url, which keeps the list's search, sort, filters and page): a
  // panel opened from a row is a new history entry, its own Manage, History or Save replace that entry.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "side-panel") return;
    var heading = target.querySelector("h2, h1");
    var into = problemOrNews(target, true) || (heading && focusable(heading)) || target;
    moveFocus(into);
    var shown = target.querySelector("[data-panel-url]");
    if (shown) {
      var url = shown.getAttribute("data-panel-url");
      if (pushNext) history.pushState({ partnerdeskPanel: true }, "", url);
      else history.replaceState({ partnerdeskPanel: true }, "", url);
    }
    pushNext = restoring = false;
  });

  // The row link of the panel's client (matched on its path: the list's query is the same for every row).
  function rowLink(aside) {
    var shown = aside.querySelector("[data-panel-url]");
    if (!shown) return null;
    var path = new URL(shown.getAttribute("data-panel-url"), location.href).pathname;
    var links = document.querySelectorAll("main a[hx-get]");
    for (var i = 0; i < links.length; i++) {
      if (new URL(links[i].getAttribute("hx-get"), location.href).pathname === path) return links[i];
    }
    return null;
  }

  // Empty the panel in place: the list beside it is the list of the address the panel's Close link leads to (its
  // query is the list's), so nothing needs loading. ``href``: that address, a new history entry; none when Back
  // or Forward came to it.
  function closePanel(href) {
    var aside = panel();
    if (!aside || !aside.firstElementChild) return false;
    // A panel that came with the page (a link from an email, a reload) or that Back brought back has no opener: its
    // row's link, when the list shows it, takes the focus back instead.
    var back = opener && document.body.contains(opener) ? opener : rowLink(aside) || document.getElementById("main");
    aside.innerHTML = "";
    opener = null;
    if (aside.getAttribute("data-list-title")) document.title = aside.getAttribute("data-list-title");
    if (href) history.pushState({ partnerdeskList: true }, "", href);
    if (back) back.focus();
    return true;
  }

  // "Close" empties the panel in place (no reload) and returns focus to the row link that opened it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#side-panel .panel-close");
    if (link && closePanel(link.href)) event.preventDefault();
  });

  // Escape closes the panel, unless the person is typing in a field or an open menu (Show/Hide) is what Escape
  // closes first.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    if (document.querySelector("details.menu[open]")) return;
    var link = document.querySelector("#side-panel .panel-close");
    if (link && closePanel(link.href)) event.preventDefault();
  });

  // Back and Forward between a list and its side panels stay on the page: the list is already there, only the
  // panel is closed again or loaded again. The page's own entry is marked as one or the other when it loads.
  (function () {
    var aside = panel();
    if (!aside || !aside.hasAttribute("data-list-title")) return;
    var open = aside.querySelector("[data-panel-url]");
    history.replaceState(open ? { partnerdeskPanel: true } : { partnerdeskList: true }, "", location.href);
  })();
  window.addEventListener("popstate", function (event) {
    var state = event.state;
    if (!state || !panel()) return;
    if (state.partnerdeskList) {
      closePanel(null);
    } else if (state.partnerdeskPanel && window.htmx) {
      restoring = true;
      opener = null;
      window.htmx.ajax("GET", location.pathname + location.search, { target: "#side-panel", swap: "innerHTML" });
    }
  });

  // "Choose the client by selecting its row": a click anywhere on a row (not on its checkbox or a link) opens
  // its side panel, as its name link does. Selecting text to copy it does not.
  document.addEventListener("click", function (event) {
    if (!event.target.closest || event.defaultPrevented) return;
    var row = event.target.closest("tr[data-row-link]");
    if (!row || event.target.closest("a, button, input, label, select, textarea")) return;
    if (window.getSelection && String(window.getSelection()) !== "") return;
    var link = row.querySelector("a[hx-get]");
    if (link) link.click();
  });

  // Manage -> Details (or Edit Client Details): move to the form and put the cursor in its first field.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-focus-first-field]");
    if (!link) return;
    var heading = document.querySelector(link.getAttribute("href"));
    if (!heading) return;
    event.preventDefault();
    heading.scrollIntoView({ block: "start" });
    var form = heading.nextElementSibling;
    while (form && form.tagName !== "FORM") form = form.nextElementSibling;
    var field = form && form.querySelector("input:not([type=hidden]), textarea, select");
    (field || heading).focus();
  });

  // Resend code waits for what is left of the server's cooldown (data-cooldown: seconds, worked out from when the
  // last code was sent): the button shows when it ends, and the live region says so (not each second: a screen
  // reader would read every tick). Counted from the clock, not by ticks, so a tab in the background stays right.
  (function () {
    var form = document.querySelector("form[data-cooldown]");
    var wait = form ? parseInt(form.getAttribute("data-cooldown"), 10) : 0;
    if (!(wait > 0)) return;
    var note = form.querySelector(".cooldown");
    var seconds = form.querySelector(".cooldown-seconds");
    var ready = form.querySelector(".cooldown-ready");
    var button = form.querySelector(".resend-button");
    var until = Date.now() + wait * 1000;
    button.hidden = true;
    var timer = setInterval(function () {
      var left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        seconds.textContent = left + (left === 1 ? " second" : " seconds");
        return;
      }
      clearInterval(timer);
      note.hidden = true;
      button.hidden = false;
      ready.textContent = "You can ask for a new code now.";
    }, 250);
  })();

  // "Select all" checkboxes tick or clear every row checkbox with the name they name.
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-select-all]")) return;
    var boxes = document.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]');
    boxes.forEach(function (box) { box.checked = all.checked; });
  });

  // Menu buttons (details.menu, e.g. Show/Hide): Escape or a click elsewhere closes an open one.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.menu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (!open) return;
    closeMenus(null);
    open.querySelector("summary").focus();
  });

  // A form that is being sent is not sent again by a second click while the next page loads (double-clicked
  // Save, Add, Pay...). htmx forms are left to htmx (it has already taken the event over).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "");
  });
  // Back onto a page kept in memory: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) { form.removeAttribute("data-sending"); });
  });

  // A failed htmx request (htmx swaps nothing on a 4xx or 5xx, so the page would just sit there) is said in the
  // page's alert region: the server's own message when the response carries one (problem+json or plain text),
  // otherwise what a 404 or a 5xx most likely means here.
  var NOT_FOUND = "You no longer have access to this client, or it was removed. Reload the list.";
  var SERVER_ERROR = "Something went wrong on our side, and nothing was changed by it. Please try again in a moment.";
  var OTHER_ERROR = "That could not be done. Reload the page and try again.";
  var OFFLINE = "Partnerdesk could not be reached. Check your connection and try again.";

  function serverMessage(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    var text = xhr.responseText || "";
    if (type.indexOf("json") !== -1) {
      try {
        var body = JSON.parse(text);
        return body.detail || body.title || "";
      } catch (ignored) {
        return "";
      }
    }
    if (type.indexOf("text/plain") !== -1 && text.length <= 300) return text.trim();
    return "";  // an HTML page (e.g. the 404 page) is not a message to show in place
  }

  function showRequestError(text) {
    var region = document.getElementById("request-error");
    if (!region) return;
    region.textContent = "";
    var p = document.createElement("p");
    p.className = "message message-error";
    p.textContent = text;
    region.appendChild(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = serverMessage(xhr);
    if (!text) text = xhr.status === 404 ? NOT_FOUND : xhr.status >= 500 ? SERVER_ERROR : OTHER_ERROR;
    showRequestError(text);
  });
  document.addEventListener("htmx:sendError", function () { showRequestError(OFFLINE); });
  // The next request that works clears the message.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var region = document.getElementById("request-error");
    if (region) region.textContent = "";
  });
})();
