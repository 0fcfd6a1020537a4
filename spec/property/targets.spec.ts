import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asyncScheduler, of } from 'rxjs';
import { AddressGroup, isXhttpError, registerResolver } from '../../lib/index.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';
import { groupOptionsModel, targetModel } from '../helpers/target-model.js';

// Stub resolvers: a generated dns target must never reach a real DNS server.
const STUBBED = new Set(['dns', 'dns+txt', 'dns+srv', 'fuzz']);
for (const scheme of STUBBED)
  registerResolver({ scheme, resolve: () => of([{ host: '127.0.0.1', port: 9 }]) });

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
    'a-.b',
    '999.1.1.1',
    '1.2.3.4',
    '[localhost]',
    '[1.2.3.4]',
    '[1::2::3]',
    '[:]',
    '[::ffff:1.2.3.4]',
    'LocalHost',
    '[FE80::1]',
  ),
  fc.domain(),
  fc.domain().map((d) => d.toUpperCase()),
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

test('property: new AddressGroup(target) accepts exactly what the target model accepts, with its addresses (1 000 runs)', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(target, (t) => {
      const want = targetModel(t, STUBBED);
      const r = acceptOrInvalid(
        () => new AddressGroup(t as string),
        () => `new AddressGroup(${show(t)})`,
      );
      if (!r.accepted) {
        assert.ok(!want.ok, `new AddressGroup(${show(t)}) refused (${r.field}), the model accepts`);
        assert.equal(r.field, 'target', `new AddressGroup(${show(t)})`);
        refused++;
        return;
      }
      const group = r.value!;
      try {
        assert.ok(
          want.ok,
          `new AddressGroup(${show(t)}) accepted ${show(group.addresses)}, the model refuses`,
        );
        accepted++;
        if (want.addresses === undefined) return; // a resolver's: its own list, later
        assert.deepEqual(
          group.addresses.map((a) => ({ host: a.host, port: a.port })),
          want.addresses,
          `addresses of ${show(t)}`,
        );
        assert.equal(group.protocol, want.protocol ?? 'http', `protocol of ${show(t)}`);
      } finally {
        group.close();
      }
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 50 && refused > 50, `both sides reached (${accepted} accepted, ${refused} refused)`);
});

test('property: AddressGroup options: accepted when the model finds nothing wrong, else the field named is one at fault (1 000 runs)', () => {
  const fuzzed = fc.record(
    {
      loadBalancer: fc.oneof(
        fc.constantFrom(
          'round-robin',
          'random',
          'p2c',
          'p2c-ewma',
          'weighted-round-robin',
          'nope',
          'toString',
        ),
        fc.anything(),
      ),
      protocol: fc.oneof(fc.constantFrom('http', 'https'), fc.anything()),
      dnsServers: fc.oneof(
        fc.array(fc.string()),
        fc.array(
          fc.constantFrom(
            '127.0.0.1:5353',
            '[::1]:53',
            '10.0.0.1',
            '::1',
            'dns.local:53',
            '1.2.3.4:0',
            ' 10.0.0.2 ',
          ),
        ),
        fc.anything(),
      ),
      minTtl: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      maxTtl: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      name: fc.oneof(fc.string(), fc.anything()),
      random: fc.oneof(fc.constant(Math.random), fc.anything()),
      scheduler: fc.oneof(fc.constantFrom(asyncScheduler, null), fc.anything()),
      __proto__: fc.anything(),
      constructor: fc.anything(),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const valid = fc.record(
    {
      loadBalancer: fc.constantFrom('round-robin', 'random', 'p2c', 'p2c-ewma', 'weighted-round-robin'),
      protocol: fc.constantFrom('http', 'https'),
      dnsServers: fc.array(fc.constantFrom('127.0.0.1:5353', '[::1]:53', '10.0.0.1')),
      minTtl: fc.integer({ min: 0, max: 1_000 }),
      maxTtl: fc.integer({ min: 1_000, max: 2_147_483_647 }),
      name: fc.string({ minLength: 1 }),
      random: fc.constant(Math.random),
    },
    { requiredKeys: [] },
  );
  const keys = ['loadBalancer', 'protocol', 'dnsServers', 'minTtl', 'maxTtl', 'name', 'random'] as const;
  const options = fc.oneof(
    fc.anything(),
    fuzzed,
    valid,
    // one fuzzed option on valid ones: reaches each option's own check
    fc
      .tuple(valid, fuzzed, fc.constantFrom(...keys))
      .map(([v, f, k]) => (Object.hasOwn(f, k) ? { ...v, [k]: f[k] } : v)),
  );
  let accepted = 0;
  fc.assert(
    fc.property(options, (o) => {
      const wrong = groupOptionsModel(o);
      const r = acceptOrInvalid(
        () => new AddressGroup('static://127.0.0.1:8080', o as never),
        () => `new AddressGroup(static, ${show(o)})`,
      );
      r.value?.close();
      if (r.accepted) {
        assert.equal(wrong.size, 0, `${show(o)} accepted, the model finds ${[...wrong].join(', ')} wrong`);
        accepted++;
      } else {
        assert.ok(
          wrong.has(r.field!),
          `${show(o)}: named ${r.field}, the model finds ${[...wrong].join(', ') || 'nothing'} wrong`,
        );
      }
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 20, `the generator reaches valid options too (${accepted})`);
});

test(
  'targets the RFCs refuse are refused: IP literals that are not IPv6, dotted-decimal names that are not IPv4',
  () => {
    const cases = [
      'static://[localhost]:80',
      'static://[1.2.3.4]:80',
      'static://[1::2::3]:80',
      'static://[:]:80',
      'static://999.1.1.1:80',
      'static://256.0.0.1:80',
      'static://01.2.3.4:80',
      'dns://txt:999.1.1.1:53',
    ];
    const wrong: string[] = [];
    for (const t of cases) {
      assert.equal(targetModel(t, STUBBED).ok, false, `the strict model refuses ${t}`);
      try {
        new AddressGroup(t).close();
        wrong.push(t);
      } catch {
        // refused, as it should be
      }
    }
    assert.deepEqual(wrong, [], 'accepted');
  },
);

test(
  'a group option scheduler that is not a SchedulerLike is INVALID_ARGUMENT naming options.scheduler',
  () => {
    for (const scheduler of [5, {}, 'async']) {
      assert.throws(
        () => new AddressGroup('static://127.0.0.1:8080', { scheduler: scheduler as never }).close(),
        (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'options.scheduler',
      );
    }
  },
);
