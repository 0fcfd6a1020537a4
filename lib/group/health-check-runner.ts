import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { addressKey, type HealthCheckEvent } from '../events/events.js';
import type { Address } from '../types.js';
import {
  firstProbeDelay,
  probeDelay,
  reduceCheck,
  UNCHECKED,
  type HealthCheckStatus,
  type HostCheckState,
  type ResolvedHealthCheck,
} from './health-check.js';

/**
 * Sends one probe: `GET path` to `address`, emitting the response status once (then completing), or
 * an error with a `code`. Unsubscribing must abort it. A client provides this (the group has no
 * transport); specs give one on virtual time.
 */
export type Prober = (address: Address, path: string) => Observable<number>;

/** One host under checks. */
interface Host {
  address: Address;
  readonly key: string;
  state: HostCheckState;
  /** The wait before the next probe. */
  timer: Subscription | undefined;
  /** The probe in flight, and its timeout. */
  probe: Subscription | undefined;
  timeout: Subscription | undefined;
  startedAt: number;
}

/**
 * Runs a group's active health checks: one schedule per host, on the group's scheduler (unref'd
 * timers by default, virtual in specs), at most one probe in flight per host (the next is scheduled
 * only when one ends: Envoy's `interval` is from the end of a check to the start of the next). Probes
 * go through the first attached {@link Prober}; with none attached nothing runs, and every host is
 * `unknown` (eligible). Stopped for good by {@link HealthCheckRunner.close}.
 *
 * @example
 * ```ts
 * const runner = new HealthCheckRunner(config, 'users', scheduler, Math.random, (e) => events.next(e));
 * const detach = runner.attach((address, path) => probe$(address, path));
 * runner.update(addresses);
 * if (!runner.isHealthy(address)) skip(address);
 * ```
 */
export class HealthCheckRunner {
  readonly #config: ResolvedHealthCheck;
  readonly #group: string;
  readonly #scheduler: SchedulerLike;
  readonly #random: () => number;
  readonly #emit: (e: HealthCheckEvent) => void;
  readonly #hosts = new Map<string, Host>();
  /** The same hosts by address object: the pick asks by object, without building a key string. */
  #byAddress = new WeakMap<Address, Host>();
  readonly #probers: Prober[] = [];
  #addresses: readonly Address[] = [];
  #failing = 0;
  #closed = false;

  constructor(
    config: ResolvedHealthCheck,
    group: string,
    scheduler: SchedulerLike,
    random: () => number,
    emit: (e: HealthCheckEvent) => void,
  ) {
    this.#config = config;
    this.#group = group;
    this.#scheduler = scheduler;
    this.#random = random;
    this.#emit = emit;
  }

  /** Hosts whose checks are failing now (O(1)): while 0, the pick need not ask per host. */
  get failing(): number {
    return this.#failing;
  }

  /** The status of a host of the current list; `unknown` for any other. */
  status(address: Address): HealthCheckStatus {
    return (this.#byAddress.get(address) ?? this.#hosts.get(addressKey(address)))?.state.status ?? 'unknown';
  }

  /** False only for a host whose checks are failing. */
  isHealthy(address: Address): boolean {
    if (this.#failing === 0) return true;
    return this.status(address) !== 'failing';
  }

  /** Adds a prober (a client using the group); the returned function removes it. */
  attach(prober: Prober): () => void {
    if (this.#closed) return () => undefined;
    this.#probers.push(prober);
    if (this.#probers.length === 1) this.#startAll();
    return () => {
      const i = this.#probers.indexOf(prober);
      if (i < 0) return;
      this.#probers.splice(i, 1);
      if (i !== 0) return;
      // The prober in use left: stop its probes; the next one (if any) starts afresh.
      this.#stopAll();
      if (this.#probers.length > 0) this.#startAll();
    };
  }

  /** Follows the group's address list: new hosts start unchecked, gone hosts stop. */
  update(list: readonly Address[]): void {
    if (this.#closed) return;
    this.#addresses = list;
    const keep = new Set<string>();
    const byAddress = new WeakMap<Address, Host>();
    for (const address of list) {
      const key = addressKey(address);
      keep.add(key);
      let host = this.#hosts.get(key);
      if (host === undefined) {
        host = {
          address,
          key,
          state: UNCHECKED,
          timer: undefined,
          probe: undefined,
          timeout: undefined,
          startedAt: 0,
        };
        this.#hosts.set(key, host);
        if (this.#probers.length > 0)
          this.#schedule(host, firstProbeDelay(this.#config.interval, this.#random));
      }
      host.address = address;
      byAddress.set(address, host);
    }
    this.#byAddress = byAddress;
    for (const [key, host] of this.#hosts) {
      if (keep.has(key)) continue;
      this.#stop(host);
      if (host.state.status === 'failing') this.#failing--;
      this.#hosts.delete(key);
    }
  }

  /** Stops every timer and probe, for good. */
  close(): void {
    this.#closed = true;
    this.#probers.length = 0;
    this.#stopAll();
    this.#hosts.clear();
    this.#byAddress = new WeakMap();
  }

  #startAll(): void {
    for (const host of this.#hosts.values())
      this.#schedule(host, firstProbeDelay(this.#config.interval, this.#random));
  }

  /** Stops every host's probes; their verdicts are forgotten (nobody is checking any more). */
  #stopAll(): void {
    for (const host of this.#hosts.values()) {
      this.#stop(host);
      host.state = UNCHECKED;
    }
    this.#failing = 0;
  }

  #stop(host: Host): void {
    host.timer?.unsubscribe();
    host.timer = undefined;
    host.timeout?.unsubscribe();
    host.timeout = undefined;
    const probe = host.probe;
    host.probe = undefined;
    probe?.unsubscribe();
  }

  #schedule(host: Host, delay: number): void {
    host.timer?.unsubscribe();
    host.timer = this.#scheduler.schedule(() => {
      host.timer = undefined;
      this.#probe(host);
    }, delay);
  }

  #probe(host: Host): void {
    const prober = this.#probers[0];
    if (prober === undefined || this.#closed || host.probe !== undefined) return;
    host.startedAt = this.#scheduler.now();
    let done = false;
    const end = (status: number | undefined, errorCode: string | undefined): void => {
      if (done) return;
      done = true;
      this.#ended(host, status, errorCode);
    };
    host.timeout = this.#scheduler.schedule(() => end(undefined, 'TIMEOUT'), this.#config.timeout);
    const sub = prober(host.address, this.#config.path).subscribe({
      next: (status) => end(status, undefined),
      error: (e: unknown) => end(undefined, codeOf(e)),
      complete: () => end(undefined, 'PROTOCOL'),
    });
    // A prober that answered synchronously has ended already.
    if (!done) host.probe = sub;
    else sub.unsubscribe();
  }

  #ended(host: Host, status: number | undefined, errorCode: string | undefined): void {
    host.timeout?.unsubscribe();
    host.timeout = undefined;
    const probe = host.probe;
    host.probe = undefined;
    probe?.unsubscribe(); // a timed-out probe is aborted; one that answered is complete already
    if (this.#hosts.get(host.key) !== host) return; // the host left the list meanwhile
    const now = this.#scheduler.now();
    const ok = status !== undefined && this.#config.passes(status);
    const before = host.state.status;
    host.state = reduceCheck(host.state, ok, this.#config);
    const after = host.state.status;
    if (before !== 'failing' && after === 'failing') this.#failing++;
    else if (before === 'failing' && after !== 'failing') this.#failing--;
    this.#schedule(host, probeDelay(this.#config.interval, this.#random));
    // Literal, absent fields undefined: one object shape, as the call events have.
    this.#emit({
      type: 'health-check',
      time: now,
      group: this.#group,
      address: host.address,
      key: host.key,
      ok,
      status,
      errorCode,
      durationMs: now - host.startedAt,
      health: after,
    } as HealthCheckEvent);
  }
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'ERROR';
}
