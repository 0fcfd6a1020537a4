import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTxtHosts } from '../../lib/resolver/dns-txt.js';
import { srvAddresses } from '../../lib/resolver/dns-srv.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';
import type { Address } from '../../lib/index.js';

function checkAddresses(list: readonly Address[], what: string): void {
  const keys = new Set<string>();
  for (const a of list) {
    assert.ok(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65_535, `${what}: port ${a.port}`);
    assert.ok(
      typeof a.host === 'string' && a.host !== '' && !/[\s,/?#@]/.test(a.host),
      `${what}: host ${a.host}`,
    );
    const key = `${a.host}|${a.port}`;
    assert.ok(!keys.has(key), `${what}: ${key} listed twice`);
    keys.add(key);
  }
}

/** TXT strings as a DNS server may hand them over: host lists, junk, binary, 255-byte chunks. */
const entry = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.domain(),
        fc.ipV4(),
        fc.ipV6().map((ip) => `[${ip}]`),
      ),
      fc.option(fc.integer({ min: -1, max: 70_000 })),
    )
    .map(([h, p]) => (p === null ? h : `${h}:${p}`)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const txtRecord = fc.array(
  fc
    .array(entry, { maxLength: 5 })
    .chain((entries) => fc.constantFrom(' ', ',', ', ', '\t', ',,').map((sep) => entries.join(sep))),
  { maxLength: 3 },
);

test('property: TXT contents parse to valid, distinct addresses and never throw (1 000 runs)', () => {
  fc.assert(
    fc.property(
      fc.array(txtRecord, { maxLength: 4 }),
      fc.integer({ min: 1, max: 65_535 }),
      (records, port) => {
        const r = acceptOrInvalid(
          () => parseTxtHosts(records, port),
          () => `parseTxtHosts(${show(records)}, ${port})`,
        );
        if (r.accepted) checkAddresses(r.value!, show(records));
      },
    ),
    { numRuns: 1_000 },
  );
});

const u16 = fc.integer({ min: 0, max: 65_535 });
const srv = fc.record({
  name: fc.oneof(fc.domain(), fc.constant('.'), fc.string()),
  port: u16,
  priority: u16,
  weight: u16,
});
const answer = fc.oneof(
  fc.record({
    status: fc.constant('fulfilled' as const),
    value: fc.record({ ips: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 3 }), ttl: fc.nat() }),
  }),
  fc.record({ status: fc.constant('rejected' as const), reason: fc.anything() }),
);

test('property: SRV contents give valid, distinct addresses with their priority and weight (1 000 runs)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(srv, answer), { maxLength: 5 }), (pairs) => {
      const records = pairs.map(([s]) => s);
      const answers = pairs.map(([, a]) => a) as never;
      const r = acceptOrInvalid(
        () => srvAddresses(records, answers),
        () => `srvAddresses(${show(pairs)})`,
      );
      if (!r.accepted) return;
      checkAddresses(r.value!, show(pairs));
      for (const a of r.value!) {
        assert.ok(Number.isInteger(a.priority) && a.priority! >= 0 && a.priority! <= 65_535);
        // A record's weight is shared among its target's addresses (RFC 2782 weighs targets).
        assert.ok(Number.isFinite(a.weight) && a.weight! >= 0 && a.weight! <= 65_535);
      }
    }),
    { numRuns: 1_000 },
  );
});
