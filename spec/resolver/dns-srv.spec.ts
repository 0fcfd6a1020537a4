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

test('every target IP becomes an address with the record port, priority and weight', () => {
  const list = srvAddresses(
    [srv('a.svc', 8080, 10, 60), srv('b.svc', 9090, 20, 30)],
    [ok('10.0.0.1', '10.0.0.2'), ok('fd00::1')],
  );
  assert.deepEqual(list, [
    { host: '10.0.0.1', port: 8080, priority: 10, weight: 60 },
    { host: '10.0.0.2', port: 8080, priority: 10, weight: 60 },
    { host: 'fd00::1', port: 9090, priority: 20, weight: 30 },
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
