import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { Client, isXhttpError } from '../../lib/index.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';
import { LeakProbe } from '../helpers/fault-leaks.js';
import { configModel } from '../helpers/config-model.js';

const FIELDS = [
  'requestTimeout',
  'connectTimeout',
  'headersTimeout',
  'bodyTimeout',
  'keepAliveTimeout',
  'connections',
  'circuitBreaker',
  'retryBudget',
  'metrics',
  'tracer',
  'remoteServiceName',
  'b3Single',
  'headers',
  'tls',
  'scheduler',
  'random',
] as const;

const duration = fc.oneof(
  fc.integer({ min: -10, max: 2 ** 32 }),
  fc.double(),
  fc.constantFrom(0, 1, 2_147_483_647, 2_147_483_648, NaN, Infinity, -0),
  fc.anything(),
);
const breaker = fc.oneof(
  fc.constant(false),
  fc.anything(),
  fc.record(
    {
      failureRateThreshold: fc.oneof(fc.double(), fc.anything()),
      minimumRequestThreshold: fc.oneof(fc.integer(), fc.anything()),
      trialRequestInterval: duration,
      circuitOpenWindow: duration,
      counterSlidingWindow: duration,
      counterUpdateInterval: duration,
      isFailure: fc.oneof(
        fc.constant(() => false),
        fc.anything(),
      ),
      key: fc.oneof(
        fc.constant(() => 'k'),
        fc.anything(),
      ),
      __proto__: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);
const budget = fc.oneof(
  fc.constant(false),
  fc.anything(),
  fc.record(
    { ratio: fc.oneof(fc.double(), fc.anything()), minRetriesPerSecond: duration, ttl: duration },
    { requiredKeys: [] },
  ),
);
const headers = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 10 }), fc.anything())),
  fc.anything(),
);
const tls = fc.oneof(
  fc.anything(),
  fc.record(
    {
      ca: fc.oneof(fc.string(), fc.anything()),
      servername: fc.oneof(fc.string(), fc.anything()),
      checkServerIdentity: fc.oneof(
        fc.constant(() => undefined),
        fc.anything(),
      ),
      rejectUnauthorized: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);
/** Values each field accepts: so a good share of runs builds a client. */
const validConfig = fc.record(
  {
    requestTimeout: fc.integer({ min: 1, max: 2_147_483_647 }),
    connectTimeout: fc.integer({ min: 1, max: 100_000 }),
    headersTimeout: fc.integer({ min: 0, max: 100_000 }),
    bodyTimeout: fc.integer({ min: 0, max: 100_000 }),
    keepAliveTimeout: fc.integer({ min: 1, max: 100_000 }),
    connections: fc.integer({ min: 1, max: 65_536 }),
    circuitBreaker: fc.oneof(
      fc.constant(false),
      fc.record(
        {
          failureRateThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
          minimumRequestThreshold: fc.nat(100),
          trialRequestInterval: fc.nat(10_000),
          circuitOpenWindow: fc.nat(10_000),
          counterSlidingWindow: fc.integer({ min: 1_000, max: 60_000 }),
          counterUpdateInterval: fc.integer({ min: 1, max: 1_000 }),
        },
        { requiredKeys: [] },
      ),
    ),
    retryBudget: fc.oneof(
      fc.constant(false),
      fc.record(
        {
          ratio: fc.double({ min: 0, max: 1, noNaN: true }),
          minRetriesPerSecond: fc.nat(100),
          ttl: fc.integer({ min: 1_000, max: 60_000 }),
        },
        { requiredKeys: [] },
      ),
    ),
    headers: fc.dictionary(
      fc
        .stringMatching(/^[a-z][a-z0-9-]{0,10}$/)
        .filter((k) => !['connection', 'te', 'trailer', 'upgrade', 'expect'].includes(k)),
      fc.stringMatching(/^[ -~]{0,10}$/),
    ),
    remoteServiceName: fc.string(),
    b3Single: fc.boolean(),
  },
  { requiredKeys: [] },
);
/** Values on and around each documented bound, of the right and the wrong type. */
const edge = fc.oneof(
  fc.constantFrom(
    0,
    1,
    0.5,
    1.5,
    -1,
    999,
    1_000,
    60_000,
    60_001,
    65_536,
    65_537,
    2_147_483_647,
    2_147_483_648,
  ),
  fc.constantFrom(NaN, Infinity, -0, null, true, '1', [], {}),
  fc.integer({ min: -2, max: 70_000 }),
  fc.double({ min: -1, max: 2, noNaN: true }),
);
const fuzz = fc.oneof({ weight: 1, arbitrary: fc.anything() }, { weight: 3, arbitrary: edge });
const BREAKER_FIELDS = [
  'failureRateThreshold',
  'minimumRequestThreshold',
  'trialRequestInterval',
  'circuitOpenWindow',
  'counterSlidingWindow',
  'counterUpdateInterval',
  'isFailure',
  'key',
];
const BUDGET_FIELDS = ['ratio', 'minRetriesPerSecond', 'ttl'];
const MS = [-1, 0, 1, 2_147_483_647, 2_147_483_648];
/** Each bounded field's documented bounds and their neighbours. */
const BOUNDS: Record<string, readonly number[]> = {
  requestTimeout: MS,
  connectTimeout: MS,
  keepAliveTimeout: MS,
  headersTimeout: MS,
  bodyTimeout: MS,
  connections: [0, 1, 1.5, 65_536, 65_537],
  'circuitBreaker.failureRateThreshold': [-0.01, 0, 1, 1.01],
  'circuitBreaker.minimumRequestThreshold': [-1, 0, 1.5, 2 ** 53],
  'circuitBreaker.trialRequestInterval': MS,
  'circuitBreaker.circuitOpenWindow': MS,
  'circuitBreaker.counterSlidingWindow': [...MS, 999, 1_000],
  'circuitBreaker.counterUpdateInterval': [...MS, 1_000, 1_001],
  'retryBudget.ratio': [-0.01, 0, 1, 1.01],
  'retryBudget.minRetriesPerSecond': [-1, 0, 0.5, Infinity],
  'retryBudget.ttl': [999, 1_000, 60_000, 60_001],
};
/** A valid config with one bounded field set on or next to a bound. */
const atBound = fc
  .tuple(validConfig, fc.constantFrom(...Object.keys(BOUNDS)), fc.nat())
  .map(([c, path, i]) => {
    const values = BOUNDS[path]!;
    const v = values[i % values.length]!;
    const [outer, inner] = path.split('.') as [string, string | undefined];
    if (inner === undefined) return { ...c, [outer]: v };
    const base = (c as Record<string, unknown>)[outer];
    return { ...c, [outer]: { ...(typeof base === 'object' ? base : {}), [inner]: v } };
  });
/** One fuzzed field on top of an otherwise valid config: reaches every field's own check. */
const oneBadField = fc.oneof(
  atBound,
  fc.tuple(validConfig, fc.constantFrom(...FIELDS), fuzz).map(([c, k, v]) => ({ ...c, [k]: v })),
  fc
    .tuple(validConfig, fc.constantFrom(...BREAKER_FIELDS), fuzz)
    .map(([c, k, v]) => ({ ...c, circuitBreaker: { ...(c.circuitBreaker || {}), [k]: v } })),
  fc
    .tuple(validConfig, fc.constantFrom(...BUDGET_FIELDS), fuzz)
    .map(([c, k, v]) => ({ ...c, retryBudget: { ...(c.retryBudget || {}), [k]: v } })),
);
const config = fc.oneof(
  { weight: 1, arbitrary: fc.anything() },
  { weight: 3, arbitrary: validConfig },
  { weight: 3, arbitrary: oneBadField },
  { weight: 10, arbitrary: atBound },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        requestTimeout: duration,
        connectTimeout: duration,
        headersTimeout: duration,
        bodyTimeout: duration,
        keepAliveTimeout: duration,
        connections: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.anything()),
        circuitBreaker: breaker,
        retryBudget: budget,
        metrics: fc.oneof(
          fc.anything(),
          fc.constant('real').map(() => ({ registry: new Registry() })),
        ),
        tracer: fc.oneof(fc.anything(), fc.constant({})),
        remoteServiceName: fc.oneof(fc.string(), fc.anything()),
        b3Single: fc.oneof(fc.boolean(), fc.anything()),
        headers,
        tls,
        random: fc.oneof(fc.constant(Math.random), fc.anything()),
        __proto__: fc.anything(),
        constructor: fc.anything(),
        unknownKey: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  },
);

test('property: new Client(config) accepts exactly when the model finds nothing wrong, else names a field at fault (1 000 runs)', async () => {
  const probe = await LeakProbe.start();
  const clients: Client[] = [];
  let accepted = 0;
  try {
    fc.assert(
      fc.property(config, (c) => {
        const wrong = configModel(c);
        const faults = [...wrong].join(', ') || 'nothing';
        const r = acceptOrInvalid(
          () => new Client(c as never),
          () => `new Client(${show(c)})`,
        );
        if (r.accepted) {
          clients.push(r.value!);
          assert.equal(wrong.size, 0, `new Client(${show(c)}) accepted, the model finds ${faults} wrong`);
          accepted++;
        } else {
          assert.ok(
            wrong.has(r.field!),
            `new Client(${show(c)}) named ${r.field}, the model finds ${faults} wrong`,
          );
        }
      }),
      { numRuns: 1_000 },
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  await probe.assertClean('after closing every accepted client');
  assert.ok(accepted > 20, `the generator reaches valid configs too (${accepted})`);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('property: a metrics.registry that is not a prom-client Registry is INVALID_ARGUMENT, not a TypeError', () => {
  const methods = fc.subarray(['metrics', 'getSingleMetric', 'registerMetric', 'getMetricsAsJSON']);
  fc.assert(
    fc.property(methods, (names) => {
      const registry = Object.fromEntries(names.map((n) => [n, () => undefined]));
      const r = acceptOrInvalid(
        () => new Client({ metrics: { registry: registry as never } }),
        () => `new Client({ metrics: { registry: {${names.join(', ')}} } })`,
      );
      void r.value?.close();
      if (!r.accepted) assert.equal(r.field, 'metrics.registry');
      // Without the three methods the client calls, it cannot be a Registry.
      const required = ['metrics', 'getSingleMetric', 'registerMetric'];
      if (!required.every((m) => names.includes(m))) assert.equal(r.accepted, false, names.join(', '));
    }),
    { numRuns: 1_000 },
  );
});

test(
  'tls.ca, tls.cert and tls.key of the wrong type are INVALID_ARGUMENT naming the field, at construction',
  async () => {
    for (const [k, v] of [
      ['ca', 5],
      ['cert', {}],
      ['key', [1]],
    ] as const) {
      assert.ok(configModel({ tls: { [k]: v } }).has(`tls.${k}`), 'the model refuses it');
      let client: Client | undefined;
      try {
        client = new Client({ tls: { [k]: v } as never });
      } catch (e) {
        assert.ok(isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === `tls.${k}`, String(e));
        continue;
      } finally {
        await client?.close();
      }
      assert.fail(`{ tls: { ${k}: ${JSON.stringify(v)} } } accepted`);
    }
  },
);
