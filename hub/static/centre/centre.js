// Ситуационный центр ЦОПП: a reference page over the hub's public GraphQL API.
// Plain JS + SVG, no build step, nothing loaded from the internet. Every request is a named
// operation below (OPERATIONS); the token is typed once and kept in sessionStorage.
// URL parameters: ?region=52&period=2025 (a wall screen keeps its own URL).
(function () {
  "use strict";

  var TOKEN_KEY = "hub:token";
  var SVG = "http://www.w3.org/2000/svg";

  var OPERATIONS = {
    regions: "query CentreRegions { regions(first: 100) { nodes { code name } } }",
    dashboard: [
      "query CentreDashboard($region: String!, $period: String!) {",
      "  situationalCentre(region: $region, period: $period) {",
      "    ...CentreFigures",
      "  }",
      "}",
    ].join("\n"),
    live: [
      "subscription CentreDashboardLive($region: String!, $period: String!) {",
      "  situationalCentre(region: $region, period: $period) {",
      "    ...CentreFigures",
      "  }",
      "}",
    ].join("\n"),
    fragment: [
      "fragment CentreFigures on SituationalCentre {",
      "  region period previousPeriod periodStart periodEnd asOf",
      "  kpis { key label value previous change series { period value } }",
      "  matrix { competencyCode competencyName municipalityCode municipalityName",
      "           demand supply gap shortage }",
      "  roadmap { number title status statusLabel overdue overduePoints nextDue dueText",
      "            slots { index description target kpi actual progress } }",
      "}",
    ].join("\n"),
    sites: [
      "query CentreSites($region: [String!], $after: String) {",
      "  sites(first: 100, after: $after, filter: {region: $region}) {",
      "    totalCount pageInfo { hasNextPage endCursor }",
      "    nodes { uid name latitude longitude workplaces municipalityCode organizationInn }",
      "  }",
      "}",
    ].join("\n"),
    competencies: [
      "query CentreCompetencies($after: String) {",
      "  competencies(first: 100, after: $after) {",
      "    pageInfo { hasNextPage endCursor } nodes { code name }",
      "  }",
      "}",
    ].join("\n"),
    planner: [
      "query PlannerSitesForCompetency($competency: String!, $cohortSize: Int!, $region: String) {",
      "  sitesForCompetency(competency: $competency, cohortSize: $cohortSize, region: $region,",
      "                     first: 10) {",
      "    totalCount minStaff expertRequired",
      "    nodes { siteUid siteName organizationName coverage fullCoverage workplaces",
      "            satisfiedItems totalItems staffMissing qualifiedStaffCount expertCount",
      "            gaps { equipmentTypeName required available missing } }",
      "  }",
      "}",
    ].join("\n"),
  };

  var state = { region: null, period: null, sites: [], highlighted: {}, ws: null, live: null };
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat("ru-RU");

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function showError(message) {
    var box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function askToken(message) {
    $("login-error").textContent = message || "";
    if (!$("login").open) $("login").showModal();
  }

  function Unauthorized(message) { this.message = message; }

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token() },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response.json().catch(function () {
        throw new Error("Сервер ответил " + response.status + " без данных.");
      }).then(function (body) {
        var errors = body.errors || [];
        var auth = errors.filter(function (e) {
          var code = e.extensions && e.extensions.code;
          return code === "UNAUTHENTICATED" || code === "INVALID_TOKEN";
        });
        if (response.status === 401 || auth.length) {
          throw new Unauthorized((auth[0] && auth[0].message) || "Нужен действующий токен.");
        }
        if (errors.length) throw new Error(errors.map(function (e) { return e.message; }).join("; "));
        return body.data;
      });
    });
  }

  function failed(err) {
    if (err instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY);
      askToken(err.message);
    } else {
      showError("Ошибка: " + (err && err.message ? err.message : err));
    }
  }

  // ---------------------------------------------------------------- pickers
  function periodChoices() {
    var year = new Date().getFullYear();
    var list = [];
    for (var y = year; y >= year - 3; y--) {
      list.push([String(y), y + " год"]);
      for (var q = 4; q >= 1; q--) list.push([y + "-Q" + q, y + ", " + q + " квартал"]);
    }
    return list;
  }

  function fillSelect(select, options, value) {
    clear(select);
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (o[0] === value) opt.selected = true;
      select.appendChild(opt);
    });
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    return { region: params.get("region"), period: params.get("period") };
  }

  function writeUrl() {
    var params = new URLSearchParams(window.location.search);
    params.set("region", state.region);
    params.set("period", state.period);
    history.replaceState(null, "", "?" + params.toString());
  }

  // ---------------------------------------------------------------- KPI tiles
  function sparkline(series) {
    var w = 160, h = 40, pad = 3;
    var values = series.map(function (p) { return p.value; });
    var max = Math.max.apply(null, values.concat([1]));
    var step = values.length > 1 ? (w - 2 * pad) / (values.length - 1) : 0;
    var points = values.map(function (v, i) {
      return [pad + i * step, h - pad - (v / max) * (h - 2 * pad)];
    });
    var box = svg("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h,
                           class: "spark", role: "img" });
    box.appendChild(svg("title", {}, series.map(function (p) {
      return p.period + ": " + fmt.format(p.value);
    }).join("\n")));
    var half = Math.floor(values.length / 2);  // previous period, then the period
    if (half > 0 && step > 0) {
      box.appendChild(svg("rect", { x: pad + half * step - step / 2, y: 0,
                                    width: w - pad - (pad + half * step - step / 2), height: h,
                                    class: "spark-current" }));
    }
    box.appendChild(svg("polyline", { points: points.map(function (p) { return p.join(","); }).join(" "),
                                      class: "spark-line" }));
    points.forEach(function (p, i) {
      box.appendChild(svg("circle", { cx: p[0], cy: p[1], r: 2,
                                      class: i >= half ? "spark-dot now" : "spark-dot" }));
    });
    return box;
  }

  function tile(kpi) {
    var change = kpi.change;
    var sign = change > 0 ? "▲ +" : change < 0 ? "▼ −" : "■ ";
    var node = el("article", { cls: "tile", "data-kpi": kpi.key }, [
      el("h3", { text: kpi.label }),
      el("p", { cls: "value", text: fmt.format(kpi.value) }),
      el("p", { cls: "change " + (change > 0 ? "up" : change < 0 ? "down" : "same"),
                text: sign + fmt.format(Math.abs(change)) + " к пред. периоду (" +
                      fmt.format(kpi.previous) + ")" }),
    ]);
    node.appendChild(sparkline(kpi.series));
    return node;
  }

  function renderKpis(sc) {
    var main = clear($("kpis")), more = clear($("kpis-more"));
    sc.kpis.forEach(function (k) { (k.key.indexOf(".") < 0 ? main : more).appendChild(tile(k)); });
    $("period-note").textContent = "период " + sc.period + " (" + sc.periodStart + " — " +
      sc.periodEnd + "), сравнение с " + sc.previousPeriod;
    if (!window.__firstKpi) {
      window.__firstKpi = performance.now();
      performance.mark("first-kpi");
    }
  }

  // ---------------------------------------------------------------- roadmap
  function renderRoadmap(sc) {
    var overdue = sc.roadmap.filter(function (a) { return a.overdue; });
    $("roadmap-note").textContent = sc.roadmap.length
      ? "мероприятий " + sc.roadmap.length + ", просрочено " + overdue.length + " (на " + sc.asOf + ")"
      : "не загружена (hub roadmap init)";
    var list = clear($("overdue"));
    if (!overdue.length) list.appendChild(el("li", { cls: "muted", text: "Просроченных нет." }));
    overdue.forEach(function (a) {
      list.appendChild(el("li", { "data-number": a.number }, [
        el("strong", { text: a.number + ". " }),
        el("span", { text: a.title }),
        el("span", { cls: "badge", text: a.statusLabel }),
        el("span", { cls: "late", text: "срок: " + a.overduePoints.join(", ") }),
      ]));
    });
    var body = clear($("slots").tBodies[0]);
    sc.roadmap.forEach(function (a) {
      a.slots.forEach(function (s) {
        var progress = s.progress == null ? null : Math.max(0, Math.min(1, s.progress));
        var bar = el("div", { cls: "bar" }, [el("div", {
          cls: "fill" + (progress != null && progress < 1 ? " behind" : ""),
          style: "width:" + Math.round((progress || 0) * 100) + "%" })]);
        body.appendChild(el("tr", {}, [
          el("td", { text: a.number + "." + s.index }),
          el("td", { text: s.description || a.title, title: a.title }),
          el("td", { cls: "num", text: s.target == null ? "—" : fmt.format(s.target) }),
          el("td", { cls: "num", text: s.actual == null ? "—" : fmt.format(s.actual) }),
          el("td", {}, [bar, el("span", { cls: "pct",
            text: progress == null ? "" : Math.round(s.progress * 100) + "%" })]),
        ]));
      });
    });
  }

  // ---------------------------------------------------------------- heatmap
  function renderMatrix(sc) {
    var box = clear($("matrix"));
    if (!sc.matrix.length) { box.appendChild(el("p", { cls: "muted", text: "Нет данных." })); return; }
    var comps = {}, munis = {};
    sc.matrix.forEach(function (c) {
      comps[c.competencyCode] = c.competencyName;
      munis[c.municipalityCode] = c.municipalityName;
    });
    var compCodes = Object.keys(comps).sort(function (a, b) {  // most short first
      var s = function (code) { return sc.matrix.filter(function (c) {
        return c.competencyCode === code && c.shortage; }).length; };
      return s(b) - s(a) || a.localeCompare(b);
    });
    var muniCodes = Object.keys(munis).sort(function (a, b) { return munis[a].localeCompare(munis[b]); });
    var cell = {};
    sc.matrix.forEach(function (c) { cell[c.competencyCode + "|" + c.municipalityCode] = c; });
    var maxGap = Math.max.apply(null, sc.matrix.map(function (c) { return Math.abs(c.gap); }).concat([1]));
    var left = 300, top = 110, cw = 46, ch = 18;
    var w = left + muniCodes.length * cw + 10, h = top + compCodes.length * ch + 10;
    var root = svg("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h, class: "heat" });
    muniCodes.forEach(function (m, j) {
      var x = left + j * cw + cw / 2;
      root.appendChild(svg("text", { x: x, y: top - 6, class: "col",
        transform: "rotate(-45 " + x + " " + (top - 6) + ")" }, munis[m]));
    });
    compCodes.forEach(function (c, i) {
      var y = top + i * ch;
      root.appendChild(svg("text", { x: left - 6, y: y + ch - 5, class: "row" },
        (comps[c].length > 38 ? comps[c].slice(0, 37) + "…" : comps[c])));
      muniCodes.forEach(function (m, j) {
        var v = cell[c + "|" + m];
        var rect = svg("rect", { x: left + j * cw + 1, y: y + 1, width: cw - 2, height: ch - 2,
                                 class: "cell" + (v && v.shortage ? " shortage" : "") });
        var alpha = v ? 0.15 + 0.85 * Math.abs(v.gap) / maxGap : 0;
        rect.setAttribute("fill", !v ? "#1d2633" : v.gap > 0
          ? "rgba(230, 70, 60," + alpha.toFixed(2) + ")"
          : "rgba(60, 170, 110," + alpha.toFixed(2) + ")");
        rect.appendChild(svg("title", {}, v
          ? comps[c] + " — " + munis[m] + "\nспрос " + v.demand + ", предложение " + v.supply +
            ", разрыв " + v.gap + (v.shortage ? " (дефицит)" : "")
          : comps[c] + " — " + munis[m] + ": нет данных"));
        root.appendChild(rect);
        if (v && v.gap !== 0) {
          root.appendChild(svg("text", { x: left + j * cw + cw / 2, y: y + ch - 5, class: "val" },
                               String(v.gap)));
        }
      });
    });
    box.appendChild(root);
    var shortages = sc.matrix.filter(function (c) { return c.shortage; }).length;
    box.appendChild(el("p", { cls: "muted", text: "Дефицит в " + shortages + " из " +
      sc.matrix.length + " сочетаний компетенции и муниципалитета." }));
  }

  // ---------------------------------------------------------------- sites scatter
  function loadSites() {
    var all = [];
    function page(after, n) {
      return graphql(OPERATIONS.sites, { region: [state.region], after: after }).then(function (d) {
        all = all.concat(d.sites.nodes);
        if (d.sites.pageInfo.hasNextPage && n < 50) return page(d.sites.pageInfo.endCursor, n + 1);
        return all;
      });
    }
    return page(null, 0).then(function (sites) { state.sites = sites; renderSites(); });
  }

  function renderSites() {
    var box = clear($("sites-map"));
    var located = state.sites.filter(function (s) { return s.latitude != null && s.longitude != null; });
    $("sites-note").textContent = "всего " + state.sites.length + ", с координатами " + located.length;
    if (!located.length) { box.appendChild(el("p", { cls: "muted", text: "Нет площадок с координатами." })); return; }
    var lats = located.map(function (s) { return s.latitude; });
    var lons = located.map(function (s) { return s.longitude; });
    var minLat = Math.min.apply(null, lats), maxLat = Math.max.apply(null, lats);
    var minLon = Math.min.apply(null, lons), maxLon = Math.max.apply(null, lons);
    var k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);  // equirectangular
    var spanX = Math.max((maxLon - minLon) * k, 0.01), spanY = Math.max(maxLat - minLat, 0.01);
    var w = 560, pad = 24, h = Math.round(Math.min(520, Math.max(240, (w - 2 * pad) * spanY / spanX + 2 * pad)));
    var scale = Math.min((w - 2 * pad) / spanX, (h - 2 * pad) / spanY);
    var root = svg("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h, class: "scatter",
                            role: "img" });
    root.appendChild(svg("rect", { x: 0, y: 0, width: w, height: h, class: "scatter-bg" }));
    var maxWp = Math.max.apply(null, located.map(function (s) { return s.workplaces || 0; }).concat([1]));
    located.forEach(function (s) {
      var x = pad + (s.longitude - minLon) * k * scale;
      var y = h - pad - (s.latitude - minLat) * scale;
      var rank = state.highlighted[s.uid];
      var dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1),
        r: (3 + 6 * Math.sqrt((s.workplaces || 0) / maxWp)).toFixed(1),
        class: "site" + (rank ? " picked" : ""), "data-uid": s.uid });
      dot.appendChild(svg("title", {}, s.name + "\n" + s.uid + "\nрабочих мест: " + s.workplaces));
      root.appendChild(dot);
      if (rank) root.appendChild(svg("text", { x: x + 8, y: y - 6, class: "rank" }, String(rank)));
    });
    box.appendChild(root);
  }

  // ---------------------------------------------------------------- planner
  function loadCompetencies() {
    var all = [];
    function page(after, n) {
      return graphql(OPERATIONS.competencies, { after: after }).then(function (d) {
        all = all.concat(d.competencies.nodes);
        if (d.competencies.pageInfo.hasNextPage && n < 20) return page(d.competencies.pageInfo.endCursor, n + 1);
        return all;
      });
    }
    return page(null, 0).then(function (list) {
      fillSelect($("competency"), list.map(function (c) { return [c.code, c.code + " — " + c.name]; }),
                 $("competency").value);
    });
  }

  function plan(event) {
    if (event) event.preventDefault();
    var competency = $("competency").value, size = parseInt($("cohort").value, 10);
    if (!competency || !(size > 0)) return;
    $("planner-note").textContent = "Подбор…";
    graphql(OPERATIONS.planner, { competency: competency, cohortSize: size, region: state.region })
      .then(function (d) {
        var r = d.sitesForCompetency;
        $("planner-note").textContent = "Подходящих площадок: " + r.totalCount +
          ". Требуется педагогов: " + r.minStaff + (r.expertRequired ? ", нужен эксперт." : ".");
        var body = clear($("planner-result").tBodies[0]);
        state.highlighted = {};
        r.nodes.forEach(function (s, i) {
          state.highlighted[s.siteUid] = i + 1;
          var gaps = s.gaps.map(function (g) {
            return g.equipmentTypeName + ": не хватает " + g.missing + " из " + g.required;
          });
          if (s.staffMissing) gaps.unshift("не хватает квалифицированных педагогов");
          body.appendChild(el("tr", { cls: s.fullCoverage ? "full" : "" }, [
            el("td", { text: String(i + 1) }),
            el("td", { text: s.siteName, title: s.siteUid }),
            el("td", { text: s.organizationName }),
            el("td", { cls: "num", text: Math.round(s.coverage * 100) + "% (" + s.satisfiedItems +
                                         "/" + s.totalItems + ")" }),
            el("td", { cls: "num", text: String(s.workplaces) }),
            el("td", { cls: "num", text: s.qualifiedStaffCount + (s.expertCount ? " (экспертов " + s.expertCount + ")" : "") }),
            el("td", { text: gaps.length ? gaps.join("; ") : "всё есть" }),
          ]));
        });
        $("planner-result").hidden = false;
        renderSites();
      })
      .catch(function (err) { $("planner-note").textContent = ""; failed(err); });
  }

  // ---------------------------------------------------------------- dashboard
  function render(sc) {
    showError("");
    renderKpis(sc);
    renderRoadmap(sc);
    renderMatrix(sc);
    $("updated").textContent = "обновлено " + new Date().toLocaleTimeString("ru-RU");
    document.body.setAttribute("data-rendered", String(Date.now()));
  }

  function loadDashboard() {
    return graphql(OPERATIONS.dashboard + "\n" + OPERATIONS.fragment,
                   { region: state.region, period: state.period })
      .then(function (d) { render(d.situationalCentre); });
  }

  // ---------------------------------------------------------------- live updates
  // graphql-transport-ws by hand: connection_init (token) → subscribe → next…; reconnects.
  function live() {
    if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
    if (!window.WebSocket) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
    var ws = new WebSocket(url, "graphql-transport-ws");
    var indicator = $("live");
    state.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "connection_init",
                               payload: { Authorization: "Bearer " + token() } }));
    };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "centre", type: "subscribe", payload: {
          query: OPERATIONS.live + "\n" + OPERATIONS.fragment,
          operationName: "CentreDashboardLive",
          variables: { region: state.region, period: state.period } } }));
        indicator.className = "live on";
        indicator.title = "Обновления в реальном времени: подключено";
      } else if (msg.type === "next" && msg.payload && msg.payload.data) {
        render(msg.payload.data.situationalCentre);
      } else if (msg.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (msg.type === "error") {
        indicator.className = "live off";
        indicator.title = "Обновления недоступны: " + (msg.payload && msg.payload[0] ? msg.payload[0].message : "");
      }
    };
    ws.onclose = function (event) {
      indicator.className = "live off";
      indicator.title = "Обновления в реальном времени: нет соединения";
      if (state.ws !== ws || event.code === 4403 || event.code === 4401) return;
      setTimeout(function () { if (state.ws === ws) live(); }, 3000);
    };
  }

  // ---------------------------------------------------------------- start
  function show() {
    state.region = $("region").value;
    state.period = $("period").value;
    writeUrl();
    state.highlighted = {};
    $("planner-result").hidden = true;
    return Promise.all([loadDashboard(), loadSites()]).then(live).catch(failed);
  }

  function start() {
    var wanted = readUrl();
    fillSelect($("period"), periodChoices(), wanted.period || String(new Date().getFullYear()));
    if (wanted.period && $("period").value !== wanted.period) {  // e.g. a range: keep it
      $("period").appendChild(el("option", { value: wanted.period, text: wanted.period }));
      $("period").value = wanted.period;
    }
    graphql(OPERATIONS.regions).then(function (d) {
      var regions = d.regions.nodes.map(function (r) { return [r.code, r.code + " — " + r.name]; });
      if (!regions.length) { showError("В хабе нет ни одного региона."); return; }
      fillSelect($("region"), regions, wanted.region || regions[0][0]);
      show();
      loadCompetencies().catch(failed);
    }).catch(failed);
  }

  $("login-form").addEventListener("submit", function () {
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
    askToken("");
  });
  $("picker").addEventListener("submit", function (e) { e.preventDefault(); show(); });
  $("planner").addEventListener("submit", plan);

  if (token()) start(); else askToken("");
})();
