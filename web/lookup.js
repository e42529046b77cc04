(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("page-texts").textContent);
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }
  each(".js-only", function (el) { el.hidden = false; });

  // Letters folded as people type them without æ/ø/å ("koege", "koge", "korsel" all find Køge, kørsel).
  function fold(text) {
    return text.toLowerCase().replace(/æ/g, "ae").replace(/ø/g, "oe").replace(/å/g, "aa")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/ae/g, "e").replace(/oe/g, "o").replace(/aa/g, "a");
  }
  var input = document.getElementById("filter");
  var chooser = document.getElementById("kommune");
  var table = document.querySelector("#matrix table");
  var status = document.getElementById("filter-status");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
  var names = JSON.parse(document.getElementById("page-kommuner").textContent); // id -> names, folded below
  Object.keys(names).forEach(function (id) { names[id] = names[id].map(fold); });
  var timer = null;
  // A word that names a municipality chooses its column; the other words must all be in a row's answers.
  function kommuneOf(word) {
    return Object.keys(names).filter(function (id) {
      return names[id].some(function (name) { return word.length >= 3 && name.indexOf(word) === 0; });
    })[0] || null;
  }
  function applyFilter() {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var chosen = chooser.value || null;
    var topicWords = [];
    words.forEach(function (word) {
      var id = kommuneOf(word);
      if (id) { chosen = id; } else { topicWords.push(word); }
    });
    each("[data-kommune]", function (el) {
      el.classList.toggle("is-hidden", Boolean(chosen) && el.getAttribute("data-kommune") !== chosen);
    });
    each(".kommune-contacts", function (el) { el.hidden = el.getAttribute("data-contacts") !== chosen; });
    table.classList.toggle("one", Boolean(chosen));
    var shown = 0;
    rows.forEach(function (row) {
      var cells = Array.prototype.filter.call(row.children, function (c) { return !c.classList.contains("is-hidden"); });
      var text = fold(cells.map(function (c) { return c.textContent; }).join(" "));
      var match = topicWords.every(function (word) { return text.indexOf(word) !== -1; });
      row.classList.toggle("is-hidden", !match);
      if (match) { shown += 1; }
    });
    clearTimeout(timer);
    timer = setTimeout(function () {
      status.textContent = fill(texts.filter_count, {count: shown, total: rows.length});
    }, 400);
  }
  input.addEventListener("input", applyFilter);
  chooser.addEventListener("change", applyFilter);
  applyFilter();

  var select = document.getElementById("compare-topic");
  function showCompare() {
    each(".compare-topic", function (el) { el.hidden = el.getAttribute("data-topic") !== select.value; });
  }
  select.addEventListener("change", showCompare);
  showCompare();

  var weekdays = {Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6};
  var clock = new Intl.DateTimeFormat("en-GB", {timeZone: "Europe/Copenhagen", weekday: "short",
                                                hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  function minutes(hhmm) { var p = hhmm.split(":"); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }
  function copenhagenNow() {
    var parts = {};
    clock.formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return {day: weekdays[parts.weekday], minute: (parseInt(parts.hour, 10) % 24) * 60 + parseInt(parts.minute, 10)};
  }
  function updateHours() {
    var now = copenhagenNow();
    each("[data-hours]", function (el) {
      var intervals = JSON.parse(el.getAttribute("data-hours"))[String(now.day)] || [];
      var open = intervals.filter(function (iv) {
        return minutes(iv[0]) <= now.minute && now.minute < minutes(iv[1]);
      })[0];
      el.querySelector(".hours-status").textContent = open
        ? fill(texts.open_now, {until: open[1].replace(":", ".")}) : texts.closed_now;
    });
  }
  updateHours();
  setInterval(updateHours, 60000);
})();
