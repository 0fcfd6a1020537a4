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

  async function run(loadBalancer: LoadBalancerName): Promise<number> {
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
    return slow.hits / CALLS;
  }

  test('p2c-ewma sends the slow host under 8 % of 600 calls at concurrency 16', async () => {
    const share = await run('p2c-ewma');
    assert.ok(share < 0.08, `p2c-ewma: slow host share ${(share * 100).toFixed(1)} %`);
  });

  test('round robin keeps feeding the slow host its full fifth (the scenario bites)', async () => {
    const share = await run('round-robin');
    assert.ok(share > 0.15, `slow host share ${(share * 100).toFixed(1)} %`);
  });
});
