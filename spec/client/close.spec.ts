import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup } from '../../lib/index.js';
import { startChildBackend } from '../helpers/child-backend.js';
import { activeResources, settle } from '../helpers/handles.js';

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
