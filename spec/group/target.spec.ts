import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressGroup, XhttpError } from '../../lib/index.js';

/** The INVALID_ARGUMENT message `new AddressGroup(target)` throws, after checking code and field. */
function messageFor(target: string): string {
  try {
    new AddressGroup(target).close();
  } catch (e) {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, 'target');
    return e.message;
  }
  assert.fail(`${target} was accepted`);
}

test('a static target with a path says it takes no path and names the path, not the port', () => {
  const m = messageFor('static://127.0.0.1:8080/api');
  assert.match(m, /static:\/\/ target takes no path/);
  assert.match(m, /'\/api'/);
  assert.doesNotMatch(m, /port/);
  assert.match(
    messageFor('static://10.0.0.1:80,10.0.0.2:80/v1/users'),
    /takes no path \(got '\/v1\/users' after 10\.0\.0\.2:80\)/,
  );
});

test('http(s) and dns targets with a path get the same story', () => {
  assert.match(messageFor('http://127.0.0.1:8080/api'), /http:\/\/ target takes no path \(got '\/api'/);
  assert.match(messageFor('https://api.internal/v2'), /https:\/\/ target takes no path \(got '\/v2'/);
  assert.match(messageFor('dns://users.svc:8080/api'), /dns:\/\/ target takes no path \(got '\/api'/);
  assert.match(messageFor('dns://txt:hosts.test:53/x'), /dns:\/\/ target takes no path \(got '\/x'/);
});

test('a query in a target is refused without being echoed', () => {
  for (const t of ['static://127.0.0.1:8080?token=secret', 'http://127.0.0.1:8080/?token=secret']) {
    const m = messageFor(t);
    assert.match(m, /takes no query/);
    assert.doesNotMatch(m, /secret|token/);
  }
  const withPath = messageFor('static://127.0.0.1:8080/a?token=secret');
  assert.match(withPath, /'\/a'/);
  assert.doesNotMatch(withPath, /secret/);
});

test('credentials and a scheme inside a static entry are named as such, not as a port or IPv6 problem', () => {
  const creds = messageFor('static://user:pw@127.0.0.1:8080');
  assert.match(creds, /takes no credentials/);
  assert.doesNotMatch(creds, /pw|user|IPv6/);
  assert.match(messageFor('static://http://127.0.0.1:8080'), /host:port entries without a scheme/);
});

test('a bad port says what it got', () => {
  assert.match(messageFor('static://127.0.0.1:0'), /port must be an integer from 1 to 65535 \(got '0'\)/);
  assert.match(messageFor('static://127.0.0.1:99999'), /\(got '99999'\)/);
  assert.match(messageFor('static://127.0.0.1:http'), /\(got 'http'\)/);
});

test('origins written with a trailing slash are still accepted', () => {
  const g = new AddressGroup('http://127.0.0.1:8080/');
  assert.deepEqual(g.addresses, [{ host: '127.0.0.1', port: 8080 }]);
  g.close();
});
