/**
 * The pinned mode of bench/throughput.ts (issue 23): client on one core, server child on another, so
 * each contender's CPU figure carries none of the server's contention. Its contenders, its table
 * (CPU is user + system, as the issue measures it) and issue 23's targets.
 */
import type { ContenderName } from './contenders.js';
import { med, ratio, type Sample, type Samples } from './samples.js';
import { fmt, fmtInt, table, verdict, type Pinning } from './util.js';

/** The contenders of the pinned table when `--only` does not name others: issue 23's lines. */
export const PINNED_CONTENDERS: readonly ContenderName[] = [
  'undici Pool.request',
  'undici dispatch',
  'undici retry interceptor',
  'undici + opossum',
  'rxhttp Promise',
  'rxhttp Observable',
];

/** Rounds per concurrency in the pinned mode (issue 23 asks for medians of at least 8). */
export const PINNED_ROUNDS = 8;

const REF: ContenderName = 'undici Pool.request';
const cpu = (x: Sample) => x.userUs + x.sysUs;

/** The heading line of the pinned section: where each side runs, or why it could not be pinned. */
export function pinnedHeading(pin: Pinning): string {
  return pin.ok
    ? `## Throughput, pinned: client on CPU ${pin.client}, server child on CPU ${pin.server} (taskset; issue 23)`
    : `## Throughput, pinned: not available here (${pin.why})`;
}

/** One concurrency's pinned table: CPU is user + system per request, every ratio per round then median. */
export function pinnedReport(c: number, s: Samples, names: readonly ContenderName[]): string {
  const rows = names.map((n) => [
    n,
    fmtInt(med(s, n, (x) => x.rps)),
    fmt(ratio(s, n, REF, (x) => x.rps)),
    fmt(med(s, n, cpu), 1),
    fmt(ratio(s, n, REF, cpu)),
    fmt(
      med(s, n, (x) => x.userUs),
      1,
    ),
    fmt(
      med(s, n, (x) => x.sysUs),
      1,
    ),
    fmt(
      med(s, n, (x) => x.p50Us),
      0,
    ),
    fmt(
      med(s, n, (x) => x.p99Us),
      0,
    ),
    fmt(
      med(s, n, (x) => x.serverUs),
      1,
    ),
  ]);
  const header = [
    'contender',
    'req/s',
    'req/s × Pool.request',
    'CPU µs/req (user+sys)',
    'CPU × Pool.request',
    'user µs/req',
    'sys µs/req',
    'p50 µs',
    'p99 µs',
    'server CPU µs/req',
  ];
  const rounds = s.get(REF)?.length ?? 0;
  return [
    `### Pinned, concurrency ${c} (medians of ${rounds} interleaved rounds)`,
    '',
    table(header, rows),
  ].join('\n');
}

/** Issue 23's must-show 1–3, at each concurrency measured, each stated as met or not. */
export function pinnedTargets(all: ReadonlyMap<number, Samples>): string {
  const out: string[] = ['### Targets (issue 23, pinned, CPU = user + sys per request)', ''];
  for (const [c, s] of all) {
    const rx: ContenderName = 'rxhttp Promise';
    if (s.has(rx)) {
      const want = c === 1 ? 0.85 : c === 64 ? 0.8 : undefined;
      const r = ratio(s, rx, REF, cpu);
      if (want !== undefined)
        out.push(
          verdict(r <= want, `full chain (Promise) ≤ ${want}× Pool.request CPU at c = ${c}`, `${fmt(r)}×`),
        );
      for (const [peer, want2] of [
        ['undici + opossum', 1.2],
        ['undici retry interceptor', 1.6],
      ] as const) {
        if (!s.has(peer)) continue;
        const adv = ratio(s, peer, rx, cpu);
        out.push(
          verdict(
            adv >= want2,
            `full chain ≥ ${want2}× ${peer} by CPU per request at c = ${c}`,
            `${fmt(adv)}×`,
          ),
        );
      }
    }
    if (c === 64 && s.has('rxhttp + OTel tracing (server span)')) {
      // Issue 22: OTel at 100 % sampling (SDK, no-op exporter), beside the Zipkin figure.
      const o = ratio(s, 'rxhttp + OTel tracing (server span)', REF, cpu);
      const z = s.has('rxhttp + tracing') ? `; Zipkin ${fmt(ratio(s, 'rxhttp + tracing', REF, cpu))}×` : '';
      out.push(
        verdict(
          o <= 1.25,
          'OTel tracing (100 %, under a server span) ≤ 1.25× Pool.request CPU at c = 64 (issue 22)',
          `${fmt(o)}×${z}`,
        ),
      );
    }
    if (c === 64 && s.has('rxhttp Observable')) {
      const o = ratio(s, 'rxhttp Observable', REF, cpu);
      out.push(verdict(o <= 0.85, 'Observable API ≤ 0.85× Pool.request CPU at c = 64', `${fmt(o)}×`));
    }
  }
  const notes: string[] = [];
  for (const [c, s] of all) {
    // Not targets: what the full chain costs over its own transport, and against the --before build.
    if (s.has('rxhttp Promise') && s.has('undici dispatch'))
      notes.push(
        `- c = ${c}: full chain (Promise) ÷ undici \`dispatch\` (the transport it runs on): ${fmt(ratio(s, 'rxhttp Promise', 'undici dispatch', cpu))}×; \`dispatch\` itself ${fmt(ratio(s, 'undici dispatch', REF, cpu))}× Pool.request`,
      );
    for (const row of s.keys()) {
      const before = `${row} (before)` as ContenderName;
      if (s.has(before))
        notes.push(
          `- c = ${c}: ${row}, this build ÷ --before build: ${fmt(ratio(s, row, before, cpu))}× CPU per request`,
        );
    }
  }
  if (notes.length > 0) out.push('', ...notes);
  return out.join('\n');
}
