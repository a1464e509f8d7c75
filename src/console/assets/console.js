// Kicau staff console: live updates (server-sent events), the weighted character counter of a
// reply, and the knowledge-base search. Text from outside is only ever set with textContent.
"use strict";

// twitter-text v3: code points in these ranges weigh 1, others 2; a URL weighs 23.
const LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
function weightedLength(text) {
  let total = 0;
  const withoutUrls = text.replace(/https?:\/\/\S+/g, () => { total += 23; return ""; });
  for (const ch of withoutUrls.normalize("NFC")) {
    const cp = ch.codePointAt(0);
    total += LIGHT.some(([a, b]) => cp >= a && cp <= b) ? 1 : 2;
  }
  return total;
}

function setupCounter() {
  const area = document.getElementById("text");
  if (!area) return;
  const count = document.getElementById("count");
  const parts = document.getElementById("parts");
  const handle = area.dataset.handle || "";
  const update = () => {
    const body = area.value.trim();
    const text = body.toLowerCase().startsWith(handle.toLowerCase()) ? body : handle + " " + body;
    const n = weightedLength(text);
    count.textContent = String(n);
    count.parentElement.classList.toggle("over", n > 280);
    parts.textContent = n > 280 ? " · akan dipecah menjadi utas bernomor" : "";
  };
  area.addEventListener("input", update);
  update();
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
        button.addEventListener("click", () => {
          area.value = entry.answer;
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

function setupLive() {
  const live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  const source = new EventSource("/events");
  // A form on its way (claim, reply...) must not be overtaken by the reload its own event causes.
  document.addEventListener("submit", () => source.close());
  source.addEventListener("desk", async (message) => {
    const event = JSON.parse(message.data);
    if (live.dataset.live === "queue") {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.querySelector("[data-live=queue]");
      if (fresh) live.replaceChildren(...fresh.childNodes);
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
});
