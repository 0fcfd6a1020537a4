/**
 * Where a call's CPU goes, by stage of the call chain: every sampled function's self time is put into
 * one stage by its source file and function name (`STAGE_RULES`, first match wins), so the per-stage
 * table of bench/RESULTS.md can be re-derived from any `.cpuprofile` (issue 23, must-show 4).
 *
 * Read the rows with V8's inlining in mind: a small function inlined into its caller has no frame of
 * its own, so its time shows under the caller's stage (e.g. a `#pick` inlined into `attempt` counts
 * as exchange). The rows are therefore a lower bound for the small stages.
 */

/** One attribution rule: the stage of a sampled frame whose URL and function name both match. */
export interface StageRule {
  readonly stage: string;
  /** Tested against the frame's URL with the repository root removed (`dist/client/call.js`, `node:net`). */
  readonly url: RegExp;
  /** Tested against the function name; any name when absent. */
  readonly fn?: RegExp;
}

const CALL = /^dist\/client\/call\.js$/;
const CLIENT = /^dist\/client\/client\.js$/;
const XCHG = /^dist\/transport\/undici\.js$/;
const NATIVE = /^$/;

/** Stage names, in the order of the table. */
export const STAGES = [
  'pick (balancer, group, pool lookup)',
  'gate (breaker admission, bulkhead, deadline check)',
  'request building and headers',
  'exchange and body handling',
  'retry decision',
  'events: bus and emit',
  'listener: breakers',
  'listener: load statistics',
  'listener: retry budget',
  'listener: health statistics',
  'listener: metrics and tracing',
  'listener: client bookkeeping (live calls, origin counts, timeline)',
  'timers (clock, deadline and attempt timers, node timers)',
  'promise/Observable wrapping (call lifecycle, rxjs, callbacks)',
  'rxhttp, other',
  'undici (the transport Pool.request also pays)',
  'socket writes (native)',
  'node: sockets, streams, buffers, events',
  'microtasks and ticks',
  'GC',
  'bench harness',
  'V8 (program) and other native',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

/** The attribution table, first match wins. */
export const STAGE_RULES: readonly (StageRule & { readonly stage: Stage })[] = [
  // pick
  { stage: STAGES[0], url: CALL, fn: /^(#pick|addressesReady|load|SharedPickContext)$/ },
  { stage: STAGES[7], url: /^dist\/balancer\/load-stats\.js$/ },
  { stage: STAGES[0], url: /^dist\/(balancer|group)\// },
  { stage: STAGES[0], url: CLIENT, fn: /^(#dispatcher|#pool|#use)$/ },
  // gate
  { stage: STAGES[1], url: CALL, fn: /^(#gate|#failFast|onBulkheadSlot)$/ },
  {
    stage: STAGES[1],
    url: /^dist\/breaker\/breakers\.js$/,
    fn: /^(tryAcquire|canAttempt|key|get allClosed|allClosed|state|allRejecting|noteAllRejecting|#entry)$/,
  },
  { stage: STAGES[1], url: /^dist\/client\/(bulkhead|deadline)\.js$/ },
  // request building and headers
  { stage: STAGES[2], url: /^dist\/client\/(request|headers|path|config|request-body)\.js$/ },
  { stage: STAGES[2], url: /^dist\/internal\/validate\.js$/ },
  { stage: STAGES[2], url: /^dist\/resilience\/(deadline|retry-policy)\.js$/ },
  { stage: STAGES[2], url: CLIENT, fn: /^(#spec|#route|#groupArg|isGroup)$/ },
  {
    stage: STAGES[2],
    url: XCHG,
    fn: /^(parseRawHeaders|isContentLength|rawContentEncoding|rawContentLength|trimOws|get headers|headers)$/,
  },
  { stage: STAGES[2], url: /^dist\/client\/response\.js$/, fn: /^(get headers|headers)$/ },
  // timers
  { stage: STAGES[12], url: /^dist\/internal\/clock\.js$/ },
  {
    stage: STAGES[12],
    url: CALL,
    fn: /^(onCallDeadline|onRetryTimer|onDeadline|onExchangeDeadline|attemptTimeouts|#retryAfter|expectedAttemptMs)$/,
  },
  { stage: STAGES[12], url: XCHG, fn: /^(onExchangeTimer|#phaseTimeout|arm|rearm|onTimer)$/ },
  { stage: STAGES[12], url: /^node:(internal\/)?timers$/, fn: /^(?!processImmediate$)/ },
  { stage: STAGES[12], url: NATIVE, fn: /^(now|getLibuvNow|unref|ref|toggleTimerRef|scheduleTimer)$/ },
  // exchange and body handling
  {
    stage: STAGES[3],
    url: CALL,
    fn: /^(attempt|onExchangeResponse|#onStreamHeaders|onExchangeBodyEnd|#endStream|onExchangeError|#endAttempt|#outcome)$/,
  },
  { stage: STAGES[3], url: /^dist\/transport\// },
  { stage: STAGES[3], url: /^dist\/client\/(response|fetch-response)\.js$/ },
  // retry decision
  { stage: STAGES[4], url: CALL, fn: /^#decide$/ },
  { stage: STAGES[4], url: /^dist\/resilience\/(decide|retry|backoff|retry-after)\.js$/ },
  // events and their listeners
  { stage: STAGES[5], url: CALL, fn: /^(#emit|emit|#emitEnd)$/ },
  { stage: STAGES[5], url: /^dist\/events\// },
  { stage: STAGES[6], url: /^dist\/breaker\// },
  { stage: STAGES[8], url: /^dist\/resilience\/retry-budget\.js$/ },
  { stage: STAGES[9], url: /^dist\/client\/health[^/]*\.js$/ },
  { stage: STAGES[10], url: /^dist\/observability\// },
  { stage: STAGES[11], url: /^dist\/client\/(live-calls|timeline|owned-groups)\.js$/ },
  { stage: STAGES[11], url: /^dist\/timeline\.js$/ },
  { stage: STAGES[11], url: CLIENT, fn: /^#countOriginCalls$/ },
  // the call's lifecycle as a Promise or an Observable: what is left of call.js and client.js
  { stage: STAGES[13], url: /^dist\/client\/(call|client|redirect|runtime|fetch)\.js$/ },
  { stage: STAGES[13], url: /^dist\/internal\/callback\.js$/ },
  { stage: STAGES[13], url: /(^|\/)rxjs\// },
  { stage: STAGES[14], url: /^dist\// },
  // what every contender pays, Pool.request included
  { stage: STAGES[15], url: /(^|\/)undici\/|^wasm:/ },
  {
    stage: STAGES[16],
    url: NATIVE,
    fn: /^(writeLatin1String|writeUtf8String|writev|writeBuffer|WriteWrap)$/,
  },
  { stage: STAGES[18], url: NATIVE, fn: /^runMicrotasks$/ },
  { stage: STAGES[18], url: /^node:internal\/(process\/task_queues|timers)$/ },
  { stage: STAGES[19], url: NATIVE, fn: /^\(garbage collector\)$/ },
  { stage: STAGES[17], url: /^node:/ },
  { stage: STAGES[20], url: /(^|\/)bench\// },
  { stage: STAGES[21], url: NATIVE },
];

/**
 * A sampled frame's file as the rules read it: relative to the repository (`root`, its `file://`
 * prefix), a `--before` build's `.tmp/bench-build-<sha>/` dropped (bench/util.ts `buildAt`: it counts
 * as dist/ too), a dependency from its package name on.
 */
export function repoPath(url: string, root: string): string {
  return url
    .replace(root, '')
    .replace(/^\.tmp\/bench-build-[0-9a-f]+\//, '')
    .replace(/^.*node_modules\//, '');
}

/** The stage of one sampled frame (`url` as V8 reports it, `root` the repository's `file://` prefix). */
export function stageOf(url: string, functionName: string, root: string): Stage {
  const u = repoPath(url, root);
  const fn = functionName || '(anonymous)';
  for (const r of STAGE_RULES) if (r.url.test(u) && (!r.fn || r.fn.test(fn))) return r.stage;
  return 'other';
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

/** A V8 `.cpuprofile` (what `node --cpu-prof` writes and `Profiler.stop` returns). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time (µs) per stage, idle samples left out; `busy` is their sum. */
export function stageTimes(p: CpuProfile, root: string): { byStage: Map<Stage, number>; busy: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const byStage = new Map<Stage, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const frame = byId.get(p.samples[i]!)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    const t = p.timeDeltas[i] ?? 0;
    const s = stageOf(frame.url, frame.functionName, root);
    byStage.set(s, (byStage.get(s) ?? 0) + t);
    busy += t;
  }
  return { byStage, busy };
}
