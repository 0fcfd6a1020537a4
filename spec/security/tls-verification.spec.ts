import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, AddressGroup, isXhttpError } from '../../lib/index.js';

let dir: string;
/** Self-signed for 127.0.0.1 (IP SAN). */
let ipCert: Buffer;
/** Self-signed for other.example only: the name check must fail unless servername says so. */
let nameCert: Buffer;
let ipServer: Server;
let nameServer: Server;
let ipPort = 0;
let namePort = 0;

function selfSigned(name: string, san: string): { cert: Buffer; key: Buffer } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

async function serve(creds: { cert: Buffer; key: Buffer }): Promise<{ server: Server; port: number }> {
  const server = createServer(creds, (_req, res) => res.end('secure'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxhttp-tls-'));
  const ip = selfSigned('loopback', 'IP:127.0.0.1');
  const named = selfSigned('other.example', 'DNS:other.example');
  ipCert = ip.cert;
  nameCert = named.cert;
  ({ server: ipServer, port: ipPort } = await serve(ip));
  ({ server: nameServer, port: namePort } = await serve(named));
});
after(async () => {
  for (const s of [ipServer, nameServer]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

const connectError = (e: unknown) => isXhttpError(e) && e.code === 'CONNECT';

describe('TLS verification is on', () => {
  test('an https group against a self-signed server fails with CONNECT (no retry hides it)', async () => {
    const client = new Client({ requestTimeout: 5_000 });
    const group = new AddressGroup(`https://127.0.0.1:${ipPort}`);
    await assert.rejects(
      client.get(group, '/', { retry: { maxAttempts: 2, backoff: { initialDelay: 1 } } }),
      connectError,
    );
    // client.fetch rejects as fetch does: a TypeError, the CONNECT error its cause.
    await assert.rejects(
      client.fetch(`https://127.0.0.1:${ipPort}/`),
      (e: unknown) => e instanceof TypeError && connectError(e.cause),
    );
    await client.close();
    group.close();
  });

  test('the same server succeeds when its CA is given through tls.ca', async () => {
    const client = new Client({ tls: { ca: ipCert } });
    const group = new AddressGroup(`https://127.0.0.1:${ipPort}`);
    const res = await client.get(group, '/');
    assert.equal(await res.body.text(), 'secure');
    await client.close();
    group.close();
  });

  test('the CA alone does not skip the name check; tls.servername names the expected host', async () => {
    const wrongName = new Client({ tls: { ca: nameCert } });
    const group = new AddressGroup(`https://127.0.0.1:${namePort}`);
    await assert.rejects(wrongName.get(group, '/'), connectError);
    await wrongName.close();
    const named = new Client({ tls: { ca: nameCert, servername: 'other.example' } });
    assert.equal(await (await named.get(group, '/')).body.text(), 'secure');
    await named.close();
    group.close();
  });

  test('a custom checkServerIdentity is honoured (undici >= 7.30.1 passes it through)', async () => {
    let calls = 0;
    const client = new Client({
      tls: {
        ca: ipCert,
        checkServerIdentity: () => {
          calls++;
          return new Error('pinned certificate mismatch');
        },
      },
    });
    const group = new AddressGroup(`https://127.0.0.1:${ipPort}`);
    await assert.rejects(client.get(group, '/'), connectError);
    assert.ok(calls >= 1, 'the check ran');
    await client.close();
    group.close();
  });
});
