import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SrvRecord } from 'node:dns';
import { srvAddresses } from '../../lib/resolver/dns-srv.js';
import type { HostAnswer } from '../../lib/resolver/dns-query.js';

const srv = (name: string, port: number, priority: number, weight: number): SrvRecord => ({
  name,
  port,
  priority,
  weight,
});
const ok = (...ips: string[]): PromiseSettledResult<HostAnswer> => ({
  status: 'fulfilled',
  value: { ips, ttlMs: 1_000 },
});
const failed: PromiseSettledResult<HostAnswer> = { status: 'rejected', reason: new Error('ENOTFOUND') };

test('every target IP becomes an address with the record port and priority', () => {
  const list = srvAddresses(
    [srv('a.svc', 8080, 10, 60), srv('b.svc', 9090, 20, 30)],
    [ok('10.0.0.1', '10.0.0.2'), ok('fd00::1')],
  );
  assert.deepEqual(list, [
    { host: '10.0.0.1', port: 8080, priority: 10, weight: 30 },
    { host: '10.0.0.2', port: 8080, priority: 10, weight: 30 },
    { host: 'fd00::1', port: 9090, priority: 20, weight: 30 },
  ]);
});

test('RFC 2782 weighs targets: a target behind N addresses shares its weight among them', () => {
  // Weights 3:1, target a behind two addresses: per-address shares 3/8, 3/8, 1/4 (not 3/7, 3/7, 1/7).
  const list = srvAddresses(
    [srv('a.svc', 80, 0, 3), srv('b.svc', 80, 0, 1)],
    [ok('10.0.0.1', '10.0.0.2'), ok('10.0.0.3')],
  );
  const total = list.reduce((sum, a) => sum + a.weight!, 0);
  assert.deepEqual(
    list.map((a) => [a.host, a.weight! / total]),
    [
      ['10.0.0.1', 3 / 8],
      ['10.0.0.2', 3 / 8],
      ['10.0.0.3', 1 / 4],
    ],
  );
  // Only the addresses a record keeps share its weight: a duplicate taken by an earlier record does not.
  const shared = srvAddresses(
    [srv('a.svc', 80, 0, 4), srv('b.svc', 80, 0, 4)],
    [ok('10.0.0.1'), ok('10.0.0.1', '10.0.0.2')],
  );
  assert.deepEqual(shared, [
    { host: '10.0.0.1', port: 80, priority: 0, weight: 4 },
    { host: '10.0.0.2', port: 80, priority: 0, weight: 4 },
  ]);
});

test('a target that did not resolve is skipped; the others stay', () => {
  const list = srvAddresses([srv('gone.svc', 80, 1, 1), srv('b.svc', 81, 1, 1)], [failed, ok('10.0.0.2')]);
  assert.deepEqual(list, [{ host: '10.0.0.2', port: 81, priority: 1, weight: 1 }]);
  assert.deepEqual(srvAddresses([srv('gone.svc', 80, 1, 1)], [failed]), []);
});

test('the same IP and port through two records is listed once (the first record wins)', () => {
  const list = srvAddresses(
    [srv('a.svc', 80, 1, 5), srv('alias.svc', 80, 2, 9)],
    [ok('10.0.0.1'), ok('10.0.0.1')],
  );
  assert.deepEqual(list, [{ host: '10.0.0.1', port: 80, priority: 1, weight: 5 }]);
});

test('a record with port 0 names no service: skipped', () => {
  const list = srvAddresses(
    [srv('a.svc', 0, 1, 1), srv('b.svc', 81, 1, 1)],
    [ok('10.0.0.1'), ok('10.0.0.2')],
  );
  assert.deepEqual(list, [{ host: '10.0.0.2', port: 81, priority: 1, weight: 1 }]);
});

test('no records, no addresses', () => {
  assert.deepEqual(srvAddresses([], []), []);
});
