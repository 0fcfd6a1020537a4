import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { Client, isXhttpError, TimeoutError } from '../../lib/index.js';
import { startBackend, waitFor, type Backend } from '../helpers/loopback.js';

/**
 * A redirect chain is one call: its hops share the call's deadline, its retry attempts and its
 * maxResponseBytes. Routes: `/slow-*` answer after 700 ms, `/big-*` with 600 bytes,
 * `/flaky-*` with 503 until their count runs out.
 */
let a: Backend;
let b: Backend;
const counts = new Map<string, number>();

function handler(other: () => Backend) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const next = `http://${other().hostPort}`;
    switch (path) {
      case '/slow-start':
        setTimeout(() => res.writeHead(302, { location: `${next}/slow-end` }).end(), 700);
        return;
      case '/slow-end':
        setTimeout(() => res.end('late'), 700);
        return;
      case '/big-start':
        res.writeHead(302, { location: `${next}/big-end` }).end('r'.repeat(600));
        return;
      case '/big-end':
        res.end('b'.repeat(600));
        return;
      case '/flaky-start':
        if (counts.get(path)! < 3) res.writeHead(503).end();
        else res.writeHead(302, { location: `${next}/flaky-end` }).end();
        return;
      case '/flaky-end':
        res.writeHead(503).end();
        return;
      default:
        res.end('ok');
    }
  };
}

before(async () => {
  a = await startBackend(handler(() => b));
  b = await startBackend(handler(() => a));
});
after(async () => {
  await a.close();
  await b.close();
});

async function timing<T>(p: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
    return { error: undefined, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

const RETRY = { maxAttempts: 3, backoff: { initialDelay: 1, maxDelay: 2 } };

describe('a redirect chain is bounded as one call', () => {
  const ways: Record<string, (c: Client, url: string, o: object) => Promise<unknown>> = {
    // fetch rejects as fetch does: TypeError('fetch failed') whose cause is our XhttpError.
    'client.fetch': (c, url, o) =>
      c.fetch(url, o).catch((e: unknown) => {
        throw e instanceof TypeError && isXhttpError(e.cause) ? e.cause : e;
      }),
    "request() with redirect 'follow'": (c, url, o) => c.request({ url }, { redirect: 'follow', ...o }),
    "request$ with redirect 'follow'": (c, url, o) =>
      firstValueFrom(c.request$({ url }, { redirect: 'follow', ...o })),
  };
  for (const [name, call] of Object.entries(ways)) {
    test(`${name}: the hops share the call's deadline (700 ms + 700 ms against 1 000 ms)`, async () => {
      const client = new Client();
      const { error, ms } = await timing(call(client, `http://${a.hostPort}/slow-start`, { timeout: 1_000 }));
      assert.ok(error instanceof TimeoutError, `a call timeout, not ${String(error)}`);
      assert.equal(error.phase, 'call');
      // Each hop on a deadline of its own answered after ~1 400 ms; the shared one ends it at ~1 000.
      assert.ok(ms >= 950 && ms < 1_350, `failed after ${ms.toFixed(0)} ms`);
      await client.close();
    });

    test(`${name}: the redirect bodies count against maxResponseBytes`, async () => {
      const client = new Client();
      const { error } = await timing(
        call(client, `http://${a.hostPort}/big-start`, { maxResponseBytes: 1_000 }),
      );
      assert.ok(isXhttpError(error), String(error));
      assert.equal(error.code, 'RESPONSE_TOO_LARGE');
      // Either hop alone fits: the limit holds for the chain.
      const alone = await client.request({ url: `http://${b.hostPort}/big-end` }, { maxResponseBytes: 1_000 });
      assert.equal(alone.status, 200);
      await client.close();
    });

    test(`${name}: the hops share the call's retry attempts`, async () => {
      counts.delete('/flaky-start');
      counts.delete('/flaky-end');
      const client = new Client();
      const res = (await call(client, `http://${a.hostPort}/flaky-start`, { retry: RETRY })) as {
        status: number;
      };
      // Hop 1 used all three attempts (503, 503, 302): hop 2 gets one, not three more.
      assert.equal(res.status, 503);
      assert.equal(counts.get('/flaky-start'), 3);
      assert.equal(counts.get('/flaky-end'), 1);
      await client.close();
    });
  }

  test("request$ with redirect 'follow': unsubscribing during a later hop aborts that hop", async () => {
    const client = new Client();
    counts.delete('/slow-end');
    const aborted = b.aborted;
    const sub = client
      .request$({ url: `http://${a.hostPort}/slow-start` }, { redirect: 'follow', timeout: 5_000 })
      .subscribe({ error: () => assert.fail('no error after unsubscribe') });
    await waitFor(() => counts.get('/slow-end') === 1);
    sub.unsubscribe();
    await waitFor(() => b.aborted === aborted + 1);
    await client.close();
  });
});
