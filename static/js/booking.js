/*
 * Booking page: duration, month calendar, tutor picker and multi-slot selection without page reloads.
 *
 * Progressive enhancement: the server renders working links and one form per slot; this script takes
 * over the same markup, fetches the JSON API and posts every selected slot to the cart in one request.
 *
 * Choices:
 * - The selection survives a change of duration (the cart accepts mixed durations); overlap is checked
 *   across every selected slot, whatever its day or duration.
 * - Changing the tutor empties the selection: the cart takes one tutor choice per request, and adding
 *   all slots in one request keeps the addition all-or-nothing.
 */
(function () {
  "use strict";

  var root = document.getElementById("booking");
  if (!root || !window.fetch || !window.URLSearchParams) {
    return;
  }

  var LOCALE = "fr-CA";
  var DURATION_LABELS = { 60: "1 h", 90: "1 h 30", 120: "2 h" };
  var MESSAGES = {
    slots: "Impossible de charger les créneaux. Veuillez réessayer.",
    month: "Impossible de charger le calendrier. Veuillez réessayer.",
    cart: "Impossible d'ajouter les séances au panier. Veuillez réessayer.",
    noSlots: "Aucun créneau disponible ce jour-là.",
    pickDay: "Choisissez une date dans le calendrier.",
    loading: "Chargement des créneaux…",
    tutorChanged: "Votre sélection a été vidée, car le choix du tuteur a changé.",
    gone: "Plus disponible",
  };

  var moneyFormat = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "CAD" });
  var longDateFormat = new Intl.DateTimeFormat(LOCALE, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });
  var monthFormat = new Intl.DateTimeFormat(LOCALE, { month: "long", year: "numeric", timeZone: "UTC" });

  var data = root.dataset;
  var config = {
    course: data.course,
    slotsUrl: data.slotsUrl,
    daysUrl: data.daysUrl,
    addUrl: data.addUrl,
    cartUrl: data.cartUrl,
    csrf: data.csrf,
    firstDay: data.firstDay,
    lastDay: data.lastDay,
  };

  var state = {
    duration: Number(data.duration),
    month: data.month, // "YYYY-MM"
    day: data.day || null, // "YYYY-MM-DD"
    tutor: data.tutor || null, // id as a string, null for "Tous les tuteurs"
    openDays: null, // Set of ISO dates of state.month, null while unknown
    slots: [], // the chosen day's slots
    slotsFailed: false,
    selection: [],
    errors: { month: null, slots: null, cart: null },
    submitting: false,
  };

  var el = {
    durations: root.querySelectorAll(".durations .duration"),
    monthNav: root.querySelector(".month-nav"),
    monthTable: root.querySelector("table.month"),
    monthDays: root.querySelector(".month-days"),
    tutor: root.querySelector("#tuteur"),
    slotsCard: root.querySelector(".booking-slots"),
    slotsTitle: root.querySelector("#slots-title"),
    slots: root.querySelector("#slots"),
    error: root.querySelector("#booking-error"),
    selection: root.querySelector("#selection"),
    selectionNote: root.querySelector("#selection-note"),
    selectionEmpty: root.querySelector("#selection-empty"),
    selectionList: root.querySelector("#selection-list"),
    totalRow: root.querySelector("#selection-total-row"),
    total: root.querySelector("#selection-total"),
    continueButton: root.querySelector("#continue"),
  };

  var requests = { month: null, slots: null };

  /* ---------- small helpers ---------- */

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "className") {
        node.className = value;
      } else if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function money(cents) {
    return moneyFormat.format(cents / 100);
  }

  function isoToUtcDate(iso) {
    var parts = iso.split("-").map(Number);
    return new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] || 1));
  }

  function utcDateToIso(date) {
    return date.toISOString().slice(0, 10);
  }

  function longDate(iso) {
    return longDateFormat.format(isoToUtcDate(iso));
  }

  function monthOf(iso) {
    return iso.slice(0, 7);
  }

  function addMonths(month, delta) {
    var date = isoToUtcDate(month + "-01");
    date.setUTCMonth(date.getUTCMonth() + delta);
    return utcDateToIso(date).slice(0, 7);
  }

  function withParams(base, params) {
    var query = new URLSearchParams();
    Object.keys(params).forEach(function (name) {
      if (params[name] !== null && params[name] !== undefined && params[name] !== "") {
        query.set(name, params[name]);
      }
    });
    var text = query.toString();
    return text ? base + (base.indexOf("?") === -1 ? "?" : "&") + text : base;
  }

  function bookingUrl(extra) {
    var params = { duree: state.duration, mois: state.month, tuteur: state.tutor };
    Object.keys(extra || {}).forEach(function (name) {
      params[name] = extra[name];
    });
    return withParams(window.location.pathname, params);
  }

  function syncAddress() {
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", bookingUrl({ date: state.day }));
    }
  }

  function overlaps(a, b) {
    return a.start < b.end && b.start < a.end;
  }

  function slotKey(start, duration) {
    return start + "/" + duration;
  }

  function requestError(status, payload) {
    var error = new Error("request failed");
    error.status = status;
    // 4xx answers carry a French explanation of what was wrong; a 5xx or a broken answer gets our own.
    error.userMessage = status >= 400 && status < 500 && payload && typeof payload.error === "string"
      ? payload.error : null;
    return error;
  }

  function getJson(url, kind) {
    if (requests[kind]) {
      requests[kind].abort();
    }
    var controller = new AbortController();
    requests[kind] = controller;
    return fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (payload) {
        if (!response.ok || !payload) {
          throw requestError(response.status, payload);
        }
        return payload;
      });
    }).finally(function () {
      if (requests[kind] === controller) {
        requests[kind] = null;
      }
    });
  }

  function isAbort(error) {
    return error && error.name === "AbortError";
  }

  /* ---------- errors ---------- */

  function setError(kind, message) {
    state.errors[kind] = message;
    renderErrors();
  }

  function renderErrors() {
    var box = el.error;
    box.textContent = "";
    var kinds = ["month", "slots", "cart"].filter(function (kind) { return state.errors[kind]; });
    kinds.forEach(function (kind) {
      box.appendChild(h("p", { text: state.errors[kind] }));
    });
    if (state.errors.month || state.errors.slots) {
      var retry = h("button", { type: "button", className: "secondary retry", text: "Réessayer" });
      retry.addEventListener("click", function () {
        loadMonth();
        loadSlots({ keep: false });
      });
      box.appendChild(retry);
    }
    box.hidden = kinds.length === 0;
  }

  /* ---------- durations ---------- */

  function renderDurations() {
    Array.prototype.forEach.call(el.durations, function (link) {
      var active = Number(link.dataset.duration) === state.duration;
      link.classList.toggle("active", active);
      if (active) {
        link.setAttribute("aria-current", "true");
      } else {
        link.removeAttribute("aria-current");
      }
      link.href = bookingUrl({ duree: link.dataset.duration, date: state.day });
    });
  }

  function chooseDuration(minutes) {
    if (minutes === state.duration) {
      return;
    }
    state.duration = minutes;
    renderDurations();
    syncAddress();
    loadMonth();
    loadSlots({ keep: false });
  }

  /* ---------- month calendar ---------- */

  function canShowMonth(month) {
    return month >= monthOf(config.firstDay) && month <= monthOf(config.lastDay);
  }

  // Built once, then updated in place so that keyboard focus stays on the arrow that was pressed.
  function buildMonthNav() {
    el.monthNav.textContent = "";
    el.prevMonth = h("button", { type: "button", className: "month-prev", "aria-label": "Mois précédent", text: "‹" });
    el.monthLabel = h("strong", { className: "month-label", "aria-live": "polite" });
    el.nextMonth = h("button", { type: "button", className: "month-next", "aria-label": "Mois suivant", text: "›" });
    el.monthNav.appendChild(el.prevMonth);
    el.monthNav.appendChild(el.monthLabel);
    el.monthNav.appendChild(el.nextMonth);
  }

  function renderMonthNav() {
    var previous = addMonths(state.month, -1);
    var next = addMonths(state.month, 1);
    var hadFocus = document.activeElement;
    el.monthLabel.textContent = monthFormat.format(isoToUtcDate(state.month + "-01"));
    el.prevMonth.dataset.month = previous;
    el.nextMonth.dataset.month = next;
    el.prevMonth.disabled = !canShowMonth(previous);
    el.nextMonth.disabled = !canShowMonth(next);
    if (hadFocus === el.prevMonth && el.prevMonth.disabled) {
      el.nextMonth.focus();
    } else if (hadFocus === el.nextMonth && el.nextMonth.disabled) {
      el.prevMonth.focus();
    }
  }

  function dayCell(iso) {
    var number = String(Number(iso.slice(8, 10)));
    var outside = iso < config.firstDay || iso > config.lastDay;
    if (state.openDays && state.openDays.has(iso)) {
      var chosen = iso === state.day;
      return h("a", {
        className: "day available" + (chosen ? " chosen" : ""),
        href: bookingUrl({ date: iso }),
        "data-date": iso,
        "aria-current": chosen ? "date" : null,
        "aria-label": longDate(iso) + " — disponible",
        text: number,
      });
    }
    var kind = iso < config.firstDay ? "past" : outside || state.openDays ? "closed" : "pending";
    return h("span", {
      className: "day " + kind + (iso === state.day ? " chosen" : ""),
      "data-date": iso,
      "aria-disabled": "true",
      text: number,
    });
  }

  function renderCalendar() {
    renderMonthNav();
    var first = isoToUtcDate(state.month + "-01");
    var lead = (first.getUTCDay() + 6) % 7; // Monday first
    var days = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
    var body = document.createDocumentFragment();
    var row = h("tr");
    for (var i = 0; i < lead; i += 1) {
      row.appendChild(h("td", { className: "other" }));
    }
    for (var d = 1; d <= days; d += 1) {
      var iso = state.month + "-" + (d < 10 ? "0" : "") + d;
      row.appendChild(h("td", {}, [dayCell(iso)]));
      if (row.children.length === 7) {
        body.appendChild(row);
        row = h("tr");
      }
    }
    if (row.children.length) {
      while (row.children.length < 7) {
        row.appendChild(h("td", { className: "other" }));
      }
      body.appendChild(row);
    }
    el.monthDays.textContent = "";
    el.monthDays.appendChild(body);
  }

  function loadMonth() {
    var month = state.month;
    setError("month", null);
    el.monthTable.setAttribute("aria-busy", "true");
    var url = withParams(config.daysUrl, { mois: month, duree: state.duration, tuteur: state.tutor });
    return getJson(url, "month").then(function (payload) {
      state.openDays = new Set(payload.jours || []);
      renderCalendar();
      el.monthTable.removeAttribute("aria-busy");
    }, function (error) {
      if (isAbort(error)) {
        return;
      }
      el.monthTable.removeAttribute("aria-busy");
      state.openDays = null; // unknown, rather than what another duration or tutor had free
      renderCalendar();
      setError("month", error.userMessage || MESSAGES.month);
    });
  }

  function showMonth(month) {
    if (!canShowMonth(month) || month === state.month) {
      return;
    }
    state.month = month;
    state.openDays = null;
    renderCalendar();
    syncAddress();
    loadMonth();
  }

  function markChosenDay() {
    Array.prototype.forEach.call(el.monthDays.querySelectorAll(".day"), function (node) {
      var chosen = node.dataset.date === state.day;
      node.classList.toggle("chosen", chosen);
      if (chosen && node.tagName === "A") {
        node.setAttribute("aria-current", "date");
      } else {
        node.removeAttribute("aria-current");
      }
    });
  }

  function chooseDay(iso) {
    state.day = iso;
    markChosenDay();
    syncAddress();
    renderDurations();
    loadSlots({ keep: false });
    // On a narrow screen the slots are below the calendar: bring them into view.
    var top = el.slotsCard.getBoundingClientRect().top;
    if (top > window.innerHeight - 80) {
      el.slotsCard.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  /* ---------- slots ---------- */

  function slotFromJson(item, date) {
    var start = Date.parse(item.debut);
    return {
      key: slotKey(start, item.duree),
      debut: item.debut,
      start: start,
      end: Date.parse(item.fin),
      date: date,
      time: item.heure,
      timeEnd: item.heure_fin,
      duration: item.duree,
      cents: item.prix_cents,
    };
  }

  function slotsFromPage() {
    var cents = Number(el.slots.dataset.price);
    return Array.prototype.map.call(el.slots.querySelectorAll("button.slot"), function (button) {
      return slotFromJson({
        debut: button.dataset.start,
        fin: button.dataset.end,
        heure: button.dataset.time,
        heure_fin: button.dataset.timeEnd,
        duree: state.duration,
        prix_cents: cents,
      }, state.day);
    });
  }

  function renderSlotsTitle() {
    el.slotsTitle.textContent = "3. Créneaux" + (state.day ? " du " + longDate(state.day) : "");
  }

  function renderSlotsMessage(text) {
    el.slots.textContent = "";
    el.slots.appendChild(h("p", { className: "muted slots-empty", text: text }));
  }

  function renderSlots() {
    el.slots.textContent = "";
    if (!state.day) {
      renderSlotsMessage(MESSAGES.pickDay);
      return;
    }
    if (state.slotsFailed) {
      return; // the error box says what went wrong; an empty list would read as "no availability"
    }
    if (!state.slots.length) {
      renderSlotsMessage(MESSAGES.noSlots);
      return;
    }
    var list = h("ul", { className: "slot-grid", "aria-labelledby": "slots-title" });
    state.slots.forEach(function (slot) {
      var button = h("button", {
        type: "button",
        className: "slot",
        "data-key": slot.key,
        "data-start": slot.debut,
        "aria-pressed": "false",
      }, [
        h("span", { className: "slot-time", text: slot.time + " – " + slot.timeEnd }),
        h("span", { className: "slot-state", "aria-hidden": "true" }),
      ]);
      list.appendChild(h("li", {}, [button]));
    });
    el.slots.appendChild(list);
    renderSlotStates();
  }

  function selectedItem(key) {
    for (var i = 0; i < state.selection.length; i += 1) {
      if (state.selection[i].key === key) {
        return state.selection[i];
      }
    }
    return null;
  }

  function renderSlotStates() {
    var byKey = {};
    state.slots.forEach(function (slot) { byKey[slot.key] = slot; });
    Array.prototype.forEach.call(el.slots.querySelectorAll("button.slot[data-key]"), function (button) {
      var slot = byKey[button.dataset.key];
      var selected = Boolean(selectedItem(slot.key));
      var conflicting = !selected && state.selection.some(function (item) { return overlaps(item, slot); });
      button.classList.toggle("is-selected", selected);
      button.classList.toggle("is-conflicting", conflicting);
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      button.disabled = conflicting;
      if (conflicting) {
        button.setAttribute("aria-disabled", "true");
        button.setAttribute("aria-describedby", "booking-help");
      } else {
        button.removeAttribute("aria-disabled");
        button.removeAttribute("aria-describedby");
      }
      button.querySelector(".slot-state").textContent = selected ? "Sélectionné" : "";
    });
  }

  function loadSlots(options) {
    setError("slots", null);
    if (!state.day) {
      if (requests.slots) {
        requests.slots.abort();
      }
      state.slots = [];
      state.slotsFailed = false;
      renderSlotsTitle();
      renderSlots();
      return Promise.resolve();
    }
    var day = state.day;
    renderSlotsTitle();
    el.slots.setAttribute("aria-busy", "true");
    if (options && options.keep && !state.slotsFailed) {
      el.slots.classList.add("is-loading");
    } else {
      renderSlotsMessage(MESSAGES.loading);
    }
    var url = withParams(config.slotsUrl, { date: day, duree: state.duration, tuteur: state.tutor });
    return getJson(url, "slots").then(function (payload) {
      state.slots = (payload.creneaux || []).map(function (item) { return slotFromJson(item, payload.date || day); });
      state.slotsFailed = false;
      finishSlots();
      renderSlots();
      markUnavailable(payload.date || day, payload.duree || state.duration, state.slots);
    }, function (error) {
      if (isAbort(error)) {
        return;
      }
      state.slots = [];
      state.slotsFailed = true;
      finishSlots();
      renderSlots();
      setError("slots", error.userMessage || MESSAGES.slots);
    });
  }

  function finishSlots() {
    el.slots.removeAttribute("aria-busy");
    el.slots.classList.remove("is-loading");
  }

  function toggleSlot(key) {
    var slot = state.slots.filter(function (s) { return s.key === key; })[0];
    if (!slot) {
      return;
    }
    if (selectedItem(key)) {
      removeFromSelection(key);
      return;
    }
    if (state.selection.some(function (item) { return overlaps(item, slot); })) {
      return;
    }
    state.selection.push({
      key: slot.key,
      debut: slot.debut,
      start: slot.start,
      end: slot.end,
      date: slot.date,
      time: slot.time,
      timeEnd: slot.timeEnd,
      duration: slot.duration,
      cents: slot.cents,
      tutor: state.tutor,
      unavailable: false,
    });
    state.selection.sort(function (a, b) { return a.start - b.start; });
    selectionChanged();
  }

  function removeFromSelection(key) {
    state.selection = state.selection.filter(function (item) { return item.key !== key; });
    selectionChanged();
  }

  function selectionChanged() {
    el.selectionNote.textContent = "";
    setError("cart", null);
    renderSlotStates();
    renderSelection();
  }

  // After a refused addition: flag the selected sessions that the server no longer offers.
  function markUnavailable(date, duration, slots) {
    var offered = {};
    slots.forEach(function (slot) { offered[slot.key] = true; });
    var changed = false;
    state.selection.forEach(function (item) {
      if (item.date === date && item.duration === duration && item.tutor === state.tutor) {
        var gone = !offered[item.key];
        changed = changed || gone !== item.unavailable;
        item.unavailable = gone;
      }
    });
    if (changed) {
      renderSelection();
    }
  }

  function recheckSelection() {
    var groups = {};
    state.selection.forEach(function (item) {
      groups[item.date + "|" + item.duration] = { date: item.date, duration: item.duration };
    });
    Object.keys(groups).forEach(function (name) {
      var group = groups[name];
      if (group.date === state.day && group.duration === state.duration) {
        return; // loadSlots() checks the day on screen
      }
      var url = withParams(config.slotsUrl, { date: group.date, duree: group.duration, tuteur: state.tutor });
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (payload) {
          if (payload) {
            markUnavailable(group.date, group.duration, (payload.creneaux || []).map(function (item) {
              return slotFromJson(item, group.date);
            }));
          }
        })
        .catch(function () { /* the error box already explains the refusal */ });
    });
  }

  /* ---------- selection summary ---------- */

  function renderSelection() {
    var count = state.selection.length;
    el.selection.hidden = false;
    el.selectionList.textContent = "";
    state.selection.forEach(function (item) {
      var when = longDate(item.date);
      var hours = item.time + " – " + item.timeEnd;
      var remove = h("button", {
        type: "button",
        className: "remove",
        "data-key": item.key,
        "aria-label": "Retirer la séance du " + when + ", " + hours,
        title: "Retirer",
        text: "×",
      });
      el.selectionList.appendChild(h("li", {
        className: "selection-item" + (item.unavailable ? " is-unavailable" : ""),
        "data-key": item.key,
      }, [
        h("div", { className: "selection-when" }, [
          h("span", { className: "selection-date", text: when }),
          h("span", { className: "selection-hours muted", text: hours + " · " + DURATION_LABELS[item.duration] }),
          item.unavailable ? h("span", { className: "tag", text: MESSAGES.gone }) : null,
        ]),
        h("span", { className: "selection-price", text: money(item.cents) }),
        remove,
      ]));
    });
    var total = state.selection.reduce(function (sum, item) { return sum + item.cents; }, 0);
    el.total.textContent = money(total);
    el.selectionEmpty.hidden = count > 0;
    el.totalRow.hidden = count === 0;
    el.continueButton.hidden = count === 0;
    el.continueButton.disabled = state.submitting;
    el.continueButton.textContent = state.submitting
      ? "Ajout au panier…"
      : "Continuer vers le panier (" + count + (count > 1 ? " séances)" : " séance)");
  }

  function submitSelection() {
    if (state.submitting || !state.selection.length) {
      return;
    }
    state.submitting = true;
    setError("cart", null);
    renderSelection();
    el.continueButton.setAttribute("aria-busy", "true");
    var tutor = state.selection[0].tutor;
    var body = {
      cours: config.course,
      tuteur: tutor ? Number(tutor) : null,
      creneaux: state.selection.map(function (item) { return { debut: item.debut, duree: item.duration }; }),
    };
    fetch(config.addUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": config.csrf,
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (payload) {
        if (!response.ok || !payload || !payload.ok) {
          throw requestError(response.status, payload);
        }
      });
    }).then(function () {
      // Emptied first, so that coming back to this page does not offer the same slots again.
      state.selection = [];
      window.location.assign(config.cartUrl);
    }, function (error) {
      state.submitting = false;
      el.continueButton.removeAttribute("aria-busy");
      setError("cart", error.userMessage || MESSAGES.cart);
      renderSelection();
      // One of the slots may have just been taken: show what is still free.
      loadSlots({ keep: true });
      loadMonth();
      recheckSelection();
      el.error.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  }

  /* ---------- tutor ---------- */

  function chooseTutor(value) {
    state.tutor = value || null;
    if (state.selection.length) {
      state.selection = [];
      renderSelection();
      setError("cart", null);
      el.selectionNote.textContent = MESSAGES.tutorChanged;
    }
    syncAddress();
    renderDurations();
    loadMonth();
    loadSlots({ keep: false });
  }

  /* ---------- wiring ---------- */

  function plainClick(event) {
    return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
  }

  function onClick(event) {
    var target = event.target;
    if (event.defaultPrevented) {
      return;
    }
    // Links keep working as links when opened in a new tab or window.
    var duration = target.closest(".durations .duration");
    if (duration) {
      if (plainClick(event)) {
        event.preventDefault();
        chooseDuration(Number(duration.dataset.duration));
      }
      return;
    }
    var nav = target.closest(".month-nav button[data-month]");
    if (nav) {
      showMonth(nav.dataset.month);
      return;
    }
    var day = target.closest(".month-days a.day.available");
    if (day) {
      if (plainClick(event)) {
        event.preventDefault();
        chooseDay(day.dataset.date);
      }
      return;
    }
    var slot = target.closest("#slots button.slot[data-key]");
    if (slot) {
      if (!slot.disabled) {
        toggleSlot(slot.dataset.key);
      }
      return;
    }
    var remove = target.closest("#selection-list button.remove");
    if (remove) {
      var item = remove.closest(".selection-item");
      var next = item.nextElementSibling || item.previousElementSibling;
      var nextKey = next ? next.dataset.key : null;
      removeFromSelection(remove.dataset.key);
      // Keep the keyboard where it was: on the neighbouring line, or on the summary heading.
      var focusTarget = nextKey
        ? el.selectionList.querySelector('.selection-item[data-key="' + nextKey + '"] button.remove')
        : null;
      if (focusTarget) {
        focusTarget.focus();
      } else {
        el.selection.querySelector("h2").setAttribute("tabindex", "-1");
        el.selection.querySelector("h2").focus();
      }
    }
  }

  function start() {
    root.classList.add("js");
    state.openDays = new Set(Array.prototype.map.call(
      el.monthDays.querySelectorAll("a.day.available"), function (link) { return link.dataset.date; }
    ));
    state.slots = state.day ? slotsFromPage() : [];
    buildMonthNav();
    renderCalendar();
    renderDurations();
    renderSlotsTitle();
    renderSlots();
    renderSelection();

    root.addEventListener("click", onClick);
    el.continueButton.addEventListener("click", submitSelection);
    if (el.tutor) {
      el.tutor.addEventListener("change", function () { chooseTutor(el.tutor.value); });
      // The picker's form would reload the page; the change event already did the work.
      el.tutor.form.addEventListener("submit", function (event) {
        event.preventDefault();
        chooseTutor(el.tutor.value);
      });
    }
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        // Back from the cart: what was free a minute ago may be held now.
        state.submitting = false;
        el.continueButton.removeAttribute("aria-busy");
        renderSelection();
        loadMonth();
        loadSlots({ keep: true });
      }
    });

    // The first bookable month can end before its first free day: then open on the next one.
    var chosenMonth = new URLSearchParams(window.location.search).has("mois");
    var next = addMonths(state.month, 1);
    if (!state.day && !chosenMonth && state.openDays.size === 0 && canShowMonth(next)) {
      showMonth(next);
    }
  }

  start();
}());
