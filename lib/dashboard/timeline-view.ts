import type { CallTimeline, TimelineEntry } from '../timeline.js';

/**
 * One line of a slow call's timeline as the page shows it: what happened, when (ms after the call's
 * start), and for an attempt where it went, how long it took and how it ended. Every entry kind has
 * `kind`, `atMs` and `detail`, so a kind this view does not know yet (a hedge, say) still shows,
 * its fields spelled out in `detail`.
 */
export interface TimelineEntryView {
  /** The entry's kind as the timeline names it: `attempt`, `retry`, `retry-refused`, … */
  readonly kind: string;
  /** When it happened, ms after the call's start. */
  readonly atMs: number;
  /** How long it lasted, ms (attempts that ended); absent for a decision. */
  readonly durationMs?: number;
  /** `host:port` it went to (attempts). */
  readonly address?: string;
  /** How it ended, short: `200`, `RESET`, `TIMEOUT (headers)`, `cancelled`, `in flight`. */
  readonly outcome?: string;
  /** True when it counts as a failure (drawn in the open colour). */
  readonly failed?: boolean;
  /** The rest in words: `retry #2 in 40 ms (backoff) after 503`, `retry budget spent`, … */
  readonly detail: string;
}

/** A slow call on the dashboard: what was called, how long it took, how it ended, its timeline. */
export interface SlowCallView {
  readonly callId: number;
  readonly group: string;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** Client clock time the call started, ms (epoch ms on the system clock). */
  readonly start: number;
  readonly durationMs: number;
  /** `ok 200`, `error TIMEOUT`, `cancelled`. */
  readonly outcome: string;
  readonly entries: readonly TimelineEntryView[];
}

const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * 10) / 10 : 0);

const REFUSALS: Readonly<Record<string, string>> = {
  budget: 'retry budget spent',
  deadline: 'it would start past the deadline',
  'deadline-insufficient': 'skipped for the deadline',
  'body-not-replayable': 'the request body was a stream, already sent',
};

/** A value of an unknown entry kind, as text: an address as `host:port`, objects as JSON. */
function text(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    const a = v as { host?: unknown; port?: unknown };
    if (typeof a.host === 'string' && typeof a.port === 'number') return `${a.host}:${a.port}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/** An entry of a kind this view does not know: its fields, spelled out. */
function generic(e: Readonly<Record<string, unknown>>): TimelineEntryView {
  const at = typeof e.atMs === 'number' ? e.atMs : 0;
  const end = typeof e.endMs === 'number' ? e.endMs : undefined;
  const fields = Object.entries(e)
    .filter(([k, v]) => k !== 'kind' && k !== 'atMs' && k !== 'endMs' && v !== undefined)
    .map(([k, v]) => `${k} ${text(v)}`);
  return {
    kind: String(e.kind),
    atMs: round(at),
    ...(end === undefined ? {} : { durationMs: round(end - at) }),
    ...(typeof e.key === 'string' ? { address: e.key } : {}),
    detail: fields.join(', '),
  };
}

/** A deadline refusal's figures in words; '' when it has none. */
function timesLeft(e: {
  readonly expectedMs?: number | undefined;
  readonly remainingMs?: number | undefined;
}): string {
  return e.expectedMs === undefined || e.remainingMs === undefined
    ? ''
    : `: hosts take ~${round(e.expectedMs)} ms, ${round(e.remainingMs)} ms left`;
}

/** One entry in words. Pure. */
export function entryView(e: TimelineEntry): TimelineEntryView {
  const atMs = round(e.atMs);
  switch (e.kind) {
    case 'attempt': {
      const outcome =
        e.outcome === 'response'
          ? String(e.status ?? '')
          : e.outcome === 'error'
            ? `${e.errorCode ?? 'error'}${e.timeoutPhase === undefined ? '' : ` (${e.timeoutPhase})`}`
            : e.outcome === 'in-flight'
              ? 'in flight'
              : e.lostTo !== undefined
                ? `lost to #${e.lostTo}`
                : 'cancelled';
      return {
        kind: e.kind,
        atMs,
        ...(e.endMs === undefined ? {} : { durationMs: round(e.endMs - e.atMs) }),
        address: e.key,
        outcome,
        failed: e.verdict === 'failure' || e.outcome === 'error',
        detail: `${e.hedge === true ? 'hedge' : 'attempt'} #${e.attempt}${e.verdict === undefined ? '' : `, breaker verdict ${e.verdict}`}`,
      };
    }
    case 'retry': {
      const why = e.delayReason === 'retry-after' ? 'Retry-After honoured' : e.delayReason;
      return {
        kind: e.kind,
        atMs,
        detail: `retry #${e.attempt} in ${round(e.delayMs)} ms (${why}) after ${e.reason}`,
      };
    }
    case 'retry-refused': {
      const times = timesLeft(e);
      const why = REFUSALS[e.reason] ?? e.reason;
      return { kind: e.kind, atMs, failed: true, detail: `retry #${e.attempt} not made: ${why}${times}` };
    }
    case 'hedge':
      return {
        kind: e.kind,
        atMs,
        detail: `no answer after ${round(e.delayMs)} ms: hedge #${e.attempt} sent to another host`,
      };
    case 'hedge-refused': {
      const times = timesLeft(e);
      const why = e.reason === 'budget' ? 'hedge or retry budget spent' : 'cannot finish before the deadline';
      return { kind: e.kind, atMs, detail: `hedge #${e.attempt} not sent: ${why}${times}` };
    }
    case 'breaker-skip':
      return {
        kind: e.kind,
        atMs,
        detail: `breaker ${e.breakerKey} refused attempt #${e.attempt}: it went to another host`,
      };
    case 'fail-fast':
      return {
        kind: e.kind,
        atMs,
        failed: true,
        detail: `every breaker refused attempt #${e.attempt}: nothing sent`,
      };
    default:
      return generic(e as unknown as Readonly<Record<string, unknown>>);
  }
}

/** A kept call's timeline as the page shows it. Pure; strings stay raw (the page escapes them). */
export function slowCallView(t: CallTimeline): SlowCallView {
  const outcome =
    t.outcome === 'ok'
      ? `ok ${t.status ?? ''}`.trim()
      : t.outcome === 'error'
        ? `error ${t.errorCode ?? ''}`.trim()
        : t.outcome;
  return {
    callId: t.callId,
    group: t.group,
    method: t.method,
    path: t.path,
    start: Math.round(t.start),
    durationMs: round(t.durationMs ?? 0),
    outcome,
    entries: t.entries.map(entryView),
  };
}
