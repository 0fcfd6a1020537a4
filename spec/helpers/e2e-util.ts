import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import type { Client, CallEvent, LoadBalancer, BreakerSnapshot } from '../../lib/index.js';

type EventOf<T extends CallEvent['type']> = Extract<CallEvent, { type: T }>;

/** Records every event of a client; subscribe before the calls (the bus drops unobserved events). */
export class EventLog {
  readonly all: CallEvent[] = [];
  readonly #sub: Subscription;

  constructor(client: Client) {
    this.#sub = client.events$.subscribe((e) => this.all.push(e));
  }

  of<T extends CallEvent['type']>(type: T): EventOf<T>[] {
    return this.all.filter((e): e is EventOf<T> => e.type === type);
  }

  /** Events of one call, in order. */
  call(callId: number): CallEvent[] {
    return this.all.filter((e) => 'callId' in e && e.callId === callId);
  }

  clear(): void {
    this.all.length = 0;
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

/** Every state a breaker key went through on `breakers$`, consecutive repeats folded. */
export class BreakerStates {
  readonly states = new Map<string, string[]>();
  /** Sizes of every map seen. */
  readonly sizes: number[] = [];
  latest: ReadonlyMap<string, BreakerSnapshot> = new Map();
  readonly #sub: Subscription;

  constructor(client: Client) {
    this.#sub = client.breakers$.subscribe((map) => {
      this.latest = map;
      this.sizes.push(map.size);
      for (const [key, snap] of map) {
        const seen = this.states.get(key) ?? [];
        if (seen[seen.length - 1] !== snap.state) seen.push(snap.state);
        this.states.set(key, seen);
      }
    });
  }

  state(key: string): string | undefined {
    return this.latest.get(key)?.state;
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

/**
 * A balancer that always picks the candidate on `port` when it is offered (the call's retries then
 * see it filtered out as tried, so they go elsewhere): makes "the first attempt goes to the bad host"
 * deterministic.
 */
export function preferPort(port: number): LoadBalancer {
  return { pick: (candidates) => candidates.find((a) => a.port === port) ?? candidates[0] };
}

/** A loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Repeats `step` (awaiting each) with `gapMs` between, until `done()` holds or `max` steps have run.
 * Returns the number of steps made; throws if `done()` never held.
 */
export async function repeatUntil(
  step: () => Promise<unknown>,
  done: () => boolean,
  max: number,
  gapMs: number,
  what = 'condition',
): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (done()) return i;
    await step();
    if (done()) return i + 1;
    await sleep(gapMs);
  }
  throw new Error(`${what} not reached after ${max} steps`);
}

/** Settles a promise into its value or its error's `code`. */
export async function outcome<T>(p: Promise<T>): Promise<T | { code: string; error: unknown }> {
  try {
    return await p;
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'UNKNOWN', error };
  }
}
