// Kicau staff console: live updates (server-sent events), the weighted character counter of a
// reply, and the knowledge-base search. Text from outside is only ever set with textContent.
"use strict";

// The reply's preview: the server splits it (POST /api/preview, the same splitter that posts
// it), so the console never guesses how a reply becomes tweets.
function setupCounter() {
  const area = document.getElementById("text");
  if (!area) return;
  const count = document.getElementById("count");
  const parts = document.getElementById("parts");
  const list = document.getElementById("preview");
  const csrf = document.querySelector("meta[name=csrf]");
  let timer = null;
  const update = async () => {
    const response = await fetch("/api/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.content : "" },
      body: JSON.stringify({ text: area.value, conversation: area.dataset.conversation }),
    });
    if (!response.ok) return;
    const preview = (await response.json()).data;
    const first = preview.parts.length ? preview.parts[0].weighted_length : 0;
    count.textContent = preview.count > 1 ? String(preview.count) : String(first);
    parts.textContent = preview.count > 1
      ? " twit (utas bernomor), paling banyak " + preview.max_parts
      : " / 280 karakter";
    count.parentElement.classList.toggle("over", !preview.within_limit || !!preview.personal_data);
    if (preview.message) parts.textContent += " · " + preview.message;
    if (preview.personal_data) parts.textContent += " · " + preview.personal_data;
    list.replaceChildren();
    if (preview.count > 1) {
      for (const part of preview.parts) {
        const item = document.createElement("li");
        item.textContent = part.text;
        list.append(item);
      }
    }
  };
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
}

function setupKnowledge() {
  const input = document.getElementById("kbq");
  const list = document.getElementById("kbresults");
  const area = document.getElementById("text");
  if (!input || !list || !area) return;
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      list.replaceChildren();
      if (!q) return;
      const response = await fetch("/api/knowledge?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!response.ok) return;
      const { data } = await response.json();
      for (const entry of data) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Sisipkan";
        // Inserted at the cursor (or over the selection): the draft around it stays.
        button.addEventListener("click", () => {
          const start = area.selectionStart ?? area.value.length;
          const end = area.selectionEnd ?? start;
          area.setRangeText(entry.answer, start, end, "end");
          area.dispatchEvent(new Event("input"));
          area.focus();
        });
        const title = document.createElement("span");
        title.textContent = " " + entry.title;
        item.append(button, title);
        list.append(item);
      }
    }, 250);
  });
}

// The menu's counts and the tab's title, from a freshly rendered page.
function refreshAttention(doc) {
  document.title = doc.title;
  for (const fresh of doc.querySelectorAll("nav [data-count]")) {
    const here = document.querySelector(`nav [data-count="${fresh.dataset.count}"]`);
    if (!here) continue;
    here.textContent = fresh.textContent;
    here.title = fresh.title;
    here.hidden = fresh.hidden;
  }
}

// A new emergency: a short tone and, with the person's permission, a browser notification.
function alarm() {
  try {
    const context = new AudioContext();
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.2;
    tone.connect(gain).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.6);
  } catch (_) {
    // No sound before the person has interacted with the page; the notification remains.
  }
  if (window.Notification && Notification.permission === "granted") {
    new Notification("DARURAT · Kicau", { body: "Ada laporan darurat baru di antrean.", tag: "kicau-darurat" });
  }
}

function setupNotifications() {
  const nav = document.querySelector("nav");
  if (!nav || !window.Notification || Notification.permission !== "default") return;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Notifikasi darurat";
  button.title = "Aktifkan notifikasi peramban untuk kasus darurat baru";
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.remove();
  });
  nav.querySelector(".who")?.prepend(button);
}

// The queue, rendered again by the server: its rows, timers and counts.
async function refreshQueue(live) {
  const response = await fetch(location.href, {
    credentials: "same-origin",
    // Not a visit: the page's one-time notice stays for the person's next visit.
    headers: { "X-Kicau-Live": "1" },
  });
  if (!response.ok) return;
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = doc.querySelector("[data-live=queue]");
  if (fresh) live.replaceChildren(...fresh.childNodes);
  refreshAttention(doc);
}

function setupLive() {
  if (!document.querySelector("nav") || !window.EventSource) return;
  const live = document.querySelector("[data-live]");
  // The deadlines in the queue are timers: the rows are drawn again every minute.
  if (live && live.dataset.live === "queue") setInterval(() => refreshQueue(live), 60000);
  const source = new EventSource("/events");
  // A form on its way (claim, reply...) must not be overtaken by the reload its own event causes.
  document.addEventListener("submit", () => source.close());
  source.addEventListener("desk", async (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "emergency") alarm();
    if (!live || live.dataset.live !== "queue") {
      const response = await fetch("/", { credentials: "same-origin", headers: { "X-Kicau-Live": "1" } });
      if (response.ok) refreshAttention(new DOMParser().parseFromString(await response.text(), "text/html"));
    }
    if (!live) return;
    if (live.dataset.live === "queue") {
      await refreshQueue(live);
      return;
    }
    if (event.conversation_id !== live.dataset.id) return;
    const area = document.getElementById("text");
    if (!area || area.value.trim() === "") {
      location.reload();
    } else if (!document.querySelector(".update")) {
      const note = document.createElement("p");
      note.className = "update";
      note.textContent = "Ada pembaruan di percakapan ini. Muat ulang setelah balasan Anda terkirim.";
      live.prepend(note);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupCounter();
  setupKnowledge();
  setupLive();
  setupNotifications();
});
