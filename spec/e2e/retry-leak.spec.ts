import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Client, AddressGroup, type CallOptions } from '../../lib/index.js';
import { startFlakyChild, type FlakyChild } from '../helpers/e2e-child.js';
import { activeResources, settle } from '../helpers/handles.js';
import { EventLog } from '../helpers/e2e-util.js';

const CALLS = 2_000;
const STREAMED = 300;
const WORKERS = 64;
const CONNECTIONS = 8;

/** Counts the client's open connections through undici's diagnostics channel, keeping the peak. */
class ConnectionGauge {
  open = 0;
  peak = 0;
  connects = 0;
  readonly #onConnected = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    this.connects++;
    this.open++;
    if (this.open > this.peak) this.peak = this.open;
    socket.once('close', () => this.open--);
  };

  constructor() {
    diagnostics.subscribe('undici:client:connected', this.#onConnected);
  }

  stop(): void {
    diagnostics.unsubscribe('undici:client:connected', this.#onConnected);
  }
}

let child: FlakyChild;
before(async () => {
  child = await startFlakyChild(0.4, 0.1);
});
after(async () => {
  await child.stop();
});

test(`no open sockets after ${CALLS + STREAMED} retried calls against a backend failing half its requests`, async () => {
  await settle(100);
  const baseline = activeResources().sort();

  const gauge = new ConnectionGauge();
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    const sockets = activeResources().filter((r) => r === 'TCPSocketWrap').length;
    if (sockets > sampledPeak) sampledPeak = sockets;
  }, 2);

  // Breakers off: at a ~50 % failure rate a breaker would flap and fail calls fast, sending less.
  const client = new Client({ connections: CONNECTIONS, retryBudget: false, circuitBreaker: false });
  const group = new AddressGroup(`static://${child.hostPort}`);
  const log = new EventLog(client);
  const retry: CallOptions['retry'] = { maxAttempts: 3, backoff: { initialDelay: 2, maxDelay: 20 } };

  const ends = { ok: 0, status503: 0, errors: new Map<string, number>() };
  let next = 0;
  const worker = async () => {
    while (next < CALLS + STREAMED) {
      const i = next++;
      const streamed = i >= CALLS;
      try {
        const res = await client.get(group, '/', { retry, ...(streamed ? { responseType: 'stream' } : {}) });
        // A streamed body must be read (or dumped) by the caller; half of them are dumped.
        if (streamed && i % 2 === 0) await res.body.dump();
        else await res.body.text();
        if (res.status === 200) ends.ok++;
        else ends.status503++;
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'UNKNOWN';
        ends.errors.set(code, (ends.errors.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  clearInterval(sampler);

  const stats = await child.stats();
  const retries = log.of('retry-scheduled').length;
  const during = { open: gauge.open, peak: gauge.peak, connects: gauge.connects };
  console.log(
    `# ${CALLS + STREAMED} calls: ${ends.ok} ok, ${ends.status503} ended 503, errors ${JSON.stringify(Object.fromEntries(ends.errors))}; ` +
      `${retries} retries; server saw ${stats.hits} requests (${stats.failed} 503, ${stats.reset} resets), ` +
      `${during.connects} connections made, peak ${during.peak} open (sampled ${sampledPeak}, server ${stats.maxOpen})`,
  );

  assert.equal(
    ends.ok + ends.status503 + [...ends.errors.values()].reduce((a, b) => a + b, 0),
    CALLS + STREAMED,
  );
  assert.ok(retries > CALLS / 4, `${retries} retries were made`);
  assert.ok(stats.hits >= CALLS + STREAMED + retries * 0.99, 'every attempt reached the server');
  assert.ok(
    [...ends.errors.keys()].every((k) => k === 'RESET'),
    'calls end with a response or a RESET',
  );
  assert.ok(during.peak > 0, 'the gauge saw connections');
  assert.ok(
    during.peak <= CONNECTIONS,
    `the pool held at most ${CONNECTIONS} connections (peak ${during.peak})`,
  );
  assert.ok(during.open <= CONNECTIONS);

  log.stop();
  await client.close();
  group.close();
  await settle(200);
  assert.equal(gauge.open, 0, 'every client connection closed');
  gauge.stop();
  assert.deepEqual(activeResources().sort(), baseline, 'active resources back to the baseline');
});
