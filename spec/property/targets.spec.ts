import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { of } from 'rxjs';
import { AddressGroup, registerResolver } from '../../lib/index.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';

// Stub resolvers: a generated dns target must never reach a real DNS server.
for (const scheme of ['dns', 'dns+txt', 'dns+srv', 'fuzz']) {
  try {
    registerResolver({ scheme, resolve: () => of([{ host: '127.0.0.1', port: 9 }]) });
  } catch {
    // built in by now: the structured generator below then avoids that scheme
  }
}

const hostish = fc.oneof(
  fc.constantFrom(
    '127.0.0.1',
    'localhost',
    'a.b.c',
    '::1',
    '[::1]',
    '[fe80::1%25eth0]',
    '',
    'a..b',
    '-a',
    'a_b',
  ),
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const port = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }).map(String),
  fc.constantFrom('', '0', '65535', '65536', '080', '1e3', '0x50', ' 80', '80 ', '99999999999999999999'),
  fc.string({ maxLength: 6 }),
);
const hostPort = fc.oneof(
  fc.tuple(hostish, port).map(([h, p]) => `${h}:${p}`),
  hostish,
);
const structured = fc.oneof(
  fc.array(hostPort, { minLength: 0, maxLength: 4 }).map((l) => `static://${l.join(',')}`),
  fc
    .tuple(
      fc.constantFrom('http', 'https', 'HTTP'),
      hostPort,
      fc.constantFrom('', '/', '/x', '?q', '#f', '@'),
    )
    .map(([s, hp, tail]) => `${s}://${hp}${tail}`),
  hostPort.map((hp) => `dns://${hp}`),
  hostPort.map((hp) => `dns://txt:${hp}`),
  fc.oneof(fc.domain(), fc.string({ maxLength: 30 })).map((d) => `dns+srv://_http._tcp.${d}`),
  fc.string({ maxLength: 30 }).map((s) => `fuzz://${s}`),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 })).map(([s, r]) => `${s}://${r}`),
);
const target = fc.oneof(
  { weight: 3, arbitrary: structured },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.anything() },
);

test('property: new AddressGroup(target) accepts or throws INVALID_ARGUMENT (1 000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(target, (t) => {
      const r = acceptOrInvalid(
        () => new AddressGroup(t as string),
        () => `new AddressGroup(${show(t)})`,
      );
      if (!r.accepted) return;
      accepted++;
      const group = r.value!;
      try {
        for (const a of group.addresses) {
          assert.ok(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65_535, `port of ${show(t)}`);
          assert.ok(a.host.length > 0 && !/[\s/?#@]/.test(a.host), `host of ${show(t)}: ${a.host}`);
        }
      } finally {
        group.close();
      }
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 50, `the generator reaches valid targets too (${accepted})`);
});

test('property: AddressGroup options accept or throw INVALID_ARGUMENT (1 000 runs)', () => {
  const options = fc.oneof(
    fc.anything(),
    fc.record(
      {
        loadBalancer: fc.oneof(
          fc.constantFrom('round-robin', 'random', 'p2c', 'p2c-ewma', 'weighted-round-robin', 'nope'),
          fc.anything(),
        ),
        protocol: fc.oneof(fc.constantFrom('http', 'https'), fc.anything()),
        dnsServers: fc.oneof(fc.array(fc.string()), fc.anything()),
        minTtl: fc.oneof(fc.integer(), fc.double(), fc.anything()),
        maxTtl: fc.oneof(fc.integer(), fc.double(), fc.anything()),
        name: fc.oneof(fc.string(), fc.anything()),
        random: fc.oneof(fc.constant(Math.random), fc.anything()),
        __proto__: fc.anything(),
        constructor: fc.anything(),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(options, (o) => {
      const r = acceptOrInvalid(
        () => new AddressGroup('static://127.0.0.1:8080', o as never),
        () => `new AddressGroup(static, ${show(o)})`,
      );
      r.value?.close();
    }),
    { numRuns: 1_000 },
  );
});
