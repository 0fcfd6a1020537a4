import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup, type LoadBalancerName } from '../../lib/index.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';

const CALLS = 600;
const CONCURRENCY = 16;

describe('load balancing end to end: five real backends, one 50x slower', () => {
  let backends: Backend[];
  let slow: Backend;
  before(async () => {
    const delay = (ms: number) => (_req: unknown, res: { end(s: string): void }) =>
      setTimeout(() => res.end('ok'), ms);
    backends = await Promise.all([2, 2, 2, 2].map((ms) => startBackend(delay(ms))));
    slow = await startBackend(delay(100));
    backends.push(slow);
  });
  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  /** Hits per backend over CALLS calls at CONCURRENCY; the slow one last. */
  async function run(loadBalancer: LoadBalancerName): Promise<{ fast: number[]; slow: number }> {
    for (const b of backends) b.hits = 0;
    const client = new Client();
    const group = new AddressGroup(staticTarget(...backends), { loadBalancer });
    let next = 0;
    const worker = async () => {
      while (next < CALLS) {
        next++;
        const res = await client.get(group, '/');
        assert.equal(res.status, 200);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await client.close();
    group.close();
    const hits = backends.map((b) => b.hits);
    assert.equal(
      hits.reduce((a, b) => a + b, 0),
      CALLS,
      'one request per call',
    );
    return { fast: hits.slice(0, -1), slow: slow.hits };
  }

  // How small the slow host's share gets is a benchmark figure (bench/balance.ts, bench/RESULTS.md);
  // here only the order, with a wide margin: the slow host gets less than half the least-used fast one.
  test('p2c-ewma sends the slow host less than half of what any fast host gets', async () => {
    const { fast, slow: s } = await run('p2c-ewma');
    assert.ok(s < Math.min(...fast) / 2, `p2c-ewma: slow host ${s}, fast hosts ${fast.join(', ')}`);
  });

  test('round robin keeps feeding the slow host its full fifth (the scenario bites)', async () => {
    const { fast, slow: s } = await run('round-robin');
    for (const n of [...fast, s]) assert.ok(Math.abs(n - CALLS / 5) <= 1, `hits ${[...fast, s].join(', ')}`);
  });
});
