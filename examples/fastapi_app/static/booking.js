// The booking page: plain JS, no build step.
// /?user=MEMBER_ID[&coach=COACH_ID][&from=YYYY-MM-DD&to=YYYY-MM-DD][&duration=60]
//
// STUB AUTHENTICATION: the user id comes from the query string and is sent as
// the X-User-Id header (and as ?user= on the WebSocket). A real host uses its
// own session or token instead.
"use strict";

const params = new URLSearchParams(location.search);
const userId = params.get("user");
const duration = Number(params.get("duration") || 60);
let coachId = params.get("coach");
let range = { from: params.get("from"), to: params.get("to") };

const slots = new Map(); // epoch ms of the slot start -> {start, localStart, available, max, yours, li}
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "X-User-Id": userId, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data); // {statusCode, message, error, details}
  return data;
}

function say(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = kind || "";
}

const keyOf = (iso) => Date.parse(iso);
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function label(localStart) {
  // the coach's wall clock, as the server sent it: 2030-01-07T09:00:00+01:00
  const day = localStart.slice(0, 10);
  const weekday = WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()];
  return `${weekday} ${day} ${localStart.slice(11, 16)}`;
}

// ---- slots -------------------------------------------------------------------

function render(slot) {
  const { li } = slot;
  const full = slot.available <= 0;
  li.classList.toggle("full", full);
  li.classList.toggle("yours", slot.yours);
  li.dataset.available = String(Math.max(0, slot.available));
  const seats = full ? "Full" : `${slot.available} of ${slot.max} seats free`;
  // a second seat would be refused (409): the member's own slot offers no Book
  li.querySelector(".seats").textContent = slot.yours ? `${seats}, you have a seat` : seats;
  li.querySelector("button").disabled = full || slot.yours;
}

function upsert(data, own = false) {
  // data: {start, local_start, available_capacity, max_capacity, you_have_a_seat};
  // creates or updates. Only our own listing (own) knows where we have a seat:
  // the live messages' day lists are the host's view, without that mark.
  const key = keyOf(data.start);
  let slot = slots.get(key);
  if (!slot) {
    if (!data.local_start || data.available_capacity <= 0) return;
    const li = document.createElement("li");
    li.dataset.start = new Date(key).toISOString();
    li.dataset.localDate = data.local_start.slice(0, 10);
    li.innerHTML = '<span class="when"></span><span class="seats"></span><button type="button">Book</button>';
    li.querySelector(".when").textContent = label(data.local_start);
    li.querySelector("button").addEventListener("click", () => book(key));
    slot = { start: data.start, localStart: data.local_start, available: 0, max: 0, yours: false, li };
    slots.set(key, slot);
    const after = [...slots.keys()].filter((k) => k > key).sort((a, b) => a - b)[0];
    $("slots").insertBefore(li, after === undefined ? null : slots.get(after).li);
  }
  slot.available = data.available_capacity;
  if (data.max_capacity != null) slot.max = data.max_capacity;
  if (own) slot.yours = Boolean(data.you_have_a_seat);
  render(slot);
  $("no-slots").hidden = slots.size > 0;
}

function markFull(key) {
  const slot = slots.get(key);
  if (slot) {
    slot.available = 0;
    render(slot);
  }
}

// The listing leaves out full slots: a slot we show that is missing from a
// fresh listing of its day has no seat left.
function mergeDay(localDate, fresh) {
  const seen = new Set(fresh.map((s) => keyOf(s.start)));
  for (const [key, slot] of slots) {
    if (slot.localStart.slice(0, 10) === localDate && !seen.has(key)) markFull(key);
  }
  fresh.forEach((data) => upsert(data));
}

async function loadSlots() {
  const query = new URLSearchParams({ duration: String(duration) });
  if (range.from) query.set("start_date", range.from);
  if (range.to) query.set("end_date", range.to);
  const listing = await api("GET", `/api/coaches/${encodeURIComponent(coachId)}/slots?${query}`);
  range = { from: listing.start_date, to: listing.end_date };
  $("range").textContent = `${range.from} to ${range.to}`;
  const fresh = new Set(listing.slots.map((s) => keyOf(s.start)));
  for (const key of slots.keys()) if (!fresh.has(key)) markFull(key);
  listing.slots.forEach((data) => upsert(data, true));
  $("no-slots").hidden = slots.size > 0;
}

async function book(key) {
  const slot = slots.get(key);
  const button = slot.li.querySelector("button");
  button.disabled = true;
  say("Booking…");
  try {
    const booking = await api("POST", "/api/bookings", {
      coach_id: coachId,
      start: slot.start,
      duration,
    });
    slot.yours = true;
    say(`Booked ${label(slot.localStart)}: ${booking.status}`, "ok");
    await loadBookings();
  } catch (error) {
    if (error.status === 409) {
      markFull(key); // lost the race: "This slot is now full, please choose another"
      await loadSlots().catch(() => {}); // ... or we have a seat there already: the listing says
    }
    say(error.message, "error");
  } finally {
    render(slot);
  }
}

// ---- my bookings -------------------------------------------------------------

async function loadBookings() {
  const list = $("bookings");
  const mine = await api("GET", "/api/bookings?status=confirmed");
  list.replaceChildren();
  for (const booking of mine) {
    const li = document.createElement("li");
    li.dataset.bookingId = booking.id;
    li.innerHTML = '<span class="when"></span><button type="button">Cancel</button>';
    li.querySelector(".when").textContent =
      `${booking.requested_date} ${booking.requested_time} (${booking.duration} min)`;
    li.querySelector("button").addEventListener("click", () => cancel(booking.id));
    list.append(li);
  }
}

async function cancel(bookingId) {
  try {
    await api("DELETE", `/api/bookings/${encodeURIComponent(bookingId)}`);
    say("Booking cancelled", "ok");
    await loadBookings();
    await loadSlots(); // the seat is no longer ours
  } catch (error) {
    say(error.message, "error");
  }
}

// ---- live updates ------------------------------------------------------------

function onMessage(message) {
  if (message.type === "subscribed") {
    $("live").textContent = "connected";
    $("live").dataset.state = "connected";
  } else if (message.type === "slot_changed" && message.duration === duration) {
    if (message.day) mergeDay(message.date, message.day);
    const slot = slots.get(keyOf(message.start));
    if (slot) {
      slot.available = message.available_capacity;
      render(slot);
    } else if (message.available_capacity > 0) {
      loadSlots().catch((error) => say(error.message, "error"));
    }
  } else if (message.type === "slot_changed" || message.type === "availability_changed") {
    loadSlots().catch((error) => say(error.message, "error")); // other durations, new windows
  } else if (message.type === "error") {
    say(message.message, "error");
  }
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/coaches/${encodeURIComponent(coachId)}/slots?user=${encodeURIComponent(userId)}`;
  const socket = new WebSocket(url);
  socket.onmessage = (event) => onMessage(JSON.parse(event.data));
  socket.onopen = () => {
    if (attempt > 0) loadSlots().catch(() => {}); // catch up on what we missed
  };
  socket.onclose = () => {
    $("live").textContent = "reconnecting";
    $("live").dataset.state = "reconnecting";
    setTimeout(() => connect(attempt + 1), Math.min(10000, 500 * 2 ** attempt));
  };
}

async function start() {
  if (!userId) {
    say("Open this page as /?user=YOUR_USER_ID (demo authentication)", "error");
    return;
  }
  try {
    const me = await api("GET", "/api/me");
    $("who").textContent = `Signed in as ${me.name}`;
    if (!coachId) {
      const board = await api("GET", "/api/dashboards/member");
      if (!board.coach) throw new Error("You have no coach yet");
      coachId = board.coach.user_id;
    }
    await loadSlots();
    connect();
    await loadBookings();
  } catch (error) {
    say(error.message, "error");
  }
}

start();
