import { escape } from './render.js';
import type { SlowCallView, TimelineEntryView } from './timeline-view.js';
import type { DashboardView } from './view-model.js';

/**
 * Markup of the "slow calls" area: each kept call's head line and its timeline, one row per entry
 * with a bar on the call's time scale. Server-rendered into the first HTML; the browser script
 * builds the same from each `/events` message (see `assets/script.ts`). Every value is escaped; an
 * entry kind becomes a class only when it is plain (`[a-z-]`), else it shows as text alone.
 */

const KIND = /^[a-z][a-z-]{0,31}$/;
/** Column heads of a timeline; the script uses the same. */
export const TIMELINE_COLUMNS: readonly string[] = ['at', 'what', 'host', 'took', 'outcome', 'detail', ''];

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const ms = (v: unknown): string => `${Math.round(num(v))} ms`;

/** A bar's place on the call's scale, in % of the call's duration: `[x, width]`. */
export function barSpan(e: Pick<TimelineEntryView, 'atMs' | 'durationMs'>, callMs: number): [number, number] {
  const total = Math.max(1, num(callMs));
  const x = Math.min(100, Math.max(0, (100 * num(e.atMs)) / total));
  const w = e.durationMs === undefined ? 0.6 : Math.max(0.6, (100 * num(e.durationMs)) / total);
  return [Number(x.toFixed(2)), Number(Math.min(w, 100 - x + 0.6).toFixed(2))];
}

/** The class a row's bar takes: `failed`, `attempt` (an attempt that did not fail) or `decision`. */
export function barClass(e: Pick<TimelineEntryView, 'failed' | 'durationMs' | 'address'>): string {
  if (e.failed === true) return 'failed';
  return e.durationMs !== undefined || e.address !== undefined ? 'attempt' : 'decision';
}

function entryRow(e: TimelineEntryView, callMs: number): string {
  const kind = KIND.test(String(e.kind)) ? String(e.kind) : 'other';
  const [x, w] = barSpan(e, callMs);
  const bar = `<svg viewBox="0 0 100 8" preserveAspectRatio="none"><rect class="${barClass(e)}" x="${x}" y="1" width="${w}" height="6"></rect></svg>`;
  const cells = [
    `+${ms(e.atMs)}`,
    escape(e.kind),
    e.address === undefined ? '' : escape(e.address),
    e.durationMs === undefined ? '' : ms(e.durationMs),
    e.outcome === undefined ? '' : escape(e.outcome),
    escape(e.detail),
  ];
  return (
    `<tr class="entry kind-${kind}${e.failed === true ? ' failed' : ''}" data-kind="${escape(e.kind)}">` +
    cells.map((c) => `<td>${c}</td>`).join('') +
    `<td class="bar">${bar}</td></tr>`
  );
}

/** The time a call started, as the page shows it: `hh:mm:ss.mmm UTC`. */
export function startedAt(start: number): string {
  const d = new Date(num(start));
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(11, 23)} UTC`;
}

function slowCall(c: SlowCallView): string {
  const head = TIMELINE_COLUMNS.map((h) => `<th>${escape(h)}</th>`).join('');
  return (
    `<article class="slow-call" data-call-id="${escape(num(c.callId))}">` +
    `<h3><span class="method">${escape(c.method)}</span> <span class="group">${escape(c.group)}</span> <span class="path">${escape(c.path)}</span></h3>` +
    `<div class="meta">${ms(c.durationMs)} · ${escape(c.outcome)} · started ${escape(startedAt(c.start))}</div>` +
    `<table class="timeline"><thead><tr>${head}</tr></thead><tbody>` +
    (Array.isArray(c.entries) ? c.entries : []).map((e) => entryRow(e, c.durationMs)).join('') +
    '</tbody></table></article>'
  );
}

/** The heading of the slow calls area. */
export function slowTitle(v: Pick<DashboardView, 'slowCallMs' | 'slowCalls'>): string {
  return `Slow calls (${ms(v.slowCallMs)} or more), newest first`;
}

/** Markup of the slow calls area; empty when the view has none (the source has no `events$`). */
export function slowCalls(v: DashboardView): string {
  if (!Array.isArray(v.slowCalls)) return '';
  const body =
    v.slowCalls.length === 0
      ? `<p class="empty">No call has taken ${escape(ms(v.slowCallMs))} or more yet.</p>`
      : v.slowCalls.map(slowCall).join('');
  return `<h2>${escape(slowTitle(v))}</h2>${body}`;
}
