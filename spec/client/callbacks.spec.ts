import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NEVER, of } from 'rxjs';
import {
  AddressGroup,
  Client,
  registerResolver,
  XhttpError,
  type Address,
  type LoadBalancer,
} from '../../lib/index.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';

/** A bound on how long a call may take to settle: a call left pending fails the spec, not hangs it. */
const SETTLE_WITHIN_MS = 3_000;

/** The error `p` rejects with; fails when it resolves or stays pending past the bound. */
async function rejection(p: Promise<unknown>): Promise<XhttpError> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the call is still pending')), SETTLE_WITHIN_MS);
  });
  try {
    await Promise.race([p, pending]);
  } catch (e) {
    assert.ok(e instanceof XhttpError, `expected an XhttpError, got ${String(e)}`);
    return e;
  } finally {
    clearTimeout(timer);
  }
  assert.fail('the call resolved');
}

/** The coded error a throwing callback fails a call with: INVALID_ARGUMENT naming it, its cause the thrown value. */
function assertCallbackError(e: XhttpError, field: string, thrown: unknown): void {
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.equal(e.field, field);
  assert.equal(e.cause, thrown);
  assert.match(e.message, new RegExp(field.replace('.', '\\.')));
}

describe('a user callback that throws fails the call at once, naming it; the client keeps working', () => {
  let x: Backend;
  let status = 503;
  before(async () => {
    x = await startBackend((_req, res) => {
      res.statusCode = status;
      res.end('x');
    });
  });
  after(() => x.close());

  test('circuitBreaker.isFailure', async () => {
    const bug = new Error('isFailure bug');
    let broken = true;
    const client = new Client({
      requestTimeout: 60_000,
      circuitBreaker: {
        isFailure: (o) => {
          if (broken) throw bug;
          return o.response?.status === 500;
        },
      },
    });
    const group = new AddressGroup(staticTarget(x));
    try {
      status = 200;
      assertCallbackError(await rejection(client.get(group, '/')), 'circuitBreaker.isFailure', bug);
      broken = false;
      assert.equal((await client.get(group, '/')).status, 200, 'the next call is fine');
    } finally {
      await client.close();
      group.close();
    }
  });

  test('retry.retryOn', async () => {
    const bug = new Error('retryOn bug');
    const client = new Client({ requestTimeout: 60_000 });
    const group = new AddressGroup(staticTarget(x));
    try {
      status = 503;
      const hits = x.hits;
      const retry = {
        maxAttempts: 3,
        retryOn: () => {
          throw bug;
        },
      };
      const e = await rejection(client.get(group, '/', { retry }));
      assertCallbackError(e, 'retry.retryOn', bug);
      assert.equal(x.hits - hits, 1, 'no retry after the callback threw');
      status = 200;
      assert.equal((await client.get(group, '/', { retry: { maxAttempts: 3 } })).status, 200);
    } finally {
      await client.close();
      group.close();
    }
  });

  test('circuitBreaker.key, throwing on a retry (from the back-off timer)', async () => {
    const bug = new Error('key bug');
    let keys = 0;
    let broken = true;
    const client = new Client({
      requestTimeout: 60_000,
      circuitBreaker: {
        key: (req, a) => {
          if (broken && ++keys > 1) throw bug; // the first attempt's key is fine, the retry's throws
          return `${a.host}:${a.port}${req.path ?? ''}`;
        },
      },
    });
    const group = new AddressGroup(staticTarget(x));
    try {
      status = 503;
      const retry = { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' as const } };
      const e = await rejection(client.get(group, '/k', { retry }));
      assertCallbackError(e, 'circuitBreaker.key', bug);
      assert.equal(e.attempts, 1, 'the retry never went out');
      broken = false;
      status = 200;
      assert.equal((await client.get(group, '/k', { retry })).status, 200);
    } finally {
      await client.close();
      group.close();
    }
  });

  test("a balancer's pick", async () => {
    const bug = new Error('pick bug');
    let broken = true;
    const balancer: LoadBalancer = {
      pick(candidates: readonly Address[]) {
        if (broken) throw bug;
        return candidates[0];
      },
    };
    const client = new Client({ requestTimeout: 60_000 });
    const group = new AddressGroup(staticTarget(x), { loadBalancer: balancer });
    try {
      status = 200;
      const hits = x.hits;
      assertCallbackError(await rejection(client.get(group, '/')), 'loadBalancer.pick', bug);
      assert.equal(x.hits, hits, 'nothing was sent');
      broken = false;
      assert.equal((await client.get(group, '/')).status, 200);
    } finally {
      await client.close();
      group.close();
    }
  });
});

test("a resolver's resolve that throws synchronously: calls fail naming it; the group recovers", async () => {
  const x = await startBackend();
  const bug = new Error('resolver bug');
  let throws = 1;
  registerResolver({
    scheme: 'throwsonce',
    resolve: () => {
      if (throws-- > 0) throw bug;
      return of([{ host: '127.0.0.1', port: x.port }]);
    },
  });
  registerResolver({ scheme: 'throwsalways', resolve: () => (throws > 100 ? NEVER : raise(bug)) });
  const client = new Client({ requestTimeout: 60_000 });
  const always = new AddressGroup('throwsalways://svc');
  const once = new AddressGroup('throwsonce://svc');
  try {
    assertCallbackError(await rejection(client.get(always, '/')), 'resolver.resolve', bug);
    assertCallbackError(await rejection(client.get(always, '/')), 'resolver.resolve', bug);
    // The group that threw once re-resolves on its back-off and then serves calls.
    await once.ready;
    assert.equal((await client.get(once, '/')).status, 200);
  } finally {
    await client.close();
    always.close();
    once.close();
    await x.close();
  }
});

function raise(error: unknown): never {
  throw error;
}
