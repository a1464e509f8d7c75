// Kicau staff console: keyboard shortcuts, their overlay, and a question before any form that
// carries data-confirm. The server owns the list: the overlay (<dialog id="shortcuts">) has a
// row per shortcut naming its keys (data-keys), and each page names what a key does there
// (data-key="c" on the claim form, data-key="g l" on the menu's link to the tickets). This
// script only answers keys that list names, and only by what the page names; without it, every
// link and form works as it is.
"use strict";

(() => {
  // A form with data-confirm asks first. Listening on window in the capture phase, a "no" stops
  // the submission before any other listener (console.js closes its live stream on submit).
  window.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  const dialog = document.getElementById("shortcuts");
  if (!(dialog instanceof HTMLDialogElement) || typeof dialog.showModal !== "function") return;

  // The keys the overlay lists: "?", "g l" (g, then l), "Ctrl+Enter"...
  const known = new Set();
  for (const row of dialog.querySelectorAll("[data-keys]")) {
    for (const keys of row.dataset.keys.split(",")) known.add(keys);
  }
  // The first keys of sequences ("g"), which wait for the next key.
  const leaders = new Set([...known].filter((k) => k.includes(" ")).map((k) => k.split(" ")[0]));
  const MODIFIERS = new Set(["Shift", "Control", "Alt", "Meta", "CapsLock", "AltGraph"]);

  const typing = (el) =>
    el instanceof HTMLElement && (el.isContentEditable || el.matches("input, textarea, select"));

  // The overlay: a modal dialog (the page behind it inert), focus kept inside, Escape closes it
  // (the browser's own cancel), and focus goes back where it was.
  let opener = null;
  const openOverlay = () => {
    opener = document.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-close]")?.focus();
  };
  dialog.addEventListener("close", () => {
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    opener = null;
  });
  dialog.querySelector("[data-close]")?.addEventListener("click", () => dialog.close());
  // A click on the backdrop (the dialog itself, outside its body) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll("a[href], button, input, select, textarea")];
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  // The cases of a list (data-item: a queue row, a search card), the chosen one marked. The
  // choice is remembered by its link, so it survives the queue's live refresh.
  let chosen = null; // { href, index }
  const items = () =>
    [...document.querySelectorAll("[data-item]")].filter((el) => el.getClientRects().length > 0);
  const linkOf = (item) => item?.querySelector("a[href]") ?? null;
  const hrefOf = (item) => linkOf(item)?.getAttribute("href") ?? null;
  const current = (list) => {
    if (!chosen) return -1;
    if (hrefOf(list[chosen.index]) === chosen.href) return chosen.index;
    return list.findIndex((item) => hrefOf(item) === chosen.href);
  };
  const mark = () => {
    const list = items();
    const i = current(list);
    list.forEach((item, k) => item.classList.toggle("key-selected", k === i));
    return i < 0 ? null : list[i];
  };
  const move = (step) => {
    const list = items();
    if (!list.length) return false;
    const i = current(list);
    const next = i < 0 ? (step > 0 ? 0 : list.length - 1)
      : Math.min(list.length - 1, Math.max(0, i + step));
    chosen = { href: hrefOf(list[next]), index: next };
    const item = mark();
    item?.scrollIntoView({ block: "nearest" });
    linkOf(item)?.focus({ preventScroll: true });
    return true;
  };
  const openChosen = () => {
    const list = items();
    const link = linkOf(list[current(list)]);
    if (!link) return false;
    location.assign(link.href);
    return true;
  };
  const live = document.querySelector("[data-live]");
  if (live) {
    new MutationObserver(() => {
      if (!chosen) return;
      const item = mark();
      if (item && document.activeElement === document.body) linkOf(item)?.focus({ preventScroll: true });
    }).observe(live, { childList: true });
  }

  // What the page names for `keys`: a form is sent (as its button would), a field gets the
  // focus, anything else is clicked.
  const follow = (keys) => {
    const target = document.querySelector(`[data-key="${CSS.escape(keys)}"]`);
    if (!target) return false;
    if (target instanceof HTMLFormElement) {
      const button = target.querySelector("button[type=submit], input[type=submit]");
      if (button) button.click();
      else target.requestSubmit();
    } else if (typing(target)) {
      target.focus();
      if (target instanceof HTMLInputElement) target.select();
    } else {
      target.click();
    }
    return true;
  };

  const act = (keys) => {
    switch (keys) {
      case "?":
        openOverlay();
        return true;
      case "j":
        return move(1);
      case "k":
        return move(-1);
      case "o":
        return openChosen();
      case "Enter": {
        // Only for the chosen case: Enter on a button or another link keeps its own meaning.
        const list = items();
        const i = current(list);
        const focus = document.activeElement;
        if (i < 0 || (focus && focus !== document.body && !list[i].contains(focus))) return false;
        return openChosen();
      }
      case "Escape":
        chosen = null;
        mark();
        return false;
      default:
        return follow(keys);
    }
  };

  let pending = null;
  let pendingTimer = null;
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || MODIFIERS.has(event.key)) return;
    if (dialog.open) {
      if (event.key === "?") {
        event.preventDefault();
        dialog.close();
      }
      return;
    }
    // Ctrl+Enter (Cmd+Enter on a Mac) in the reply box sends the reply, as its button does.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
      const area = event.target;
      if (known.has("Ctrl+Enter") && area instanceof HTMLTextAreaElement
          && area.dataset.key === "r" && area.form) {
        event.preventDefault();
        area.form.requestSubmit(area.form.querySelector("button[type=submit]") ?? undefined);
      }
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape" && known.has("Escape")) event.target.blur();
      return;
    }
    const key = event.key;
    if (pending) {
      const keys = `${pending} ${key}`;
      pending = null;
      clearTimeout(pendingTimer);
      if (known.has(keys) && act(keys)) event.preventDefault();
      return;
    }
    if (leaders.has(key)) {
      pending = key;
      pendingTimer = setTimeout(() => { pending = null; }, 1500);
      event.preventDefault();
      return;
    }
    if (known.has(key) && act(key)) event.preventDefault();
  });
})();
