import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup } from '../../lib/index.js';
import { startChildBackend } from '../helpers/child-backend.js';
import { activeResources, settle } from '../helpers/handles.js';
import { startBackend, staticTarget, waitFor } from '../helpers/loopback.js';
import type { CallEvent } from '../../lib/events/events.js';

test('close() leaves no active handles: sockets, timers and subscriptions are released', async () => {
  const ok = await startChildBackend('ok');
  const hang = await startChildBackend('hang');
  await settle();
  const before = activeResources().sort();

  const client = new Client({ requestTimeout: 2_000 });
  const group = new AddressGroup(`static://${ok.hostPort}`);
  const hung = new AddressGroup(`static://${hang.hostPort}`);
  const events = client.events$.subscribe();
  for (let i = 0; i < 20; i++) assert.equal((await client.get(group, '/')).status, 200);
  await Promise.all(Array.from({ length: 10 }, () => client.get(group, '/')));
  const inFlight = client.get(hung, '/').catch((e: { code: string }) => e.code);
  const during = activeResources();
  assert.ok(during.filter((r) => r === 'TCPSocketWrap').length > 0, 'the client holds sockets while in use');

  await client.close();
  group.close();
  hung.close();
  assert.equal(await inFlight, 'ABORTED');
  assert.equal(events.closed, true, 'events$ completes on close');
  await settle(100);
  assert.deepEqual(activeResources().sort(), before);

  await ok.stop();
  await hang.stop();
});

test('close() means closed: a call waiting in back-off ends at once as cancelled and sends no retry', async () => {
  let connections = 0;
  const x = await startBackend((_req, res) => {
    res.statusCode = 503;
    res.end('busy');
  });
  x.server.on('connection', () => connections++);
  const client = new Client({ requestTimeout: 10_000 });
  const group = new AddressGroup(staticTarget(x));
  const events: CallEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  let settled: unknown;
  const p = client
    .get(group, '/', { retry: { maxAttempts: 2, backoff: { initialDelay: 300, jitter: 'none' } } })
    .then(
      (r) => (settled = r.status),
      (e: { code: string }) => (settled = e.code),
    );
  await waitFor(() => events.some((e) => e.type === 'retry-scheduled'));
  await client.close();
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, 'ABORTED', 'the waiting call ended when close() did, not when its back-off would have');
  const end = events.find((e) => e.type === 'call-end');
  assert.equal(end?.outcome, 'cancelled');
  assert.equal(end?.errorCode, 'ABORTED');
  // Past the back-off: nothing more reached the server, on any connection.
  await new Promise((r) => setTimeout(r, 600));
  await p;
  assert.equal(x.hits, 1);
  assert.equal(connections, 1);
  group.close();
  await x.close();
});

test('close() called from an events$ listener as an attempt starts: that attempt is never sent', async () => {
  const x = await startBackend();
  const client = new Client();
  const group = new AddressGroup(staticTarget(x));
  const events: CallEvent[] = [];
  let closing: Promise<void> | undefined;
  client.events$.subscribe((e) => {
    events.push(e);
    if (e.type === 'attempt-start') closing ??= client.close();
  });
  await assert.rejects(client.get(group, '/'), { code: 'ABORTED' });
  await closing;
  await settle(100);
  assert.equal(x.hits, 0);
  const end = events.find((e) => e.type === 'attempt-end');
  assert.equal(end?.type === 'attempt-end' && end.cancelled, true, 'the announced attempt ends cancelled');
  group.close();
  await x.close();
});
