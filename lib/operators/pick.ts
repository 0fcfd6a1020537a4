import { Observable, asyncScheduler, type SchedulerLike } from 'rxjs';
import { selectAddress, type CandidateState } from '../balancer/eligible.js';
import { FailFastError, XhttpError } from '../errors.js';
import { addressKey } from '../events/events.js';
import { callbackFailed } from '../internal/callback.js';
import { RoundRobinBalancer } from '../balancer/round-robin.js';
import type { Address, GroupLike, HostLoad, LoadBalancer, PickContext } from '../types.js';
import { CallScope, type EventSink } from './call-scope.js';

/**
 * What {@link pick} needs of a group: an `AddressGroup`, or any `{ name, addresses }` with an
 * optional `balancer` (round-robin when absent) and `hostPolicy`.
 */
export type PickGroup = Pick<GroupLike, 'name' | 'addresses'> &
  Partial<Pick<GroupLike, 'balancer' | 'hostPolicy'>>;

/**
 * Per-host circuit breakers as a pick consults them (a client's keyed breakers for one request, or
 * your own): a state for eligibility (no side effects), a permit for the gate.
 */
export interface HostBreakers {
  /** True when no breaker is anything but closed: the eligibility scan is skipped. */
  readonly allClosed: boolean;
  /** The breaker key of a host. */
  key(address: Address): string;
  /** The state of a breaker, without side effects. */
  state(key: string): CandidateState;
  /** Whether `tryAcquire` would admit now, without side effects. */
  canAttempt(key: string): boolean;
  /** Takes a permit: true when admitted (the attempt's verdict is reported elsewhere). */
  tryAcquire(key: string): boolean;
  /** O(1) shortcut: every breaker of `addresses` was seen refusing and none has changed since. */
  allRejecting?(addresses: readonly Address[], now: number): boolean;
  /** Notes that every breaker of `addresses` refused at `now` (for {@link HostBreakers.allRejecting}). */
  noteAllRejecting?(addresses: readonly Address[], now: number): void;
}

/** The host one attempt goes to, as {@link pick} hands it to the attempt. */
export interface PickTarget {
  /** 1-based attempt number within the call. */
  readonly attempt: number;
  readonly address: Address;
  /** `host:port` of the address. */
  readonly key: string;
  /** The breaker key of the host (its `key` when no breakers). */
  readonly breakerKey: string;
  /** The breaker key of the host first picked whose breaker refused it (the attempt moved on). */
  readonly breakerSkipped: string | undefined;
}

/** Options of {@link pick}. */
export interface PickOptions {
  /** Breaker-aware eligibility and the gate; none: every host is eligible. */
  readonly breakers?: HostBreakers | undefined;
  /**
   * The call this pick belongs to ({@link traced}): its attempt count and tried hosts, and its
   * sink's `fail-fast` events. Without it, the pick Observable keeps its own (make one per call).
   */
  readonly events?: CallScope;
  /** Time and random source when no `events` scope gives them. @defaultValue asyncScheduler, Math.random */
  readonly scheduler?: SchedulerLike;
  readonly random?: () => number;
}

const ZERO_LOAD: HostLoad = Object.freeze({ outstanding: 0, cost: 0, sampled: false });

/**
 * Picks an address per subscription and subscribes `attempt(address, target)`: the group's
 * balancer over the eligible hosts (open breakers left out while another remains, hosts already
 * tried in this call avoided while an untried one remains, the group's health checks and slow
 * start), then the breaker gate (the picked host's breaker, else any host's that admits). So a
 * re-subscription by `retryBackoff` picks again, preferring a host not tried yet. When every
 * breaker refuses, it errors with `FailFastError` (and a `fail-fast` event) without subscribing;
 * an empty group errors with `NO_ADDRESS`; a balancer's `pick` that throws, with
 * `INVALID_ARGUMENT` naming `loadBalancer.pick`.
 *
 * @example
 * ```ts
 * const group = { name: 'api', addresses: [{ host: 'a.example', port: 443 }, { host: 'b.example', port: 443 }] };
 * pick(group, (a) => defer(() => fetch(`https://${a.host}/v1/items`))).pipe(retryBackoff({ maxAttempts: 3 }));
 * ```
 */
export function pick<T>(
  group: PickGroup,
  attempt: (address: Address, target: PickTarget) => Observable<T>,
  options: PickOptions = {},
): Observable<T> {
  const { breakers, events } = options;
  let own: CallScope | undefined;
  const balancer = group.balancer ?? new RoundRobinBalancer();
  return new Observable<T>((subscriber) => {
    const scope = events ?? (own ??= ownScope(group, options));
    const sink = scope.sink;
    const now = sink.now();
    const n = ++scope.attempts;
    scope.outcome = undefined;
    scope.target = undefined;
    // Cleared once the attempt starts: an error before that (fail fast, no address) is not retried.
    scope.attemptRefused = true;
    const candidates = group.addresses;
    if (candidates.length === 0) {
      subscriber.error(
        new XhttpError('NO_ADDRESS', `group ${group.name} has no address`, { attempts: n - 1 }),
      );
      return;
    }
    // Every breaker of the group was seen refusing and none has changed since: fail fast in O(1).
    if (breakers !== undefined && !breakers.allClosed && breakers.allRejecting?.(candidates, now) === true) {
      subscriber.error(failFast(scope, group, n, now));
      return;
    }
    let target: PickTarget | undefined;
    try {
      target = select(group, balancer, candidates, breakers, scope, n, now);
    } catch (error) {
      subscriber.error(pickFailed(error, n - 1));
      return;
    }
    if (target === undefined) {
      breakers!.noteAllRejecting?.(candidates, now);
      subscriber.error(failFast(scope, group, n, now));
      return;
    }
    scope.tried.add(target.key);
    scope.target = target;
    scope.attemptRefused = false;
    return attempt(target.address, target).subscribe(subscriber);
  });
}

/** Pick, then gate: the target, or undefined when every breaker refuses. */
function select(
  group: PickGroup,
  balancer: LoadBalancer,
  candidates: readonly Address[],
  breakers: HostBreakers | undefined,
  scope: CallScope,
  attempt: number,
  now: number,
): PickTarget | undefined {
  // canAttempt has no side effects. An open breaker past its window may take the trial, so it is
  // offered as half-open: reported as open, a host would never rejoin while others are healthy.
  const breakerState =
    breakers !== undefined && !breakers.allClosed
      ? (a: Address): CandidateState => {
          const k = breakers.key(a);
          const s = breakers.state(k);
          if (s === 'closed') return s;
          return breakers.canAttempt(k) ? 'half-open' : 'open';
        }
      : undefined;
  const ctx = pickContext(scope);
  ctx.now = now;
  ctx.attempt = attempt;
  const picked =
    selectAddress(candidates, balancer, ctx, breakerState, scope.tried, group.hostPolicy) ?? candidates[0]!;
  if (breakers === undefined) {
    const key = addressKey(picked);
    return { attempt, address: picked, key, breakerKey: key, breakerSkipped: undefined };
  }
  const first = breakers.key(picked);
  if (breakers.tryAcquire(first)) return target(attempt, picked, first, undefined);
  for (const other of candidates) {
    if (other === picked) continue;
    const k = breakers.key(other);
    if (breakers.tryAcquire(k)) return target(attempt, other, k, first);
  }
  return undefined;
}

function target(
  attempt: number,
  address: Address,
  breakerKey: string,
  skipped: string | undefined,
): PickTarget {
  const key = addressKey(address);
  return { attempt, address, key, breakerKey: breakerKey || key, breakerSkipped: skipped };
}

/** The sink's pick context (the client's load statistics), else one of the scope's own, load unknown. */
function pickContext(scope: CallScope): PickContext & { now: number; attempt: number } {
  const shared = scope.sink.pickContext;
  if (shared !== undefined) return shared;
  const random = scope.sink.random ?? Math.random;
  return { now: 0, attempt: 1, random, load: () => ZERO_LOAD };
}

/** The fail-fast event and error: every breaker of the group refuses. */
function failFast(scope: CallScope, group: PickGroup, attempt: number, now: number): FailFastError {
  scope.emit({ type: 'fail-fast', attempt }, now);
  // No stack trace: capturing one was most of a fail-fast's cost, and it says nothing here.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new FailFastError(`circuit breaker open for every address of ${group.name}`, {
    attempts: attempt - 1,
  });
  Error.stackTraceLimit = limit;
  return error;
}

/** What the pick threw: a breaker key's own error, else the balancer's `pick` named as the culprit. */
function pickFailed(error: unknown, attempts: number): XhttpError {
  const e =
    error instanceof XhttpError && error.field === 'circuitBreaker.key'
      ? error
      : callbackFailed('loadBalancer.pick', error);
  e.attempts = attempts;
  return e;
}

/** A pick without a call scope: one of its own, on a sink that emits nowhere. */
function ownScope(group: PickGroup, options: PickOptions): CallScope {
  const scheduler = options.scheduler ?? asyncScheduler;
  const sink: EventSink = {
    emit: noop,
    now: () => scheduler.now(),
    nextCallId: () => 0,
    scheduler,
    random: options.random ?? Math.random,
  };
  return new CallScope(sink, { group });
}

function noop(): void {}
