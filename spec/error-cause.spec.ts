import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { redactText, safeCause } from '../lib/error-cause.js';
import { XhttpError } from '../lib/index.js';

function urlError(input: string): unknown {
  try {
    new URL(input);
  } catch (e) {
    return e;
  }
  throw new Error('parsed');
}

describe('error causes hold no query string or userinfo', () => {
  test('a clean cause is passed on as it is', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(new XhttpError('CONNECT', 'refused', { cause: refused }).cause, refused);
    assert.equal(safeCause('plain words?'), 'plain words?');
  });

  test("a URL parser's error is copied with its input redacted, keeping its type and code", () => {
    const original = urlError('http://exa mple/x?token=s3cr3t');
    const e = new XhttpError('INVALID_ARGUMENT', 'bad url', { cause: original });
    const cause = e.cause as TypeError & { code: string; input: string };
    assert.notEqual(cause, original);
    assert.ok(cause instanceof TypeError);
    assert.equal(cause.code, 'ERR_INVALID_URL');
    assert.equal(cause.input, 'http://exa mple/x?[redacted]');
    assert.ok(!inspect(e, { depth: 10, showHidden: true }).includes('s3cr3t'));
  });

  test('the whole chain is cleaned: nested causes, AggregateError members, userinfo', () => {
    const inner = new Error('GET http://u:s3cr3t@h/p failed');
    const agg = new AggregateError([new Error('x?token=s3cr3t')], 'all failed', { cause: inner });
    const e = new XhttpError('CONNECT', 'down', { cause: new Error('outer', { cause: agg }) });
    const text = inspect(e, { depth: 20, showHidden: true });
    assert.ok(!text.includes('s3cr3t'), text);
    assert.match(text, /http:\/\/\[redacted\]@h\/p/);
  });

  test('a cyclic cause chain ends', () => {
    const a = new Error('a?token=s3cr3t') as Error & { cause?: unknown };
    a.cause = a;
    const cause = safeCause(a) as Error;
    assert.ok(!inspect(cause, { depth: 20 }).includes('s3cr3t'));
  });

  test('redactText', () => {
    assert.equal(redactText('bad http://u:p@h/x?token=1 here'), 'bad http://[redacted]@h/x?[redacted] here');
    assert.equal(redactText('no secrets'), 'no secrets');
  });
});
