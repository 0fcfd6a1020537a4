import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressGroup, Client, XhttpError, type CallOptions } from '../../lib/index.js';

/** The INVALID_ARGUMENT message a call with `options` rejects with (nothing is sent: port 9 is never dialled). */
async function callMessage(options: CallOptions, field: string): Promise<string> {
  const client = new Client();
  const group = new AddressGroup('static://127.0.0.1:9');
  try {
    const error = await client.get(group, '/', options).then(
      () => assert.fail('the call was accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof XhttpError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, field);
    return error.message;
  } finally {
    await client.close();
    group.close();
  }
}

test('timeout: -1 and timeout: 0 get one story, naming the value', async () => {
  for (const v of [-1, 0]) {
    assert.equal(
      await callMessage({ timeout: v }, 'options.timeout'),
      `invalid options.timeout: must be a positive number of milliseconds, at most 2147483647 (got ${v})`,
    );
  }
});

test('retry.timeoutPerAttempt follows the same rule as timeout', async () => {
  for (const v of [-1, 0]) {
    assert.equal(
      await callMessage(
        { retry: { maxAttempts: 2, timeoutPerAttempt: v } },
        'options.retry.timeoutPerAttempt',
      ),
      `invalid options.retry.timeoutPerAttempt: must be a positive number of milliseconds, at most 2147483647 (got ${v})`,
    );
  }
});

test('back-off delays may be 0 (retry at once); a negative one gets the shared duration message', async () => {
  assert.equal(
    await callMessage(
      { retry: { maxAttempts: 2, backoff: { maxDelay: -1 } } },
      'options.retry.backoff.maxDelay',
    ),
    'invalid options.retry.backoff.maxDelay: must be a number of milliseconds from 0 to 2147483647 (got -1)',
  );
});
