import type { CircuitBreakers } from '../breaker/breakers.js';
import type { BreakerSnapshot } from '../types.js';

/** The breakers of one host, as its row on `health$` shows them. */
export interface HostBreakers {
  /** Worst state among the host's breakers: open, then half-open, then closed. */
  readonly state: 'closed' | 'open' | 'half-open';
  /** Clock time (ms) of the last transition of a breaker in that worst state. */
  readonly since: number;
  /** Failures / total over the host's breakers' windows together; 0 when total is 0. */
  readonly failureRate: number;
  readonly total: number;
  /** Breakers whose attempts go to this host: 1 under the default per-host key, one per key otherwise. */
  readonly keys: number;
  /** How many of them are open. */
  readonly openKeys: number;
  /** The manual override of the breaker that gives `state` (`client.breakers.forceOpen`, …), if any. */
  readonly forced?: 'open' | 'closed';
}

const RANK = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Per snapshot map (it is cached until a breaker changes), the grouping made from it. */
const grouped = new WeakMap<ReadonlyMap<string, BreakerSnapshot>, ReadonlyMap<string, HostBreakers>>();

/**
 * The breakers of every host, by address key (`host:port`). Under the default key a breaker is its
 * host's; under a custom `circuitBreaker.key` (per path, per method) each breaker counts for the host
 * its last attempt went to, so a host row shows the worst of its keys and how many are open rather
 * than looking up `host:port` (which no breaker is named) and saying "closed".
 */
export function breakersByHost(breakers: CircuitBreakers): ReadonlyMap<string, HostBreakers> {
  const snaps = breakers.snapshots();
  let byHost = grouped.get(snaps);
  if (byHost === undefined) {
    byHost = group(snaps, (key) => breakers.addressOf(key));
    grouped.set(snaps, byHost);
  }
  return byHost;
}

/** Pure core of {@link breakersByHost}: `addressOf` maps a breaker key to its host's key. */
export function group(
  snaps: ReadonlyMap<string, BreakerSnapshot>,
  addressOf: (key: string) => string | undefined,
): ReadonlyMap<string, HostBreakers> {
  const acc = new Map<
    string,
    { -readonly [K in Exclude<keyof HostBreakers, 'forced'>]: HostBreakers[K] } & {
      failures: number;
      forced: HostBreakers['forced'] | undefined;
    }
  >();
  for (const [key, s] of snaps) {
    const host = addressOf(key) ?? key;
    let a = acc.get(host);
    if (a === undefined) {
      a = {
        state: s.state,
        since: s.since,
        forced: s.forced,
        failureRate: 0,
        total: 0,
        keys: 0,
        openKeys: 0,
        failures: 0,
      };
      acc.set(host, a);
    } else if (RANK[s.state] > RANK[a.state] || (s.state === a.state && s.since > a.since)) {
      a.state = s.state;
      a.since = s.since;
      a.forced = s.forced;
    }
    a.keys++;
    if (s.state === 'open') a.openKeys++;
    a.total += s.total;
    a.failures += s.failureRate * s.total;
  }
  const out = new Map<string, HostBreakers>();
  for (const [host, a] of acc) {
    const { failures, forced, ...row } = a;
    out.set(host, {
      ...row,
      failureRate: a.total === 0 ? 0 : failures / a.total,
      ...(forced === undefined ? {} : { forced }),
    });
  }
  return out;
}
