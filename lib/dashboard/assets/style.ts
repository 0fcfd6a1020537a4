/** The dashboard's stylesheet, served at `app.css` (a TS string so `npm run build` ships it). */
export const STYLE = String.raw`
:root {
  --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #6b7280; --line: #e5e7eb;
  --closed: #2e7d32; --half-open: #f59e0b; --open: #d32f2f; --off: #9ca3af;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px; padding: 12px 20px;
  background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; letter-spacing: .02em; }
header h1 small { font-weight: 400; color: #aab; margin-left: 6px; }
.status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #555; }
.status.live { background: var(--closed); }
.status.reconnecting { background: var(--half-open); color: #222; }
.totals { display: flex; flex-wrap: wrap; gap: 18px; margin-left: auto; }
.stat { display: flex; flex-direction: column; min-width: 64px; }
.stat .label { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
header .stat .label { color: #aab; }
.stat .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
/* One card per row up to ~1470 px, two past it: a card never gets narrower than its host table. */
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 720px), 1fr)); gap: 16px; padding: 16px 20px; }
.card { min-width: 0; overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.card h2 { margin: 0 0 8px; font-size: 15px; font-weight: 600; overflow-wrap: anywhere; }
.card .summary { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 16px; margin-bottom: 10px; }
.spark { margin-left: auto; text-align: right; }
.spark svg { display: block; width: 200px; height: 40px; background: #fafbfc; border: 1px solid var(--line); border-radius: 4px; }
.spark polyline { fill: none; stroke: #3b6fd4; stroke-width: 1.5; }
.spark .caption { font-size: 11px; color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: right; font-size: 10px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; padding: 4px 5px; white-space: nowrap; border-bottom: 1px solid var(--line); }
td { text-align: right; font-size: 13px; padding: 4px 5px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.host td:first-child { border-left: 4px solid var(--closed); font-family: ui-monospace, Menlo, monospace; font-size: 12px;
  white-space: normal; overflow-wrap: anywhere; }
tr.breaker-off td:first-child { border-left-color: var(--off); }
tr.breaker-open { background: #fdecea; }
tr.breaker-open td:first-child { border-left-color: var(--open); }
tr.breaker-half-open { background: #fff7e0; }
tr.breaker-half-open td:first-child { border-left-color: var(--half-open); }
.badge { display: inline-block; min-width: 64px; text-align: center; padding: 1px 8px; border-radius: 10px;
  font-size: 12px; font-weight: 600; color: #fff; }
.badge.closed { background: var(--closed); }
.badge.half-open { background: var(--half-open); color: #222; }
.badge.open { background: var(--open); }
.badge.off { background: var(--off); }
.hc { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 8px; font-size: 11px; color: #fff; }
.hc.passing { background: var(--closed); }
.hc.unknown { background: var(--off); }
.hc.failing { background: var(--open); }
.badge.forced { outline: 2px dashed var(--ink); outline-offset: 1px; }
.slow { padding: 0 20px 16px; }
.slow h2 { margin: 4px 0 8px; font-size: 15px; font-weight: 600; }
.slow-call { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  margin-bottom: 10px; overflow-x: auto; }
.slow-call h3 { margin: 0; font-size: 14px; font-weight: 600; overflow-wrap: anywhere; }
.slow-call h3 .path { font-family: ui-monospace, Menlo, monospace; font-weight: 400; }
.slow-call .meta { color: var(--muted); font-size: 12px; margin: 2px 0 6px; }
table.timeline th, table.timeline td { text-align: left; }
table.timeline td { font-size: 12px; }
table.timeline td:nth-child(1), table.timeline td:nth-child(4) { text-align: right; }
table.timeline td:nth-child(6) { white-space: normal; }
tr.entry.failed td:nth-child(5) { color: var(--open); font-weight: 600; }
td.bar { width: 30%; min-width: 120px; }
td.bar svg { display: block; width: 100%; height: 10px; background: #fafbfc; }
td.bar rect.attempt { fill: var(--closed); }
td.bar rect.failed { fill: var(--open); }
td.bar rect.decision { fill: var(--half-open); }
.client { align-self: center; font-size: 13px; color: #dde; padding: 2px 8px; border: 1px solid #556; border-radius: 10px; }
.empty { color: var(--muted); }
footer { padding: 4px 20px 16px; color: var(--muted); font-size: 12px; }
`;
