import { CallLog } from '../client/timeline.js';
import type { CallEvent } from '../events/events.js';
import type { CallTimeline } from '../timeline.js';

/** A call at least this slow, ms, has its timeline kept for the dashboard. @defaultValue 1_000 */
export const DEFAULT_SLOW_CALL_MS = 1_000;
/** How many slow calls' timelines the dashboard keeps, the newest. @defaultValue 10 */
export const DEFAULT_MAX_SLOW_CALLS = 10;
/** Largest `maxSlowCalls` accepted: each kept timeline is sent with every update. */
export const MAX_SLOW_CALLS_LIMIT = 100;
/**
 * Calls followed at once, at most. Past it a new call is not followed (its timeline is not kept,
 * slow or not), so the fold's memory has a ceiling whatever the concurrency.
 */
export const MAX_FOLLOWED_CALLS = 1_000;

/** Settings of a {@link SlowCalls} fold. */
export interface SlowCallsOptions {
  /** Calls that took at least this long, ms, are kept. */
  readonly thresholdMs: number;
  /** The newest this many are kept. */
  readonly keep: number;
  /** Calls followed at once, at most. @defaultValue {@link MAX_FOLLOWED_CALLS} */
  readonly maxFollowed?: number;
}

/**
 * The dashboard's fold over one client's `events$` that keeps the timelines of the last slow calls.
 * Each call in flight has a `CallLog` (the fold behind `XResponse.timeline`, holding the events by
 * reference); at `call-end` the log is dropped, and its timeline kept when the call took at least
 * `thresholdMs`. Bounded both ways: at most `maxFollowed` calls in flight, at most `keep` timelines,
 * so memory does not grow with traffic.
 *
 * Call ids are per client: feed it one client's events.
 *
 * @example
 * ```ts
 * const slow = new SlowCalls({ thresholdMs: 500, keep: 10 });
 * const sub = client.events$.subscribe((e) => slow.onEvent(e));
 * slow.calls; // newest first
 * ```
 */
export class SlowCalls {
  readonly #options: SlowCallsOptions;
  readonly #maxFollowed: number;
  readonly #followed = new Map<number, CallLog>();
  /** Newest first; replaced, never changed, so a view may hold it. */
  #kept: readonly CallTimeline[] = [];

  constructor(options: SlowCallsOptions) {
    this.#options = options;
    this.#maxFollowed = options.maxFollowed ?? MAX_FOLLOWED_CALLS;
  }

  /** The kept timelines, newest first. */
  get calls(): readonly CallTimeline[] {
    return this.#kept;
  }

  /** Calls followed now (for leak checks). */
  get followed(): number {
    return this.#followed.size;
  }

  /** Takes one event of the client. */
  onEvent(e: CallEvent): void {
    if (!('callId' in e)) return;
    if (e.type === 'call-start') {
      if (this.#followed.size >= this.#maxFollowed) return;
      // The deadline is not on the events; the view does not show it (NaN: unknown).
      const log = new CallLog(Number.NaN);
      log.record(e);
      this.#followed.set(e.callId, log);
      return;
    }
    const log = this.#followed.get(e.callId);
    if (log === undefined) return;
    log.record(e);
    if (e.type !== 'call-end') return;
    this.#followed.delete(e.callId);
    if (e.durationMs >= this.#options.thresholdMs)
      this.#kept = [log.timeline, ...this.#kept].slice(0, this.#options.keep);
  }

  /** Forgets the calls in flight (the client closed: their ends will not come). */
  clear(): void {
    this.#followed.clear();
  }
}
