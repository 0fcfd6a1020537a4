import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { Client, AddressGroup } from '../../lib/index.js';
import { serveDashboard } from '../../lib/dashboard/index.js';
import { startBackend } from '../helpers/loopback.js';

const EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

function request(url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, { headers }, resolve).on('error', reject));
}
async function text(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += c;
  return s;
}
/** The first SSE `data:` line of /events. */
async function firstEvent(url: string): Promise<string> {
  const res = await request(new URL('events', url).href);
  let buf = '';
  for await (const c of res) {
    buf += c;
    const m = /^data: (.*)$/m.exec(buf);
    if (m) {
      res.destroy();
      return m[1]!;
    }
  }
  throw new Error('no event');
}

test('the dashboard binds 127.0.0.1 by default and escapes what it renders', async () => {
  const backend = await startBackend();
  const client = new Client();
  const group = new AddressGroup(`static://${backend.hostPort}`, { name: EVIL });
  await client.get(group, '/');
  const dashboard = await serveDashboard(client);
  try {
    const url = new URL(dashboard.url);
    assert.equal(url.hostname, '127.0.0.1', 'bound to loopback by default');
    // Not reachable on another interface of this machine (when it has one).
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const reached = await new Promise<boolean>((resolve) => {
        const s = connect(Number(url.port), external.address);
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      assert.equal(reached, false, `not listening on ${external.address}`);
    }

    const page = await request(dashboard.url);
    const html = await text(page);
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // The first HTML carries the snapshot: the name is in it, as escaped text only.
    assert.ok(!html.includes('<script>alert'), 'no script tag from the name');
    assert.ok(!/<img/i.test(html), 'no img tag from the name');
    assert.ok(
      html.includes(
        '&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=alert(2)&#62;&#34;&#39;&#38;',
      ),
      'the name shows as text',
    );

    // The name travels as JSON data, one line, and the page script writes values with textContent only.
    const data = await firstEvent(dashboard.url);
    assert.ok(
      data.includes(JSON.stringify(EVIL).slice(1, -1)),
      'the group name is in the data as a JSON string',
    );
    const script = await text(await request(new URL('app.js', dashboard.url).href));
    const code = `${html}\n${script}`;
    assert.match(
      String(page.headers['content-security-policy']),
      /script-src 'self'/,
      'no inline script runs',
    );
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
    ])
      assert.ok(!code.includes(sink), `the page never uses ${sink}`);

    // DNS rebinding: a request naming another host is refused on a loopback dashboard.
    const rebound = await request(dashboard.url, { host: 'evil.example' });
    await text(rebound);
    assert.equal(rebound.statusCode, 421);
  } finally {
    await dashboard.close();
    await client.close();
    group.close();
    await backend.close();
  }
});
