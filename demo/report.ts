/** The side-by-side table the demo prints at the end. */
import type { DemoBackend } from './cluster.js';
import { percentile, type RunResult } from './load.js';

const pct = (v: number) => `${v.toFixed(1)} %`;
const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;

/** Rows of figures, one column per run. */
export function comparisonRows(runs: readonly RunResult[], backends: readonly DemoBackend[]): string[][] {
  const rows: string[][] = [['', ...runs.map((r) => r.label)]];
  rows.push(['calls', ...runs.map((r) => String(r.calls))]);
  rows.push(['success', ...runs.map((r) => pct(r.calls === 0 ? 0 : (100 * r.ok) / r.calls))]);
  rows.push(['p50', ...runs.map((r) => ms(percentile(r.latencies, 50)))]);
  rows.push(['p99', ...runs.map((r) => ms(percentile(r.latencies, 99)))]);
  rows.push(['retries', ...runs.map((r) => String(r.retries))]);
  rows.push(['fail-fast', ...runs.map((r) => String(r.failFasts))]);
  for (const b of backends) {
    rows.push([
      `share ${b.name}`,
      ...runs.map((r) => {
        const all = [...r.attemptsByHost.values()].reduce((a, n) => a + n, 0);
        return pct(all === 0 ? 0 : (100 * (r.attemptsByHost.get(b.hostPort) ?? 0)) / all);
      }),
    ]);
  }
  return rows;
}

/** Renders rows as an aligned plain-text table (first column left, figures right). */
export function renderTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  const rule = widths.map((w) => '─'.repeat(w)).join('   ');
  return [fmt(rows[0]!), rule, ...rows.slice(1).map(fmt)].join('\n');
}

/** One line saying whether resilience won, on success % and p99. */
export function verdict(baseline: RunResult, resilient: RunResult): { won: boolean; text: string } {
  const s0 = (100 * baseline.ok) / Math.max(1, baseline.calls);
  const s1 = (100 * resilient.ok) / Math.max(1, resilient.calls);
  const p0 = percentile(baseline.latencies, 99);
  const p1 = percentile(resilient.latencies, 99);
  const won = s1 > s0 && p1 < p0;
  const text = `${resilient.label} vs ${baseline.label}: success ${s0.toFixed(1)} % → ${s1.toFixed(1)} %, p99 ${ms(p0)} → ${ms(p1)} (${(p0 / Math.max(p1, 0.001)).toFixed(1)}× lower)`;
  return { won, text };
}
