/**
 * The dashboard's browser script, served at `app.js` (a TS string so `npm run build` ships it).
 * Plain ES2017, no framework. Every value from the server reaches the page through `textContent`
 * or a validated attribute, never through HTML parsing, so a group or host name holding markup
 * shows as text. The server renders the same markup into the first HTML (see `../render.ts`).
 */
import { HOST_COLUMNS } from '../render.js';
import { TIMELINE_COLUMNS } from '../render-timeline.js';

export const SCRIPT = String.raw`
(function () {
  'use strict';
  var BREAKERS = { closed: 'closed', open: 'open', 'half-open': 'half-open', off: 'off' };
  var HEALTH_CHECKS = { passing: 'passing', failing: 'failing', unknown: 'unknown' };
  var FORCED = { open: 'open', closed: 'closed' };
  var KIND = /^[a-z][a-z-]{0,31}$/;
  var COLOR = /^#[0-9a-f]{6}$/;
  var SVG = 'http://www.w3.org/2000/svg';
  var groupsEl = document.getElementById('groups');
  var totalsEl = document.getElementById('totals');
  var statusEl = document.getElementById('status');
  var updatedEl = document.getElementById('updated');
  var slowEl = document.getElementById('slow');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }
  function fixed(v) { v = num(v); return v >= 100 ? String(Math.round(v)) : v.toFixed(1); }
  function ms(v) { return fixed(v) + ' ms'; }
  function dur(v) {
    v = num(v) / 1000;
    if (v < 60) return Math.floor(v) + ' s';
    if (v < 3600) return Math.floor(v / 60) + ' min';
    return Math.floor(v / 3600) + ' h';
  }
  function stat(label, value, color) {
    var d = el('div', 'stat');
    d.appendChild(el('span', 'label', label));
    var v = el('span', 'value', value);
    if (typeof color === 'string' && COLOR.test(color)) v.style.color = color;
    d.appendChild(v);
    return d;
  }
  function traffic(t) {
    return [
      stat('calls/s', fixed(t.callsPerSecond)),
      stat('error %', fixed(t.errorPercent) + ' %', t.errorColor),
      stat('p50', ms(t.p50)),
      stat('p90', ms(t.p90)),
      stat('p99', ms(t.p99)),
      stat('retries/s', fixed(t.retriesPerSecond)),
      stat('fail-fast/s', fixed(t.failFastPerSecond)),
    ];
  }
  function sparkline(values) {
    var w = 200, h = 40;
    var list = Array.isArray(values) ? values.map(num) : [];
    var max = Math.max.apply(null, list.concat([1]));
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('preserveAspectRatio', 'none');
    var line = document.createElementNS(SVG, 'polyline');
    var step = list.length > 1 ? w / (list.length - 1) : w;
    line.setAttribute('points', list.map(function (v, i) {
      return (i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1);
    }).join(' '));
    svg.appendChild(line);
    var box = el('div', 'spark');
    box.appendChild(svg);
    box.appendChild(el('div', 'caption', 'p90 per second, last ' + list.length + ' s (max ' + ms(max) + ')'));
    return box;
  }
  function hostRow(hst) {
    var state = BREAKERS[hst.breaker] || 'closed';
    var forced = Object.prototype.hasOwnProperty.call(FORCED, hst.breakerForced) ? FORCED[hst.breakerForced] : '';
    var tr = el('tr', 'host breaker-' + state);
    tr.setAttribute('data-key', String(hst.key));
    tr.setAttribute('data-breaker', state);
    if (forced) tr.setAttribute('data-forced', forced);
    var keyCell = el('td', '', hst.key);
    var hc = Object.prototype.hasOwnProperty.call(HEALTH_CHECKS, hst.healthCheck) ? HEALTH_CHECKS[hst.healthCheck] : '';
    if (hc) {
      // Active health checks: a small tag beside the host ('hc failing' in the open colour), not a
      // .badge: the breaker's badge stays the row's first.
      tr.setAttribute('data-health-check', hc);
      keyCell.appendChild(el('span', 'hc ' + hc, 'hc ' + hc));
    }
    tr.appendChild(keyCell);
    tr.appendChild(el('td', '', hst.weight));
    var b = el('td');
    var keys = num(hst.breakerKeys);
    var label = keys > 1 ? state + ' ' + num(hst.openBreakers) + '/' + keys : state;
    b.appendChild(el('span', 'badge ' + state + (forced ? ' forced' : ''), forced ? label + ' (forced)' : label));
    tr.appendChild(b);
    tr.appendChild(el('td', '', hst.breakerForMs > 0 ? dur(hst.breakerForMs) : '-'));
    var fail = el('td');
    var rate = el('span', '', fixed(hst.failurePercent) + ' %');
    if (COLOR.test(String(hst.errorColor))) rate.style.color = hst.errorColor;
    fail.appendChild(rate);
    tr.appendChild(fail);
    tr.appendChild(el('td', '', num(hst.total)));
    tr.appendChild(el('td', '', num(hst.inFlight)));
    tr.appendChild(el('td', '', ms(hst.p50)));
    tr.appendChild(el('td', '', ms(hst.p99)));
    tr.appendChild(el('td', '', ms(hst.balancerCostMs)));
    tr.appendChild(el('td', '', num(hst.ok) + ' / ' + num(hst.errors) + ' / ' + num(hst.timeouts)));
    return tr;
  }
  var HEAD = ${JSON.stringify(HOST_COLUMNS)};
  function card(g) {
    var c = el('section', 'card');
    c.setAttribute('data-group', String(g.name));
    c.appendChild(el('h2', '', g.name));
    var summary = el('div', 'summary');
    traffic(g).forEach(function (s) { summary.appendChild(s); });
    var bh = g.bulkhead;
    if (bh && typeof bh === 'object') {
      summary.appendChild(stat('in progress', num(bh.active) + ' / ' + num(bh.maxConcurrentCalls)));
      summary.appendChild(stat('queued', num(bh.queued) + ' / ' + num(bh.maxQueued)));
      summary.appendChild(stat('overloaded', num(bh.overloaded)));
    }
    summary.appendChild(sparkline(g.sparkline));
    c.appendChild(summary);
    var table = el('table');
    var head = el('tr');
    HEAD.forEach(function (h) {
      var th = el('th', '', h[0]);
      th.setAttribute('title', h[1]);
      head.appendChild(th);
    });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el('tbody');
    (g.hosts || []).forEach(function (h) { body.appendChild(hostRow(h)); });
    table.appendChild(body);
    c.appendChild(table);
    return c;
  }
  var TIMELINE_HEAD = ${JSON.stringify(TIMELINE_COLUMNS)};
  function wholeMs(v) { return Math.round(num(v)) + ' ms'; }
  function bar(e, callMs) {
    var total = Math.max(1, num(callMs));
    var x = Math.min(100, Math.max(0, 100 * num(e.atMs) / total));
    var w = e.durationMs === undefined ? 0.6 : Math.max(0.6, 100 * num(e.durationMs) / total);
    w = Math.min(w, 100 - x + 0.6);
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 100 8');
    svg.setAttribute('preserveAspectRatio', 'none');
    var rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('class', e.failed === true ? 'failed' :
      e.durationMs !== undefined || e.address !== undefined ? 'attempt' : 'decision');
    rect.setAttribute('x', x.toFixed(2));
    rect.setAttribute('y', '1');
    rect.setAttribute('width', w.toFixed(2));
    rect.setAttribute('height', '6');
    svg.appendChild(rect);
    var td = el('td', 'bar');
    td.appendChild(svg);
    return td;
  }
  function entryRow(e, callMs) {
    var kind = KIND.test(String(e.kind)) ? String(e.kind) : 'other';
    var tr = el('tr', 'entry kind-' + kind + (e.failed === true ? ' failed' : ''));
    tr.setAttribute('data-kind', String(e.kind));
    tr.appendChild(el('td', '', '+' + wholeMs(e.atMs)));
    tr.appendChild(el('td', '', e.kind));
    tr.appendChild(el('td', '', e.address === undefined ? '' : e.address));
    tr.appendChild(el('td', '', e.durationMs === undefined ? '' : wholeMs(e.durationMs)));
    tr.appendChild(el('td', '', e.outcome === undefined ? '' : e.outcome));
    tr.appendChild(el('td', '', e.detail));
    tr.appendChild(bar(e, callMs));
    return tr;
  }
  function startedAt(start) {
    var d = new Date(num(start));
    return isNaN(d.getTime()) ? '' : d.toISOString().slice(11, 23) + ' UTC';
  }
  function slowCall(c) {
    var a = el('article', 'slow-call');
    a.setAttribute('data-call-id', String(num(c.callId)));
    var h = el('h3');
    h.appendChild(el('span', 'method', c.method));
    h.appendChild(document.createTextNode(' '));
    h.appendChild(el('span', 'group', c.group));
    h.appendChild(document.createTextNode(' '));
    h.appendChild(el('span', 'path', c.path));
    a.appendChild(h);
    a.appendChild(el('div', 'meta', wholeMs(c.durationMs) + ' · ' + c.outcome + ' · started ' + startedAt(c.start)));
    var table = el('table', 'timeline');
    var head = el('tr');
    TIMELINE_HEAD.forEach(function (t) { head.appendChild(el('th', '', t)); });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el('tbody');
    (Array.isArray(c.entries) ? c.entries : []).forEach(function (e) { body.appendChild(entryRow(e, c.durationMs)); });
    table.appendChild(body);
    a.appendChild(table);
    return a;
  }
  function renderSlow(view) {
    if (!Array.isArray(view.slowCalls)) { slowEl.replaceChildren(); return; }
    var parts = [el('h2', '', 'Slow calls (' + wholeMs(view.slowCallMs) + ' or more), newest first')];
    if (view.slowCalls.length === 0) {
      parts.push(el('p', 'empty', 'No call has taken ' + wholeMs(view.slowCallMs) + ' or more yet.'));
    } else {
      view.slowCalls.forEach(function (c) { parts.push(slowCall(c)); });
    }
    slowEl.replaceChildren.apply(slowEl, parts);
  }
  function render(view) {
    var figures = traffic(view);
    if (typeof view.client === 'string') figures.unshift(el('span', 'client', 'totals of ' + view.client));
    totalsEl.replaceChildren.apply(totalsEl, figures);
    var groups = Array.isArray(view.groups) ? view.groups : [];
    if (groups.length === 0) {
      groupsEl.replaceChildren(el('p', 'empty', 'No group yet: make a call, or client.register(name, group).'));
    } else {
      groupsEl.replaceChildren.apply(groupsEl, groups.map(card));
    }
    renderSlow(view);
    updatedEl.textContent = 'rates, error % and percentiles over the last ' + dur(view.windowMs) +
      '; updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-updates', String(num(Number(document.body.getAttribute('data-updates'))) + 1));
  }
  function status(text) {
    statusEl.textContent = text;
    statusEl.className = 'status ' + text;
  }
  var source = new EventSource('events');
  source.onopen = function () { status('live'); };
  source.onerror = function () { status('reconnecting'); };
  source.onmessage = function (m) {
    var view;
    try { view = JSON.parse(m.data); } catch (e) { return; }
    render(view);
  };
})();
`;
