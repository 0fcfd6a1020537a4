/**
 * The dashboard's browser script, served at `app.js` (a TS string so `npm run build` ships it).
 * Plain ES2017, no framework. Every value from the server reaches the page through `textContent`
 * or a validated attribute, never through HTML parsing, so a group or host name holding markup
 * shows as text. The server renders the same markup into the first HTML (see `../render.ts`).
 */
import { HOST_COLUMNS } from '../render.js';

export const SCRIPT = String.raw`
(function () {
  'use strict';
  var BREAKERS = { closed: 'closed', open: 'open', 'half-open': 'half-open', off: 'off' };
  var HEALTH_CHECKS = { passing: 'passing', failing: 'failing', unknown: 'unknown' };
  var FORCED = { open: 'open', closed: 'closed' };
  var COLOR = /^#[0-9a-f]{6}$/;
  var SVG = 'http://www.w3.org/2000/svg';
  var groupsEl = document.getElementById('groups');
  var totalsEl = document.getElementById('totals');
  var statusEl = document.getElementById('status');
  var updatedEl = document.getElementById('updated');

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
