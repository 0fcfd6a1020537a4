import assert from 'node:assert/strict';
import { Client, AddressGroup, isXhttpError, type XhttpError, type CallEvent } from '../../lib/index.js';
import type { ClientConfig } from '../../lib/client/config.js';
import { LeakProbe } from './fault-leaks.js';

/** What a fault spec gets: a fresh client and group, and every event the client emitted. */
export interface FaultContext {
  readonly client: Client;
  readonly group: AddressGroup;
  readonly events: CallEvent[];
}

/**
 * Runs `body` with a fresh client (breakers off unless given) on a `static://` group of `hostPorts`,
 * then closes both and asserts that no handle or timer is left beyond the baseline taken before the
 * client existed, and that `events$` completed (no subscriber left observing a live Subject).
 */
export async function withFaultClient(
  hostPorts: string | readonly string[],
  config: ClientConfig,
  body: (ctx: FaultContext) => Promise<void>,
): Promise<void> {
  const probe = await LeakProbe.start();
  const client = new Client({ circuitBreaker: false, ...config });
  const list = typeof hostPorts === 'string' ? [hostPorts] : hostPorts;
  const group = new AddressGroup(`static://${list.join(',')}`, { loadBalancer: 'round-robin' });
  const events: CallEvent[] = [];
  const sub = client.events$.subscribe((e) => events.push(e));
  try {
    await body({ client, group, events });
    const starts = events.filter((e) => e.type === 'call-start').length;
    const ends = events.filter((e) => e.type === 'call-end').length;
    assert.equal(ends, starts, 'every call ends exactly once on events$');
  } finally {
    await client.close();
    group.close();
  }
  assert.equal(sub.closed, true, 'events$ completes on close()');
  await probe.assertClean();
}

/** Awaits `p`, which must reject with an XhttpError of `code` (and `phase`, for timeouts). */
export async function expectCode(
  p: Promise<unknown>,
  code: string,
  phase?: string,
): Promise<XhttpError & { phase?: string }> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected ${code}, the call succeeded`);
  assert.ok(isXhttpError(error), `expected an XhttpError, got ${String(error)}`);
  const x = error as XhttpError & { phase?: string };
  assert.equal(x.code, code, `code (message: ${x.message})`);
  if (phase !== undefined) assert.equal(x.phase, phase, 'timeout phase');
  return x;
}

/** Awaits `p` (rethrowing its error) and says how many milliseconds it took. */
export async function timed<T>(p: Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await p;
  return { ms: performance.now() - t, value };
}
