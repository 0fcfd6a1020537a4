import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_CIRCUIT_OPEN_WINDOW,
  DEFAULT_COUNTER_SLIDING_WINDOW,
  DEFAULT_COUNTER_UPDATE_INTERVAL,
  DEFAULT_FAILURE_RATE_THRESHOLD,
  DEFAULT_MINIMUM_REQUEST_THRESHOLD,
  DEFAULT_TRIAL_REQUEST_INTERVAL,
  defaultBreakerKey,
  defaultIsFailure,
  resolveBreakerConfig,
  type CircuitBreakerConfig,
} from '../../lib/breaker/config.js';
import { isXhttpError, TimeoutError, XhttpError, type ErrorCode } from '../../lib/errors.js';
import type { AttemptOutcome } from '../../lib/types.js';

const address = { host: '10.0.0.1', port: 8080 };

function expectInvalid(input: unknown, field: string, prefix?: string): void {
  assert.throws(
    () =>
      prefix === undefined
        ? resolveBreakerConfig(input as CircuitBreakerConfig)
        : resolveBreakerConfig(input as CircuitBreakerConfig, prefix),
    (e: unknown) => {
      assert.ok(isXhttpError(e), 'an XhttpError');
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.equal(e.field, field);
      assert.match(e.message, new RegExp(field.replace(/\./g, '\\.')));
      return true;
    },
    `${JSON.stringify(input)} should be rejected naming ${field}`,
  );
}

describe('resolveBreakerConfig', () => {
  it('applies Armeria defaults to undefined and to {}', () => {
    for (const input of [undefined, {}]) {
      const c = resolveBreakerConfig(input);
      assert.deepEqual(
        [
          c.failureRateThreshold,
          c.minimumRequestThreshold,
          c.trialRequestInterval,
          c.circuitOpenWindow,
          c.counterSlidingWindow,
          c.counterUpdateInterval,
        ],
        [0.5, 10, 3_000, 10_000, 20_000, 1_000],
      );
      assert.equal(c.isFailure, defaultIsFailure);
      assert.equal(c.key, defaultBreakerKey);
    }
    assert.deepEqual(
      [
        DEFAULT_FAILURE_RATE_THRESHOLD,
        DEFAULT_MINIMUM_REQUEST_THRESHOLD,
        DEFAULT_TRIAL_REQUEST_INTERVAL,
        DEFAULT_CIRCUIT_OPEN_WINDOW,
        DEFAULT_COUNTER_SLIDING_WINDOW,
        DEFAULT_COUNTER_UPDATE_INTERVAL,
      ],
      [0.5, 10, 3_000, 10_000, 20_000, 1_000],
    );
  });

  it('keeps given values, edges included', () => {
    const isFailure = () => true;
    const key = () => 'k';
    const c = resolveBreakerConfig({
      failureRateThreshold: 0,
      minimumRequestThreshold: 0,
      trialRequestInterval: 0,
      circuitOpenWindow: 0,
      counterSlidingWindow: 500,
      counterUpdateInterval: 500,
      isFailure,
      key,
    });
    assert.deepEqual(
      { ...c },
      {
        failureRateThreshold: 0,
        minimumRequestThreshold: 0,
        trialRequestInterval: 0,
        circuitOpenWindow: 0,
        maxCircuitOpenWindow: 300_000,
        counterSlidingWindow: 500,
        counterUpdateInterval: 500,
        isFailure,
        key,
      },
    );
    assert.equal(resolveBreakerConfig({ failureRateThreshold: 1 }).failureRateThreshold, 1);
  });

  const bad: [string, unknown[]][] = [
    ['failureRateThreshold', [-0.1, 1.01, Number.NaN, Infinity, '0.5', null]],
    ['minimumRequestThreshold', [-1, 1.5, Number.NaN, Infinity, '10', null]],
    ['trialRequestInterval', [-1, Number.NaN, Infinity, '3000']],
    ['circuitOpenWindow', [-1, Number.NaN, -Infinity, '1s']],
    ['counterSlidingWindow', [0, -1, Number.NaN, Infinity]],
    ['counterUpdateInterval', [0, -1, Number.NaN, Infinity]],
    ['isFailure', ['5xx', 1, {}]],
    ['key', ['host', 42, null]],
  ];
  for (const [name, values] of bad) {
    it(`rejects a bad ${name}, naming circuitBreaker.${name}`, () => {
      for (const value of values) expectInvalid({ [name]: value }, `circuitBreaker.${name}`);
    });
  }

  it('maxCircuitOpenWindow: 300 s by default (Envoy), never below circuitOpenWindow', () => {
    assert.equal(resolveBreakerConfig({}).maxCircuitOpenWindow, 300_000);
    assert.equal(resolveBreakerConfig({ circuitOpenWindow: 600_000 }).maxCircuitOpenWindow, 600_000);
    assert.equal(
      resolveBreakerConfig({ circuitOpenWindow: 5_000, maxCircuitOpenWindow: 5_000 }).maxCircuitOpenWindow,
      5_000,
    );
    expectInvalid(
      { circuitOpenWindow: 5_000, maxCircuitOpenWindow: 4_999 },
      'circuitBreaker.maxCircuitOpenWindow',
    );
    for (const value of [-1, Number.NaN, '300s'])
      expectInvalid({ maxCircuitOpenWindow: value }, 'circuitBreaker.maxCircuitOpenWindow');
  });

  it('rejects a bucket wider than the window', () => {
    expectInvalid(
      { counterUpdateInterval: 2_000, counterSlidingWindow: 1_000 },
      'circuitBreaker.counterUpdateInterval',
    );
    expectInvalid({ counterUpdateInterval: 30_000 }, 'circuitBreaker.counterUpdateInterval');
  });

  it('rejects unknown keys and non-objects', () => {
    expectInvalid({ failureRateTreshold: 0.3 }, 'circuitBreaker.failureRateTreshold');
    expectInvalid(5, 'circuitBreaker');
    expectInvalid([], 'circuitBreaker');
  });

  it('names fields under the prefix it is given', () => {
    expectInvalid({ failureRateThreshold: 2 }, 'client.cb.failureRateThreshold', 'client.cb');
  });
});

const outcome = (o: { status?: number; code?: ErrorCode; error?: XhttpError }): AttemptOutcome => ({
  attempt: 1,
  address,
  elapsedMs: 3,
  method: 'GET',
  ...(o.status === undefined ? {} : { response: { status: o.status, headers: {} } }),
  ...(o.error !== undefined
    ? { error: o.error }
    : o.code === undefined
      ? {}
      : { error: new XhttpError(o.code, 'x') }),
});

describe('defaultIsFailure', () => {
  it('counts 5xx as failures and every other status as success', () => {
    for (const status of [500, 502, 503, 504, 599])
      assert.equal(defaultIsFailure(outcome({ status })), true, String(status));
    for (const status of [200, 204, 301, 404, 429, 499])
      assert.equal(defaultIsFailure(outcome({ status })), false, String(status));
  });

  it('counts connect errors, resets, timeouts and protocol errors; not our own limits or aborts', () => {
    for (const code of ['CONNECT', 'RESET', 'TIMEOUT', 'PROTOCOL'] as const)
      assert.equal(defaultIsFailure(outcome({ code })), true, code);
    assert.equal(defaultIsFailure(outcome({ error: new TimeoutError('headers', 100) })), true);
    for (const code of [
      'ABORTED',
      'RESPONSE_TOO_LARGE',
      'FAIL_FAST',
      'NO_ADDRESS',
      'INVALID_ARGUMENT',
    ] as const)
      assert.equal(defaultIsFailure(outcome({ code })), false, code);
  });
});

describe('defaultBreakerKey', () => {
  it('is host:port, IPv6 in brackets', () => {
    assert.equal(defaultBreakerKey({ path: '/a' }, address), '10.0.0.1:8080');
    assert.equal(defaultBreakerKey({}, { host: '::1', port: 80 }), '[::1]:80');
  });
});
