import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { Client } from '../../lib/index.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';
import { LeakProbe } from '../helpers/fault-leaks.js';

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
        },
        { requiredKeys: [] },
      ),
    ),
    retryBudget: fc.oneof(
      fc.constant(false),
      fc.record(
        { ratio: fc.double({ min: 0, max: 1, noNaN: true }), minRetriesPerSecond: fc.nat(100) },
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
/** One fuzzed field on top of an otherwise valid config: reaches every field's own check. */
const oneBadField = fc
  .tuple(validConfig, fc.constantFrom(...FIELDS), fc.anything())
  .map(([c, k, v]) => ({ ...c, [k]: v }));
const config = fc.oneof(
  { weight: 1, arbitrary: fc.anything() },
  { weight: 3, arbitrary: validConfig },
  { weight: 3, arbitrary: oneBadField },
  {
    weight: 6,
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

test('property: new Client(config) accepts or throws INVALID_ARGUMENT (1 000 runs)', async () => {
  const probe = await LeakProbe.start();
  const clients: Client[] = [];
  let accepted = 0;
  try {
    fc.assert(
      fc.property(config, (c) => {
        const r = acceptOrInvalid(
          () => new Client(c as never),
          () => `new Client(${show(c)})`,
        );
        if (r.accepted) {
          accepted++;
          clients.push(r.value!);
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
    }),
    { numRuns: 1_000 },
  );
});
