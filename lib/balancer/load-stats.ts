import type { Observable, Subscription } from 'rxjs';
import { addressKey, type AttemptEndEvent, type CallEvent } from '../events/events.js';
import type { Clock } from '../internal/clock.js';
import { optionalPositiveDuration } from '../internal/validate.js';
import type { Address, AddressKey, HostLoad } from '../types.js';
import { DEFAULT_DECAY_MS, decayFactor, nextCost } from './peak-ewma.js';
import { onEvents } from '../events/bus.js';

/** Span of the rolling ok / error / timeout counts, ms (two half-width buckets). @defaultValue 20_000 */
export const DEFAULT_STATS_WINDOW_MS = 20_000;

/** Weight of each latency sample in {@link HostLoad.typical}. */
export const TYPICAL_WEIGHT = 0.1;

/** Weight of each attempt's outcome (1 failed, 0 not) in {@link HostLoad.failure}. */
export const FAILURE_WEIGHT = 0.1;

/**
 * Time constant of the decay of {@link HostLoad.failure} while a host gets no attempts, ms: a host
 * priced out by its failures is probed again within seconds, as Finagle's failure accrual revives
 * a host after its markdown. @defaultValue 5_000
 */
export const FAILURE_DECAY_MS = 5_000;

/** Options of {@link LoadStats}. */
export interface LoadStatsOptions {
  /** Decay time constant τ of the peak-EWMA latency, ms. @defaultValue 10_000 */
  readonly decayMs?: number;
  /** Span of the rolling outcome counts, ms. @defaultValue 20_000 */
  readonly windowMs?: number;
}

/** One host's statistics, for health views and the dashboard. */
export interface HostStats {
  /** Attempts in flight. */
  readonly outstanding: number;
  /** Peak-EWMA latency, ms, decayed to now; 0 before the first sample. */
  readonly latencyMs: number;
  /** Recent attempts that got a response below 500. */
  readonly ok: number;
  /** Recent attempts that failed: an error code, or a status ≥ 500. Timeouts are among them. */
  readonly errors: number;
  /** Recent attempts that ended with `TIMEOUT`. */
  readonly timeouts: number;
  /** ok / (ok + errors); 1 when nothing was counted. */
  readonly successRate: number;
}

/** Mutable per-host record: updated in place, since every attempt touches it twice. */
interface HostRecord {
  outstanding: number;
  cost: number;
  stamp: number;
  sampled: boolean;
  /** EWMA of latency over samples, ms: see {@link HostLoad.typical}. */
  typical: number;
  /** EWMA of failures over attempts, at `failStamp`: see {@link HostLoad.failure}. */
  failure: number;
  failStamp: number;
  /** When the host last joined a group's list or had its breaker close; -Infinity: never. */
  since: number;
  /** Start of the current count bucket; the previous bucket is the half-window before it. */
  bucketStart: number;
  ok: number;
  errors: number;
  timeouts: number;
  prevOk: number;
  prevErrors: number;
  prevTimeouts: number;
  /** Set by `retain` so a cached lookup by address object notices the host is gone. */
  dropped: boolean;
}

const NO_LOAD: HostLoad = Object.freeze({
  outstanding: 0,
  cost: 0,
  sampled: false,
  typical: 0,
  failure: 0,
  since: -Infinity,
});
const NO_STATS: HostStats = Object.freeze({
  outstanding: 0,
  latencyMs: 0,
  ok: 0,
  errors: 0,
  timeouts: 0,
  successRate: 1,
});

/**
 * Per-host load statistics as a scan over `client.events$`: requests in flight, Finagle peak-EWMA
 * latency and recent outcome counts. Balancers read them through `PickContext.load`; health views
 * through {@link LoadStats.host}. Nothing here reaches into the transport.
 *
 * Each event costs one Map lookup and a little arithmetic; there are no timers (the EWMA decays and
 * the count buckets roll over lazily, on the next event or read).
 *
 * @example
 * ```ts
 * const stats = new LoadStats(clock);
 * subscriptions.add(stats.attach(bus.events$));
 * const ctx = { now, random, attempt, load: (a) => stats.load(a, now) };
 * ```
 */
export class LoadStats {
  readonly #clock: Clock;
  readonly #decayMs: number;
  readonly #halfWindow: number;
  readonly #hosts = new Map<AddressKey, HostRecord>();
  /** Hosts whose active health checks fail now: passing again starts their slow-start ramp. */
  readonly #checkFailing = new Set<AddressKey>();
  /** Group snapshots hand the same Address objects to every pick: skip building the key string. */
  readonly #byAddress = new WeakMap<Address, HostRecord>();
  /** Each group's last list (by name), to tell a host that joins from one already there. */
  readonly #lists = new Map<string, ReadonlySet<AddressKey>>();

  constructor(clock: Clock, options: LoadStatsOptions = {}) {
    this.#clock = clock;
    this.#decayMs = optionalPositiveDuration(options.decayMs, 'decayMs') ?? DEFAULT_DECAY_MS;
    this.#halfWindow =
      (optionalPositiveDuration(options.windowMs, 'windowMs') ?? DEFAULT_STATS_WINDOW_MS) / 2;
  }

  /** Subscribes to the event stream; unsubscribe the result to stop (the client does on close). */
  attach(events$: Observable<CallEvent>): Subscription {
    return onEvents(events$, (e) => this.update(e));
  }

  /** Applies one event. Public so specs and other scans can feed events without a stream. */
  update(e: CallEvent): void {
    if (e.type === 'attempt-start') {
      let rec = this.#hosts.get(e.key);
      if (rec === undefined) {
        rec = newRecord(e.time);
        this.#hosts.set(e.key, rec);
      }
      rec.outstanding++;
    } else if (e.type === 'attempt-end') {
      // No record: the host left every group (retain) while this attempt was in flight.
      const rec = this.#hosts.get(e.key);
      if (rec !== undefined) this.#end(rec, e);
    } else if (e.type === 'breaker-transition') {
      // The default breaker key is the address key; a custom key that is not one starts no ramp.
      const rec = e.to === 'closed' ? this.#hosts.get(e.breakerKey) : undefined;
      if (rec !== undefined) rec.since = e.time;
    } else if (e.type === 'resolver-update') {
      this.#joined(e.group, e.addresses, e.time);
    } else if (e.type === 'health-check') {
      // A host whose active health checks pass again ramps up as a recovered breaker does.
      if (e.health === 'failing') this.#checkFailing.add(e.key);
      else if (e.health === 'passing' && this.#checkFailing.delete(e.key)) this.startRamp(e.key, e.time);
    }
  }

  /** Marks the hosts new in a group's list as joined at `now`; a group's first list is not a join. */
  #joined(group: string, addresses: readonly Address[], now: number): void {
    const keys = new Set<AddressKey>();
    for (const a of addresses) keys.add(addressKey(a));
    const previous = this.#lists.get(group);
    this.#lists.set(group, keys);
    if (previous === undefined) return;
    for (const key of keys) {
      if (previous.has(key)) continue;
      let rec = this.#hosts.get(key);
      if (rec === undefined) {
        rec = newRecord(now);
        this.#hosts.set(key, rec);
      }
      rec.since = now;
    }
  }

  #end(rec: HostRecord, e: AttemptEndEvent): void {
    if (rec.outstanding > 0) rec.outstanding--;
    // A cancelled attempt says nothing about the host: it only stops being in flight.
    if (e.cancelled) return;
    // Failed attempts count too (Finagle): a host that times out must look slow, not unmeasured.
    // A streamed response is sampled at its headers: how fast its body was read is the caller's.
    const ms = e.headersMs ?? e.durationMs;
    rec.cost = nextCost(rec.cost, rec.stamp, ms, e.time, this.#decayMs);
    if (e.time > rec.stamp) rec.stamp = e.time;
    const x = ms > 0 ? ms : 0;
    rec.typical = rec.sampled ? rec.typical + TYPICAL_WEIGHT * (x - rec.typical) : x;
    rec.sampled = true;
    this.#roll(rec, e.time);
    const failed = e.errorCode !== undefined || (e.status !== undefined && e.status >= 500);
    // Decayed to now, then one step toward this outcome: per attempt while traffic flows, per time
    // while none does (so a host priced out by failures is tried again).
    const f = rec.failure * decayFactor(e.time - rec.failStamp, FAILURE_DECAY_MS);
    rec.failure = f + FAILURE_WEIGHT * ((failed ? 1 : 0) - f);
    if (e.time > rec.failStamp) rec.failStamp = e.time;
    if (failed) {
      rec.errors++;
      if (e.errorCode === 'TIMEOUT') rec.timeouts++;
    } else {
      rec.ok++;
    }
  }

  /** Moves the count buckets on to `now`: at most two buckets are kept, so this is O(1). */
  #roll(rec: HostRecord, now: number): void {
    const elapsed = now - rec.bucketStart;
    if (elapsed < this.#halfWindow) return;
    if (elapsed < 2 * this.#halfWindow) {
      rec.prevOk = rec.ok;
      rec.prevErrors = rec.errors;
      rec.prevTimeouts = rec.timeouts;
    } else {
      rec.prevOk = rec.prevErrors = rec.prevTimeouts = 0;
    }
    rec.ok = rec.errors = rec.timeouts = 0;
    rec.bucketStart += Math.floor(elapsed / this.#halfWindow) * this.#halfWindow;
  }

  /**
   * The load of `address` for a balancer: outstanding, peak-EWMA cost decayed to `now`, sampled.
   * Zeroes for a host never seen (so a new host is probed first). Pass the pick's `ctx.now` to save a
   * clock read.
   */
  load(address: Address, now: number = this.#clock.now()): HostLoad {
    let rec = this.#byAddress.get(address);
    if (rec === undefined || rec.dropped) {
      rec = this.#hosts.get(addressKey(address));
      if (rec === undefined) return NO_LOAD;
      this.#byAddress.set(address, rec);
    }
    const cost = rec.cost * decayFactor(now - rec.stamp, this.#decayMs);
    const failure = rec.failure > 0 ? rec.failure * decayFactor(now - rec.failStamp, FAILURE_DECAY_MS) : 0;
    return {
      outstanding: rec.outstanding,
      cost,
      sampled: rec.sampled,
      typical: rec.typical,
      failure,
      since: rec.since,
    };
  }

  /** Statistics of the host with this `addressKey`, for `group.health$` and the dashboard. */
  host(key: AddressKey): HostStats {
    const rec = this.#hosts.get(key);
    if (rec === undefined) return NO_STATS;
    const now = this.#clock.now();
    this.#roll(rec, now);
    const ok = rec.ok + rec.prevOk;
    const errors = rec.errors + rec.prevErrors;
    return {
      outstanding: rec.outstanding,
      latencyMs: rec.cost * decayFactor(now - rec.stamp, this.#decayMs),
      ok,
      errors,
      timeouts: rec.timeouts + rec.prevTimeouts,
      successRate: ok + errors === 0 ? 1 : ok / (ok + errors),
    };
  }

  /**
   * Starts `key`'s slow-start ramp at `now`, as a join or a breaker closing does: for a health check
   * that sees a host pass again. A host with no record yet gets one.
   */
  startRamp(key: AddressKey, now: number = this.#clock.now()): void {
    let rec = this.#hosts.get(key);
    if (rec === undefined) {
      rec = newRecord(now);
      this.#hosts.set(key, rec);
    }
    rec.since = now;
  }

  /** Forgets hosts not in `liveKeys` (they left every group), so churning lists cannot grow the map. */
  retain(liveKeys: ReadonlySet<AddressKey>): void {
    for (const [key, rec] of this.#hosts) {
      if (liveKeys.has(key)) continue;
      rec.dropped = true;
      this.#hosts.delete(key);
    }
    for (const key of this.#checkFailing) if (!liveKeys.has(key)) this.#checkFailing.delete(key);
  }
}

function newRecord(now: number): HostRecord {
  return {
    outstanding: 0,
    cost: 0,
    stamp: now,
    sampled: false,
    typical: 0,
    failure: 0,
    failStamp: now,
    since: -Infinity,
    bucketStart: now,
    ok: 0,
    errors: 0,
    timeouts: 0,
    prevOk: 0,
    prevErrors: 0,
    prevTimeouts: 0,
    dropped: false,
  };
}
