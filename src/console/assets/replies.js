// Kicau staff console: saved replies ("balasan tersimpan", knowledge/replies/) in the reply box.
// Typing "/" at the start of the draft or after a space opens a menu of the replies whose
// shortcut (then title) matches what follows it; the arrow keys move, Enter or Tab insert the
// reply at the cursor in place of the "/..." typed (the rest of the draft stays), a click or a
// tap does the same, Escape closes. The list under the box ("Balasan tersimpan") inserts at the
// cursor too. The menu sits under the box, in the page's flow (no inline style: the CSP forbids
// it). Text from the server is only ever set with textContent.
"use strict";

// "/" at the start of the text before the cursor or after whitespace, then what is typed of a
// shortcut, up to the cursor.
const SAVED_REPLY_TOKEN = /(^|\s)\/([a-z0-9-]*)$/i;

// The replies for what was typed after "/": shortcuts that start with it first, then those
// whose shortcut or title contains it, each group in the server's order (by shortcut).
function savedRepliesMatching(replies, typed) {
  const query = typed.toLowerCase();
  const first = replies.filter((r) => r.shortcut.startsWith(query));
  const then = replies.filter(
    (r) => !r.shortcut.startsWith(query) && (r.shortcut.includes(query) || r.title.toLowerCase().includes(query)),
  );
  return first.concat(then);
}

function setupSavedReplies() {
  const area = document.getElementById("text");
  if (!area) return;
  let replies = [];
  let shown = []; // the replies in the open menu
  let active = -1; // the highlighted one, an index into `shown`
  let token = null; // where the "/..." typed is, {start, end}, while the menu is open
  let dismissed = -1; // where the token starts that Escape closed the menu on

  const menu = document.createElement("ul");
  menu.id = "saved-replies-menu";
  menu.className = "saved-replies-menu";
  menu.setAttribute("role", "listbox");
  menu.setAttribute("aria-label", "Balasan tersimpan");
  menu.hidden = true;
  const status = document.createElement("p");
  status.className = "sr-only";
  status.setAttribute("role", "status");
  area.after(menu, status);
  area.setAttribute("aria-autocomplete", "list");
  area.setAttribute("aria-controls", menu.id);

  const close = () => {
    menu.hidden = true;
    menu.replaceChildren();
    shown = [];
    active = -1;
    token = null;
    area.removeAttribute("aria-activedescendant");
  };

  const highlight = (index) => {
    active = index;
    menu.querySelectorAll("[role=option]").forEach((item, i) => {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    const item = menu.children[index];
    if (!item) return;
    area.setAttribute("aria-activedescendant", item.id);
    item.scrollIntoView({ block: "nearest" });
  };

  // `text` over start..end of the draft, the cursor after it; the preview hears of it as of
  // any typing.
  const insert = (text, start, end) => {
    close();
    area.focus();
    area.setRangeText(text, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const render = (found) => {
    const keep = active >= 0 && shown[active] ? shown[active].shortcut : null;
    shown = found;
    menu.replaceChildren();
    found.forEach((reply, i) => {
      const item = document.createElement("li");
      item.id = "saved-reply-" + reply.shortcut;
      item.setAttribute("role", "option");
      const shortcut = document.createElement("span");
      shortcut.className = "shortcut";
      shortcut.textContent = "/" + reply.shortcut;
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = reply.title;
      item.append(shortcut, title);
      item.addEventListener("pointermove", () => {
        if (active !== i) highlight(i);
      });
      item.addEventListener("click", () => {
        if (token) insert(reply.text, token.start, token.end);
      });
      menu.append(item);
    });
    menu.hidden = false;
    const kept = found.findIndex((r) => r.shortcut === keep);
    highlight(kept >= 0 ? kept : 0);
    status.textContent = found.length + " balasan tersimpan cocok. Panah untuk memilih, Enter untuk menyisipkan.";
  };

  // Opens, filters or closes the menu for the text before the cursor.
  const refresh = () => {
    if (area.selectionStart !== area.selectionEnd) return close();
    const before = area.value.slice(0, area.selectionStart);
    const match = SAVED_REPLY_TOKEN.exec(before);
    if (!match) {
      dismissed = -1;
      return close();
    }
    const start = before.length - match[2].length - 1;
    const found = savedRepliesMatching(replies, match[2]);
    if (start === dismissed || found.length === 0) return close();
    token = { start, end: area.selectionStart };
    render(found);
  };

  area.addEventListener("input", refresh);
  area.addEventListener("click", refresh);
  area.addEventListener("keyup", (event) => {
    if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) refresh();
  });
  area.addEventListener("keydown", (event) => {
    if (menu.hidden || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : shown.length - 1;
      highlight((active + step) % shown.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && shown[active]) {
      event.preventDefault();
      insert(shown[active].text, token.start, token.end);
    } else if (event.key === "Escape") {
      event.preventDefault();
      dismissed = token ? token.start : -1;
      close();
    }
  });
  // A press on the menu keeps the focus (and the cursor) in the box; elsewhere it closes it.
  menu.addEventListener("mousedown", (event) => event.preventDefault());
  document.addEventListener("click", (event) => {
    if (event.target !== area && !menu.contains(event.target)) close();
  });

  // The list under the box: each button inserts its reply at the cursor (over a selection).
  for (const button of document.querySelectorAll(".saved-replies button[data-shortcut]")) {
    button.addEventListener("click", () => {
      const reply = replies.find((r) => r.shortcut === button.dataset.shortcut);
      const shownText = button.parentElement.querySelector(".text");
      const text = reply ? reply.text : shownText ? shownText.textContent : "";
      if (!text) return;
      insert(text, area.selectionStart, area.selectionEnd);
    });
  }

  fetch("/api/replies", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : { data: [] }))
    .then((body) => {
      replies = body.data || [];
      // A "/" typed before the list arrived.
      if (document.activeElement === area) refresh();
    })
    .catch(() => {
      replies = [];
    });
}

document.addEventListener("DOMContentLoaded", setupSavedReplies);
