/**
 * `npm run demo`: three embedded backends (healthy, slow, returning 503s), a few hundred calls
 * through one group, and a per-host table of what happened.
 */
import { Client, AddressGroup, type XResponse } from '../lib/index.js';
import { startDemoBackend } from './cluster.js';

const CALLS = 300;
const CONCURRENCY = 8;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const backends = await Promise.all([
    startDemoBackend('healthy', 'healthy'),
    startDemoBackend('slow', 'slow'),
    startDemoBackend('flaky', 'failing'),
  ]);
  const client = new Client({ requestTimeout: 5_000 });
  const group = new AddressGroup('static://' + backends.map((b) => b.hostPort).join(','), { name: 'demo' });
  const perHost = new Map<string, { calls: number; statuses: Map<string, number>; latencies: number[] }>();
  for (const b of backends) perHost.set(b.hostPort, { calls: 0, statuses: new Map(), latencies: [] });
  const sub = client.events$.subscribe((e) => {
    if (e.type !== 'attempt-end') return;
    const row = perHost.get(e.key);
    if (!row) return;
    row.calls++;
    const s = e.status !== undefined ? String(e.status) : (e.errorCode ?? 'error');
    row.statuses.set(s, (row.statuses.get(s) ?? 0) + 1);
    row.latencies.push(e.durationMs);
  });

  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < CALLS) {
      next++;
      try {
        const res: XResponse = await client.get(group, '/hello', {
          retry: { maxAttempts: 3, backoff: { initialDelay: 5 } },
        });
        if (res.status < 400) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;

  console.log(
    `\nrxhttp demo: ${CALLS} calls through group "${group.name}" (p2c-ewma, retry maxAttempts 3, breaker on)\n`,
  );
  const rows = backends.map((b) => {
    const r = perHost.get(b.hostPort)!;
    const sorted = [...r.latencies].sort((x, y) => x - y);
    const mix = [...r.statuses].map(([k, v]) => `${k}:${v}`).join(' ');
    return {
      host: `${b.name} (${b.hostPort})`,
      attempts: String(r.calls),
      statuses: mix || '-',
      p50: `${percentile(sorted, 50).toFixed(1)} ms`,
      p99: `${percentile(sorted, 99).toFixed(1)} ms`,
    };
  });
  const header = { host: 'host', attempts: 'attempts', statuses: 'status mix', p50: 'p50', p99: 'p99' };
  const widths = Object.keys(header).map((k) =>
    Math.max(...[header, ...rows].map((r) => r[k as keyof typeof header].length)),
  );
  for (const r of [header, ...rows])
    console.log(
      Object.keys(header)
        .map((k, i) => r[k as keyof typeof header].padEnd(widths[i]!))
        .join('  '),
    );
  console.log(`\ncalls ok: ${ok}, failed: ${failed}, in ${seconds.toFixed(2)} s`);

  sub.unsubscribe();
  await client.close();
  group.close();
  await Promise.all(backends.map((b) => b.close()));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
