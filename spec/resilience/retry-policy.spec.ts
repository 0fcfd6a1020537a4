import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimeoutError, XhttpError, type ErrorCode, type TimeoutPhase } from '../../lib/errors.js';
import {
  DEFAULT_RETRY_STATUSES,
  defaultRetryOn,
  isIdempotent,
  MAX_ATTEMPTS,
  neverReachedServer,
  resolveRetryOptions,
  shouldRetry,
} from '../../lib/resilience/retry-policy.js';
import type { AttemptOutcome, RetryOptions } from '../../lib/types.js';

const address = { host: '127.0.0.1', port: 8080 };

function status(code: number, method = 'GET'): AttemptOutcome {
  return { attempt: 1, address, method, elapsedMs: 5, response: { status: code, headers: {} } };
}

function failed(error: XhttpError, method = 'GET'): AttemptOutcome {
  return { attempt: 1, address, method, elapsedMs: 5, error };
}

const err = (code: ErrorCode, cause?: unknown) =>
  new XhttpError(code, code.toLowerCase(), cause === undefined ? {} : { cause });
const timeout = (phase: TimeoutPhase, cause?: unknown) =>
  new TimeoutError(phase, 100, cause === undefined ? {} : { cause });
const sysErr = (code: string) => Object.assign(new Error(code), { code });

function invalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field, `expected field ${field}, got ${e.field} (${e.message})`);
    return true;
  });
}

test('idempotent methods are those of RFC 9110, in any case', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE', 'get', 'Delete'])
    assert.equal(isIdempotent(m), true, m);
  for (const m of ['POST', 'PATCH', 'CONNECT', 'PROPFIND', 'post', '', 'GET '])
    assert.equal(isIdempotent(m), false, m);
});

test('default retryOn: connect, reset, attempt-level timeouts, 502/503/504', () => {
  assert.deepEqual([...DEFAULT_RETRY_STATUSES].sort(), [502, 503, 504]);
  for (const s of [502, 503, 504]) assert.equal(defaultRetryOn(status(s)), true, String(s));
  for (const s of [200, 204, 301, 400, 404, 429, 500, 501, 505])
    assert.equal(defaultRetryOn(status(s)), false, String(s));
  assert.equal(defaultRetryOn(failed(err('CONNECT'))), true);
  assert.equal(defaultRetryOn(failed(err('RESET'))), true);
  for (const phase of ['attempt', 'connect', 'headers', 'body'] as const)
    assert.equal(defaultRetryOn(failed(timeout(phase))), true, phase);
  assert.equal(
    defaultRetryOn(failed(timeout('call'))),
    false,
    'the call deadline leaves nothing to retry in',
  );
  assert.equal(defaultRetryOn(failed(err('TIMEOUT'))), false, 'a timeout of unknown phase');
  for (const code of [
    'ABORTED',
    'FAIL_FAST',
    'NO_ADDRESS',
    'PROTOCOL',
    'RESPONSE_TOO_LARGE',
    'INVALID_ARGUMENT',
  ] as const)
    assert.equal(defaultRetryOn(failed(err(code))), false, code);
  // The body failed after a 200: the error decides, and a reset is retried.
  assert.equal(defaultRetryOn({ ...status(200), error: err('RESET') }), true);
  assert.equal(defaultRetryOn({ ...status(503), error: err('ABORTED') }), false);
  assert.equal(defaultRetryOn({ attempt: 1, address, method: 'GET', elapsedMs: 1 }), false);
});

test('neverReachedServer: CONNECT, connect timeouts and pre-connection causes only', () => {
  assert.equal(neverReachedServer(undefined), false);
  assert.equal(neverReachedServer(err('CONNECT')), true);
  assert.equal(
    neverReachedServer(err('CONNECT', sysErr('UND_ERR_CLOSED'))),
    true,
    'pool closed before the write',
  );
  assert.equal(neverReachedServer(timeout('connect')), true);
  for (const phase of ['attempt', 'headers', 'body', 'call'] as const)
    assert.equal(neverReachedServer(timeout(phase)), false, phase);
  for (const code of ['RESET', 'PROTOCOL', 'ABORTED', 'RESPONSE_TOO_LARGE'] as const)
    assert.equal(neverReachedServer(err(code)), false, code);
  assert.equal(neverReachedServer(err('RESET', sysErr('ECONNRESET'))), false);
  assert.equal(
    neverReachedServer(err('RESET', sysErr('ECONNREFUSED'))),
    true,
    'a refused connection carried nothing',
  );
  assert.equal(neverReachedServer(timeout('attempt', sysErr('UND_ERR_CONNECT_TIMEOUT'))), true);
  assert.equal(
    neverReachedServer(err('RESET', new Error('wrapped', { cause: sysErr('ENOTFOUND') }))),
    true,
    'deep in the chain',
  );
  // Happy eyeballs: every address family refused.
  const allRefused = new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED')]);
  assert.equal(neverReachedServer(err('RESET', allRefused)), true);
  const oneReset = new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNRESET')]);
  assert.equal(neverReachedServer(err('RESET', oneReset)), false);
  // A cyclic cause chain terminates.
  const a: { code: string; cause?: unknown } = { code: 'X' };
  a.cause = { code: 'Y', cause: a };
  assert.equal(neverReachedServer(err('RESET', a)), false);
});

test('POST is not retried on 503 by default, but is with retryNonIdempotent', () => {
  const opts: RetryOptions = { maxAttempts: 3 };
  assert.equal(shouldRetry(status(503, 'POST'), opts), false);
  assert.equal(shouldRetry(status(503, 'PATCH'), opts), false);
  assert.equal(shouldRetry(status(503, 'GET'), opts), true);
  assert.equal(shouldRetry(status(503, 'POST'), { ...opts, retryNonIdempotent: true }), true);
  assert.equal(shouldRetry(failed(err('RESET'), 'POST'), opts), false, 'a reset may have reached the server');
  assert.equal(shouldRetry(failed(timeout('headers'), 'POST'), opts), false);
  assert.equal(shouldRetry(failed(timeout('headers'), 'POST'), { ...opts, retryNonIdempotent: true }), true);
});

test('POST is retried when the connection was refused', () => {
  const refused = err('CONNECT', sysErr('ECONNREFUSED'));
  assert.equal(shouldRetry(failed(refused, 'POST'), { maxAttempts: 2 }), true);
  assert.equal(shouldRetry(failed(timeout('connect'), 'PATCH'), { maxAttempts: 2 }), true);
  // …unless retryOn says no.
  assert.equal(shouldRetry(failed(refused, 'POST'), { maxAttempts: 2, retryOn: () => false }), false);
});

test('a custom retryOn replaces the default', () => {
  const on429 = { maxAttempts: 3, retryOn: (o: AttemptOutcome) => o.response?.status === 429 };
  assert.equal(shouldRetry(status(429), on429), true);
  assert.equal(shouldRetry(status(503), on429), false);
  assert.equal(shouldRetry(status(429, 'POST'), on429), false, 'idempotency still guards a custom predicate');
  // The resolved form works the same way.
  const resolved = resolveRetryOptions(on429)!;
  assert.equal(shouldRetry(status(429), resolved), true);
  assert.equal(shouldRetry(status(503), resolved), false);
});

test('resolveRetryOptions applies the defaults', () => {
  assert.equal(resolveRetryOptions(undefined), undefined);
  assert.deepEqual(resolveRetryOptions({ maxAttempts: 3 }), {
    maxAttempts: 3,
    retryOn: defaultRetryOn,
    timeoutPerAttempt: undefined,
    backoff: { initialDelay: 100, maxDelay: 10_000, multiplier: 2, jitter: 'full' },
    retryNonIdempotent: false,
    respectRetryAfter: true,
  });
  const retryOn = () => true;
  assert.deepEqual(
    resolveRetryOptions({
      maxAttempts: MAX_ATTEMPTS,
      retryOn,
      timeoutPerAttempt: 250,
      backoff: { jitter: 'decorrelated', maxDelay: 2000 },
      retryNonIdempotent: true,
      respectRetryAfter: false,
    }),
    {
      maxAttempts: MAX_ATTEMPTS,
      retryOn,
      timeoutPerAttempt: 250,
      backoff: { initialDelay: 100, maxDelay: 2000, multiplier: 2, jitter: 'decorrelated' },
      retryNonIdempotent: true,
      respectRetryAfter: false,
    },
  );
  assert.equal(resolveRetryOptions({ maxAttempts: 1 })?.maxAttempts, 1);
});

test('every invalid retry option throws INVALID_ARGUMENT naming it', () => {
  invalid(() => resolveRetryOptions({} as never), 'retry.maxAttempts');
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '3', null, MAX_ATTEMPTS + 1])
    invalid(() => resolveRetryOptions({ maxAttempts: bad } as never), 'retry.maxAttempts');
  for (const bad of [0, -1, Number.NaN, Infinity, '100', null, 2 ** 31])
    invalid(
      () => resolveRetryOptions({ maxAttempts: 2, timeoutPerAttempt: bad } as never),
      'retry.timeoutPerAttempt',
    );
  for (const bad of [true, 'status >= 500', {}, null])
    invalid(() => resolveRetryOptions({ maxAttempts: 2, retryOn: bad } as never), 'retry.retryOn');
  for (const key of ['retryNonIdempotent', 'respectRetryAfter'])
    for (const bad of [1, 'true', null])
      invalid(() => resolveRetryOptions({ maxAttempts: 2, [key]: bad } as never), `retry.${key}`);
  invalid(
    () => resolveRetryOptions({ maxAttempts: 2, backoff: { jitter: 'max' } } as never),
    'retry.backoff.jitter',
  );
  invalid(() => resolveRetryOptions({ maxAttempts: 2, backoff: 100 } as never), 'retry.backoff');
  invalid(() => resolveRetryOptions({ maxAttempts: 2, attempts: 3 } as never), 'retry.attempts');
  invalid(
    () => resolveRetryOptions(JSON.parse('{"maxAttempts": 2, "__proto__": {"retryNonIdempotent": true}}')),
    'retry.__proto__',
  );
  invalid(() => resolveRetryOptions({ maxAttempts: 2, constructor: {} } as never), 'retry.constructor');
  for (const bad of [null, 3, 'retry', [], () => 3])
    invalid(() => resolveRetryOptions(bad as never), 'retry');
  invalid(() => resolveRetryOptions({ maxAttempts: 0 }, 'options.retry'), 'options.retry.maxAttempts');
  invalid(
    () => resolveRetryOptions({ maxAttempts: 2, backoff: { initialDelay: -1 } }, 'options.retry'),
    'options.retry.backoff.initialDelay',
  );
});

test('a polluted Object.prototype cannot turn on retryNonIdempotent', () => {
  const proto = Object.prototype as Record<string, unknown>;
  proto.retryNonIdempotent = true;
  proto.maxAttempts = 50;
  try {
    invalid(() => resolveRetryOptions({} as never), 'retry.maxAttempts');
    const resolved = resolveRetryOptions({ maxAttempts: 2 });
    assert.equal(resolved?.retryNonIdempotent, false);
  } finally {
    delete proto.retryNonIdempotent;
    delete proto.maxAttempts;
  }
});

test('property: resolveRetryOptions accepts or throws INVALID_ARGUMENT, nothing else', () => {
  const value = fc.oneof(
    fc.constantFrom(undefined, null, 0, -1, 1.5, Number.NaN, Infinity, '', 'x', true),
    fc.integer({ min: -5, max: 150 }),
    fc.double(),
    fc.func(fc.boolean()),
    fc.anything(),
  );
  const backoff = fc.oneof(
    value,
    fc.record(
      {
        initialDelay: value,
        maxDelay: value,
        multiplier: value,
        jitter: fc.oneof(value, fc.constantFrom('full', 'equal', 'decorrelated', 'none')),
      },
      { requiredKeys: [] },
    ),
  );
  const options = fc.oneof(
    fc.anything(),
    fc.record(
      {
        maxAttempts: fc.oneof(value, fc.integer({ min: 1, max: MAX_ATTEMPTS })),
        retryOn: value,
        timeoutPerAttempt: value,
        backoff,
        retryNonIdempotent: fc.oneof(value, fc.boolean()),
        respectRetryAfter: fc.oneof(value, fc.boolean()),
        bogus: value,
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(options, (o) => {
      try {
        const r = resolveRetryOptions(o as RetryOptions | undefined);
        if (o === undefined) return r === undefined;
        return (
          r !== undefined &&
          Number.isInteger(r.maxAttempts) &&
          r.maxAttempts >= 1 &&
          r.maxAttempts <= MAX_ATTEMPTS &&
          typeof r.retryOn === 'function' &&
          r.backoff.initialDelay <= r.backoff.maxDelay
        );
      } catch (e) {
        return (
          e instanceof XhttpError &&
          e.code === 'INVALID_ARGUMENT' &&
          typeof e.field === 'string' &&
          e.field.startsWith('retry')
        );
      }
    }),
    { numRuns: 1000 },
  );
});
