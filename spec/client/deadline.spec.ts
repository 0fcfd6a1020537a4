import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressGroup,
  Client,
  isXhttpError,
  parseDeadlineHeader,
  remainingDeadline,
  TimeoutError,
  withDeadline,
} from '../../lib/index.js';
import { deadlineHeaderValue, MAX_DEADLINE_MS } from '../../lib/resilience/deadline.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

// Deadline propagation, the client half: each attempt tells the server its time left, and a call made
// under withDeadline (what rxhttp/nest does per incoming request) gets no more than what is left.

const HEADER = 'x-rxhttp-deadline-ms';
const backends: Backend[] = [];
const clients: Client[] = [];
const groups: AddressGroup[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const g of groups) g.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function setup(config?: ConstructorParameters<typeof Client>[0], hang = false) {
  const seen: (string | undefined)[] = [];
  const b = await startBackend((req, res) => {
    seen.push(req.headers[(config?.deadlineHeader || HEADER) as string] as string | undefined);
    if (!hang) {
      res.statusCode = seen.length === 1 ? 503 : 200;
      res.end('x');
    }
  });
  backends.push(b);
  const client = new Client({ circuitBreaker: false, ...config });
  clients.push(client);
  const group = new AddressGroup(`static://${b.hostPort}`);
  groups.push(group);
  return { b, client, group, seen };
}

test('every attempt carries the time left of its call, whole ms; a retry carries less', async () => {
  const { client, group, seen } = await setup();
  const res = await client.get(group, '/', {
    timeout: 2_000,
    retry: { maxAttempts: 2, backoff: { initialDelay: 30, jitter: 'none' } },
  });
  assert.equal(res.status, 200);
  const [first, second] = seen.map(Number) as [number, number];
  assert.match(seen[0]!, /^[0-9]+$/);
  assert.ok(first > 1_500 && first <= 2_000, `first attempt: ${first}`);
  assert.ok(second <= first - 30, `the retry, after a 30 ms back-off: ${second}`);
});

test('deadlineHeader names the header, or false sends none; a bad name is refused', async () => {
  const custom = await setup({ deadlineHeader: 'X-Envoy-Expected-Rq-Timeout-Ms' });
  await custom.client.get(custom.group, '/', { timeout: 900 });
  assert.ok(Number(custom.b.lastHeaders?.['x-envoy-expected-rq-timeout-ms']) <= 900);
  assert.equal(custom.b.lastHeaders?.[HEADER], undefined);
  const off = await setup({ deadlineHeader: false });
  await off.client.get(off.group, '/');
  assert.equal(off.b.lastHeaders?.[HEADER], undefined);
  for (const bad of ['bad name', 'content-length', 12, true]) {
    assert.throws(
      () => new Client({ deadlineHeader: bad as never }),
      (e: unknown) =>
        isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field!.startsWith('deadlineHeader'),
      String(bad),
    );
  }
});

test("the client's own headers win over a call's of the same name, each sent once, the call's others kept", async () => {
  const raw: string[][] = [];
  const b = await startBackend((req, res) => {
    raw.push(req.rawHeaders);
    res.statusCode = raw.length === 1 ? 503 : 200;
    res.end('x');
  });
  backends.push(b);
  const client = new Client({ circuitBreaker: false, headers: { 'x-team': 'payments' } });
  clients.push(client);
  const group = new AddressGroup(`static://${b.hostPort}`);
  groups.push(group);
  const res = await client.get(group, '/', {
    timeout: 2_000,
    retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
    headers: { [HEADER]: '999999', 'x-rxhttp-attempt': '7', 'x-call': 'c' },
  });
  assert.equal(res.status, 200);
  const values = (attempt: number, name: string): string[] => {
    const h = raw[attempt]!;
    const out: string[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) if (h[i]!.toLowerCase() === name) out.push(h[i + 1]!);
    return out;
  };
  for (const attempt of [0, 1]) {
    const deadline = values(attempt, HEADER);
    assert.equal(deadline.length, 1, `attempt ${attempt + 1}: one deadline header`);
    assert.ok(Number(deadline[0]) <= 2_000, `attempt ${attempt + 1}: ours, not the call's: ${deadline[0]}`);
    assert.deepEqual(values(attempt, 'x-call'), ['c']);
    assert.deepEqual(values(attempt, 'x-team'), ['payments']);
  }
  // The first attempt has no attempt header of ours: the call's goes out; the retry carries ours only.
  assert.deepEqual(values(0, 'x-rxhttp-attempt'), ['7']);
  assert.deepEqual(values(1, 'x-rxhttp-attempt'), ['2']);
});

test('a call made under withDeadline gets at most the time left, and sends that on', async () => {
  const { b, client, group, seen } = await setup({}, true);
  const started = performance.now();
  const err = await withDeadline(200, () => client.get(group, '/')).catch((e: unknown) => e);
  assert.ok(
    err instanceof TimeoutError && err.phase === 'call',
    'the 30 s default was cut to the 200 ms left',
  );
  assert.ok(performance.now() - started < 5_000);
  assert.ok(Number(seen[0]) <= 200 && Number(seen[0]) > 0, `sent on: ${seen[0]}`);
  // A shorter timeout of the call's own stands; nested, the earlier deadline wins.
  assert.equal(
    withDeadline(1_000, () => withDeadline(5_000, () => Math.round(remainingDeadline()! / 100))),
    10,
  );
  assert.equal(remainingDeadline(), undefined, 'only inside');
  // Already past: fails at once, sends nothing.
  const hits = b.hits;
  const past = await withDeadline(0, () => client.get(group, '/')).catch((e: unknown) => e);
  assert.ok(past instanceof TimeoutError && past.phase === 'call');
  assert.equal(b.hits, hits, 'nothing was sent');
  assert.equal(past.timeline?.entries.length, 0);
});

test('parseDeadlineHeader takes whole ms, ignores anything else, clamps what is too long', () => {
  assert.equal(parseDeadlineHeader('250'), 250);
  assert.equal(parseDeadlineHeader(' 250\t'), 250);
  assert.equal(parseDeadlineHeader('0'), 0);
  assert.equal(parseDeadlineHeader(['40']), 40);
  for (const bad of [
    undefined,
    '',
    ' ',
    '-1',
    '+1',
    '1.5',
    '1e3',
    '0x1f',
    'abc',
    '1 2',
    '5, 6',
    ['1', '2'],
    7,
    null,
  ])
    assert.equal(parseDeadlineHeader(bad), undefined, JSON.stringify(bad));
  assert.equal(parseDeadlineHeader('9'.repeat(400)), MAX_DEADLINE_MS);
  assert.equal(deadlineHeaderValue(1_000.9, 0), '1000', 'never more than is left');
  assert.equal(deadlineHeaderValue(10, 9.5), '1', 'never 0, which many servers read as none');
});
