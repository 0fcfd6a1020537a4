import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asyncScheduler } from 'rxjs';
import { dnsTxtResolver, parseTxtHosts } from '../../lib/resolver/dns-txt.js';

test('TXT entries separated by commas and/or spaces; the default port fills in', () => {
  assert.deepEqual(parseTxtHosts([['10.0.0.1:81, 10.0.0.2 ,10.0.0.3\tweb.local']], 80), [
    { host: '10.0.0.1', port: 81 },
    { host: '10.0.0.2', port: 80 },
    { host: '10.0.0.3', port: 80 },
    { host: 'web.local', port: 80 },
  ]);
});

test('a record split into chunks is joined before parsing (chunks break anywhere)', () => {
  assert.deepEqual(parseTxtHosts([['10.0.0.1:8', '1 10.0.', '0.2']], 80), [
    { host: '10.0.0.1', port: 81 },
    { host: '10.0.0.2', port: 80 },
  ]);
});

test('several records add up; duplicates are dropped', () => {
  assert.deepEqual(parseTxtHosts([['10.0.0.1:81'], ['10.0.0.2 ', '10.0.0.1:81']], 80), [
    { host: '10.0.0.1', port: 81 },
    { host: '10.0.0.2', port: 80 },
  ]);
});

test('malformed entries are skipped; the valid ones beside them stay', () => {
  const list = parseTxtHosts([['v=spf1 -all 10.0.0.1:81 :0 host:99999 a..b ::1 [::1]:82 x:y, ,,']], 80);
  assert.deepEqual(list, [
    { host: '10.0.0.1', port: 81 },
    { host: '::1', port: 82 },
  ]);
});

test('nothing valid: an empty list (the resolver turns it into a failure)', () => {
  assert.deepEqual(parseTxtHosts([], 80), []);
  assert.deepEqual(parseTxtHosts([[''], ['  , ']], 80), []);
  assert.deepEqual(parseTxtHosts([['not..valid :0 x:y']], 80), []);
});

test('the resolver wants dns+txt://domain:port', () => {
  const options = { minTtl: 1_000, maxTtl: 2_000, scheduler: asyncScheduler, random: Math.random };
  assert.throws(
    () => dnsTxtResolver.resolve(new URL('dns+txt://hosts.test'), options),
    /INVALID|invalid target/,
  );
});
