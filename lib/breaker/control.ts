import { invalidArgument } from '../errors.js';
import { addressKey } from '../events/events.js';
import type { BreakerSnapshot, GroupLike } from '../types.js';
import type { CircuitBreakers } from './breakers.js';
import type { ManualCause } from './manual.js';

/**
 * Manual control of a client's circuit breakers, one per key (`client.breakers`): the same
 * `forceOpen`, `forceClose` and `reset` as a standalone `CircuitBreaker`, built on the same core.
 *
 * - `forceOpen(key)`: the breaker refuses every attempt: the balancer routes around its host, and a
 *   call whose every candidate is refused fails with `FailFastError`, nothing sent.
 * - `forceClose(key)`: it admits every attempt; results are not counted while forced.
 * - `reset(key)`: drops any override and starts a fresh closed window, no trips remembered.
 *
 * An override holds until `reset` (or the other `force…`), even while its host is out of every
 * group. Each command emits a `breaker-transition` on `client.events$` with its `cause` (and
 * `forced` while an override holds), shows on `client.breakers$` (the snapshot's `forced`) and on
 * the dashboard, and returns the breaker's snapshot after it.
 *
 * A key is the breaker's name as `breakers$` shows it: `host:port` under the default key (any host
 * of a group the client uses is accepted, before its first call too), or a custom `key`'s value once
 * an attempt has used it. Anything else fails with `INVALID_ARGUMENT`, `field` `key`; with
 * `circuitBreaker: false`, every command fails with `field` `circuitBreaker`.
 *
 * @example
 * ```ts
 * client.breakers.forceOpen('10.0.0.7:8080'); // drain a host: calls go to the others
 * client.breakers.snapshot('10.0.0.7:8080'); // { state: 'open', forced: 'open', … }
 * client.breakers.reset('10.0.0.7:8080'); // back in rotation, with a fresh window
 * ```
 */
export interface BreakerControl {
  /** Forces breaker `key` open: every attempt under it is refused. Returns its snapshot. */
  forceOpen(key: string): BreakerSnapshot;
  /** Forces breaker `key` closed: every attempt is admitted, no result counted. Returns its snapshot. */
  forceClose(key: string): BreakerSnapshot;
  /** Drops any override of breaker `key` and starts it afresh, closed. Returns its snapshot. */
  reset(key: string): BreakerSnapshot;
  /** The current snapshot of breaker `key` (a live host with no breaker yet: a fresh closed one). */
  snapshot(key: string): BreakerSnapshot;
}

/** A fresh closed breaker's view, for a live host whose breaker has not been made yet. */
function freshSnapshot(now: number): BreakerSnapshot {
  return { state: 'closed', failureRate: 0, total: 0, since: now, decision: { failureRate: 0, total: 0 } };
}

/**
 * The {@link BreakerControl} of a client: `breakers` undefined when they are turned off; `groups`
 * lists the groups the client uses (their hosts are known keys under the default key); `now`
 * reads the client's clock.
 */
export function breakerControl(
  breakers: CircuitBreakers | undefined,
  groups: () => Iterable<GroupLike>,
  now: () => number,
): BreakerControl {
  /** Throws unless `key` names a breaker (or, keyed per host, a host of a group). */
  const check = (key: unknown): CircuitBreakers => {
    if (breakers === undefined)
      throw invalidArgument('circuitBreaker', 'circuit breakers are turned off (circuitBreaker: false)');
    if (typeof key !== 'string' || key === '') throw invalidArgument('key', 'must be a non-empty string');
    // The key is not quoted back: errors show a value only by its kind (a key may hold a path).
    if (!breakers.has(key) && !(breakers.keyedByHost && isHostOf(groups(), key)))
      throw invalidArgument(
        'key',
        'no circuit breaker by that key: give a key as breakers$ shows it (host:port by default)',
      );
    return breakers;
  };
  const command = (cause: ManualCause) => (key: string) => check(key).manual(key, cause);
  return {
    forceOpen: command('forceOpen'),
    forceClose: command('forceClose'),
    reset: command('reset'),
    snapshot: (key) => check(key).snapshot(key) ?? freshSnapshot(now()),
  };
}

function isHostOf(groups: Iterable<GroupLike>, key: string): boolean {
  for (const g of groups) for (const a of g.addresses) if (addressKey(a) === key) return true;
  return false;
}
