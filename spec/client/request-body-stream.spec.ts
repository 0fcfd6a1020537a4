import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { AddressGroup, Client, type CallEvent, type LoadBalancer } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

/** What a server saw of one request. */
interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A loopback server recording every request, answering `status` with `ok`. */
async function recorder(status: () => number): Promise<Backend & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const backend = await startBackend((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status(), { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  return Object.assign(backend, { seen });
}

/** A port nothing listens on: bound, then closed (connections to it are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Always the first candidate: the group's addresses are tried in the order given. */
const inOrder: LoadBalancer = { pick: (candidates) => candidates[0] };

const CHUNKS = ['alpha-', 'beta-', 'gamma'].map((s) => new TextEncoder().encode(s));
const WHOLE = 'alpha-beta-gamma';

async function* iterable(): AsyncGenerator<Uint8Array> {
  for (const c of CHUNKS) {
    await new Promise((r) => setImmediate(r));
    yield c;
  }
}

function readable(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const c = CHUNKS[i++];
      if (c) controller.enqueue(c);
      else controller.close();
    },
  });
}

let ok: Backend & { seen: Seen[] };
let busy: Backend & { seen: Seen[] };
before(async () => {
  ok = await recorder(() => 200);
  busy = await recorder(() => 503);
});
after(async () => {
  await ok.close();
  await busy.close();
});

/** A client and a group over `hosts` (in that order), with the events of the test; closed after it. */
async function withClient(
  hosts: string[],
  run: (client: Client, group: AddressGroup, events: CallEvent[]) => Promise<void>,
): Promise<void> {
  const client = new Client();
  const group = new AddressGroup(`static://${hosts.join(',')}`, { loadBalancer: inOrder });
  const events: CallEvent[] = [];
  const sub = client.events$.subscribe((e) => events.push(e));
  ok.seen.length = 0;
  busy.seen.length = 0;
  try {
    await run(client, group, events);
  } finally {
    sub.unsubscribe();
    await client.close();
    group.close();
  }
}

describe('request bodies: Blob, FormData, ReadableStream, AsyncIterable', () => {
  test('each arrives whole, with its content type', async () => {
    await withClient([ok.hostPort], async (client, group) => {
      await client.put(group, '/blob', { body: new Blob(['blob ', 'bytes'], { type: 'text/x-blob' }) });
      assert.equal(ok.seen.at(-1)!.body.toString(), 'blob bytes');
      assert.equal(ok.seen.at(-1)!.headers['content-type'], 'text/x-blob');

      const form = new FormData();
      form.append('name', 'Ada');
      form.append('file', new Blob(['file body'], { type: 'text/plain' }), 'a.txt');
      await client.post(group, '/form', { body: form });
      const seen = ok.seen.at(-1)!;
      const type = seen.headers['content-type']!;
      assert.match(type, /^multipart\/form-data; boundary=/);
      // The server parses the multipart body back (the platform's own parser).
      const parsed = await new Response(new Uint8Array(seen.body), { headers: { 'content-type': type } }).formData();
      assert.equal(parsed.get('name'), 'Ada');
      assert.equal(await (parsed.get('file') as File).text(), 'file body');

      await client.post(group, '/stream', { body: readable(), headers: { 'content-type': 'text/plain' } });
      assert.equal(ok.seen.at(-1)!.body.toString(), WHOLE);
      assert.equal(ok.seen.at(-1)!.headers['transfer-encoding'], 'chunked');

      await client.request({ method: 'PUT', group, path: '/iter', body: iterable() });
      assert.equal(ok.seen.at(-1)!.body.toString(), WHOLE);
      // A Node Readable (an fs stream, say) is an AsyncIterable of Buffers.
      await client.put(group, '/node', { body: Readable.from([Buffer.from('node '), Buffer.from('stream')]) });
      assert.equal(ok.seen.at(-1)!.body.toString(), 'node stream');
      assert.equal(ok.seen.length, 5);
    });
  });

  test('a Blob or a FormData is re-sent whole on a retry', async () => {
    await withClient([busy.hostPort, ok.hostPort], async (client, group) => {
      const retry = { maxAttempts: 2, backoff: { initialDelay: 0 } };
      const res = await client.put(group, '/blob', { body: new Blob(['again']), retry });
      assert.equal(res.status, 200);
      assert.equal(res.attempts, 2);
      assert.equal(busy.seen[0]!.body.toString(), 'again');
      assert.equal(ok.seen[0]!.body.toString(), 'again');
      const form = new FormData();
      form.append('k', 'v');
      const res2 = await client.put(group, '/form', { body: form, retry });
      assert.equal(res2.attempts, 2);
      assert.match(ok.seen[1]!.body.toString(), /name="k"\r\n\r\nv\r\n/);
    });
  });
});

describe('a streamed request body is sent once', () => {
  test('a stream upload on a 503 with retries configured is not re-sent: the 503 returns, events$ says why', async () => {
    for (const body of [readable, iterable]) {
      await withClient([busy.hostPort, ok.hostPort], async (client, group, events) => {
        const res = await client.put(group, '/upload', {
          body: body(),
          retry: { maxAttempts: 3, backoff: { initialDelay: 0 } },
        });
        assert.equal(res.status, 503, 'the call ends with the attempt it made');
        assert.equal(res.attempts, 1);
        assert.equal(busy.seen.length, 1, 'the busy host saw one request');
        assert.equal(busy.seen[0]!.body.toString(), WHOLE, 'whole');
        assert.equal(ok.seen.length, 0, 'nothing was re-sent to the other host');
        const refused = events.filter((e) => e.type === 'retry-refused');
        assert.deepEqual(
          refused.map((e) => e.type === 'retry-refused' && [e.attempt, e.reason]),
          [[2, 'body-not-replayable']],
        );
        assert.equal(events.filter((e) => e.type === 'retry-scheduled').length, 0);
      });
    }
  });

  test('a stream upload whose first attempt met a refused connection is sent once, to the other host', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    for (const retry of [undefined, { maxAttempts: 3, backoff: { initialDelay: 0 } }]) {
      await withClient([dead, ok.hostPort], async (client, group, events) => {
        const res = await client.post(group, '/upload', { body: readable(), ...(retry ? { retry } : {}) });
        assert.equal(res.status, 200);
        assert.equal(res.attempts, 2);
        assert.equal(res.address.port, ok.port);
        assert.equal(ok.seen.length, 1, 'sent once');
        assert.equal(ok.seen[0]!.body.toString(), WHOLE, 'whole, not truncated');
        const ends = events.filter((e) => e.type === 'attempt-end');
        assert.deepEqual(
          ends.map((e) => e.type === 'attempt-end' && [e.key, e.errorCode ?? e.status]),
          [
            [dead, 'CONNECT'],
            [ok.hostPort, 200],
          ],
        );
        assert.equal(events.filter((e) => e.type === 'retry-refused').length, 0);
      });
    }
  });

  test('a stream given to an Observable that is subscribed again is not sent again (empty)', async () => {
    await withClient([ok.hostPort], async (client, group) => {
      const upload$ = client.put$(group, '/up', { body: readable() });
      assert.equal((await firstValueFrom(upload$)).status, 200);
      await assert.rejects(firstValueFrom(upload$), (e: unknown) => (e as { field?: string }).field === 'body');
      assert.equal(ok.seen.length, 1);
      assert.equal(ok.seen[0]!.body.toString(), WHOLE);
    });
  });

  test('a 307 redirect with a streamed body fails rather than send it again truncated', async () => {
    const redirecting = await startBackend((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(307, { location: `http://${ok.hostPort}/moved` });
        res.end();
      });
    });
    try {
      await withClient([redirecting.hostPort], async (client, group) => {
        await assert.rejects(
          client.put(group, '/up', { body: readable(), redirect: 'follow' }),
          (e: unknown) => (e as { field?: string }).field === 'body',
        );
        assert.equal(ok.seen.length, 0, 'nothing reached the redirect target');
      });
    } finally {
      await redirecting.close();
    }
  });
});
