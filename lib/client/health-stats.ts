import type { Observable, Subscription } from 'rxjs';
import { onEvents } from '../events/bus.js';
import type { CallEvent } from '../events/events.js';
import { CallWindow, DEFAULT_WINDOW_MS, type LatencyPercentiles } from './health-window.js';

/**
 * Most groups whose windows are kept at once (about 22 KiB each: a minute of sparkline). Past it the
 * oldest-made window is dropped (a view that still shows it starts it afresh), so a client used
 * against unbounded origins keeps bounded memory: under 6 MiB for groups.
 */
export const MAX_GROUP_WINDOWS = 256;
/** Most hosts whose latency windows are kept at once (about 4 KiB each): under 4 MiB. */
export const MAX_HOST_WINDOWS = 1_024;

const NO_LATENCY: LatencyPercentiles = Object.freeze({ p50: 0, p90: 0, p99: 0 });

/**
 * The rolling statistics behind `client.health$`, kept for the client's whole life so the first
 * value anyone reads (a late subscriber, the dashboard's `/snapshot.json`, the Nest health
 * indicator) is true. Per event: at most three O(1) window updates and no allocation; windows roll
 * over lazily on the next event or read, so there are no timers. Memory is fixed per group and
 * per host, and bounded by {@link MAX_GROUP_WINDOWS} and {@link MAX_HOST_WINDOWS}.
 *
 * @example
 * ```ts
 * const stats = new HealthStats(clock.now());
 * subscriptions.add(stats.attach(bus.events$));
 * stats.all.read(clock.now()).callsPerSecond;
 * ```
 */
export class HealthStats {
  /** Every call of the client. */
  readonly all: CallWindow;
  readonly windowMs: number;
  readonly #groups = new Map<string, CallWindow>();
  /** Attempt latency per host (`host:port`), over the window only (no sparkline history). */
  readonly #hosts = new Map<string, CallWindow>();
  readonly #since: number;

  constructor(since: number, windowMs: number = DEFAULT_WINDOW_MS) {
    this.#since = since;
    this.windowMs = windowMs;
    this.all = new CallWindow(since, { windowMs });
  }

  /** Follows `events$` until the returned subscription ends (or the stream completes). */
  attach(events$: Observable<CallEvent>): Subscription {
    return onEvents(events$, (e) => this.update(e));
  }

  /** The window of the group named `name`, made on first use. */
  group(name: string): CallWindow {
    let w = this.#groups.get(name);
    if (w === undefined) {
      w = new CallWindow(this.#since, { windowMs: this.windowMs });
      bounded(this.#groups, MAX_GROUP_WINDOWS).set(name, w);
    }
    return w;
  }

  /** Attempt latency percentiles of host `key` over the window ending at `now`; zeros when unseen. */
  hostLatency(key: string, now: number): LatencyPercentiles {
    return this.#hosts.get(key)?.read(now).latencyMs ?? NO_LATENCY;
  }

  /** Applies one event. */
  update(e: CallEvent): void {
    switch (e.type) {
      case 'call-end': {
        // A cancelled call says nothing about the service (as for breakers).
        if (e.outcome === 'cancelled') return;
        const failed = e.outcome === 'error' || (e.status !== undefined && e.status >= 500);
        this.all.callEnded(e.time, e.durationMs, failed);
        this.group(e.group).callEnded(e.time, e.durationMs, failed);
        return;
      }
      case 'attempt-end': {
        if (e.cancelled) return;
        let w = this.#hosts.get(e.key);
        if (w === undefined) {
          // The window alone: hosts have no sparkline, so no minute of history to keep.
          w = new CallWindow(this.#since, { windowMs: this.windowMs, historySeconds: 0 });
          bounded(this.#hosts, MAX_HOST_WINDOWS).set(e.key, w);
        }
        w.callEnded(e.time, e.durationMs, e.errorCode !== undefined || (e.status ?? 0) >= 500);
        return;
      }
      case 'retry-scheduled':
        this.all.retried(e.time);
        this.group(e.group).retried(e.time);
        return;
      case 'fail-fast':
        this.all.failedFast(e.time);
        this.group(e.group).failedFast(e.time);
        return;
      default:
        return;
    }
  }

  /** Forgets groups no longer in use, and hosts none of them lists, so churn cannot grow the maps. */
  retain(groups: ReadonlySet<string>, hosts: ReadonlySet<string>): void {
    for (const name of this.#groups.keys()) if (!groups.has(name)) this.#groups.delete(name);
    for (const key of this.#hosts.keys()) if (!hosts.has(key)) this.#hosts.delete(key);
  }
}

/** `map`, with its oldest entry dropped first when it holds `max`. */
function bounded<V>(map: Map<string, V>, max: number): Map<string, V> {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  return map;
}
