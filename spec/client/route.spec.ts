import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { AddressGroup, Client } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

// `http://name/...` to a registered name skips the URL parser when the URL is in a form the parser
// would leave unchanged. Whatever the shortcut takes, the server must see what a full parse gives.
describe('absolute URLs to a registered name', () => {
  let backend: Backend;
  let client: Client;
  let group: AddressGroup;
  before(async () => {
    backend = await startBackend((req, res) => res.end(req.url));
    client = new Client();
    group = new AddressGroup(`static://${backend.hostPort}`);
    client.register('svc', group).register('Api.internal', group);
  });
  after(async () => {
    await client.close();
    group.close();
    await backend.close();
  });

  const seen = async (url: string): Promise<string> => (await client.request({ url })).body.text();

  it('sends the path and query a WHATWG parse gives, for the plain and the normalized forms alike', async () => {
    const char = fc.constantFrom(...'abcXYZ019-_~.!$&()*+,;=:@%\'"2e'.split(''));
    const segment = fc.string({ unit: char, maxLength: 6 });
    const path = fc.array(segment, { maxLength: 4 }).map((s) => '/' + s.join('/'));
    const query = fc.option(
      fc.string({ unit: fc.constantFrom(..."ab1=&.%'/?".split('')), minLength: 1, maxLength: 8 }),
      {
        nil: undefined,
      },
    );
    const host = fc.constantFrom('svc', 'SVC', 'api.internal', 'Api.Internal');
    await fc.assert(
      fc.asyncProperty(host, path, query, async (h, p, q) => {
        const url = `http://${h}${p}${q === undefined ? '' : `?${q}`}`;
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          return; // not a URL at all: nothing to compare
        }
        const expected = parsed.pathname + parsed.search;
        let got: string;
        try {
          got = await seen(url);
        } catch (e) {
          // Only a path our own check refuses may fail, and then as INVALID_ARGUMENT naming `url`.
          assert.equal((e as { code?: string }).code, 'INVALID_ARGUMENT');
          return;
        }
        assert.equal(got, expected, url);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves numeric hosts, ports and userinfo to the full parse', async () => {
    assert.equal(await seen('http://svc/a/b?x=1'), '/a/b?x=1');
    assert.equal(await seen('http://svc/a/./b/../c'), '/a/c');
    await assert.rejects(client.request({ url: 'http://u:p@svc/' }), { code: 'INVALID_ARGUMENT' });
  });
});
