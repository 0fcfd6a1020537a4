import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { b3MultiHeaders, b3SingleHeader } from '../../lib/observability/b3.js';

const traceId = '463ac35c9f6413ad48485a3953bb6124';
const spanId = 'a2fb4a1d1a96d312';
const parentSpanId = '0020000000000001';

describe('b3MultiHeaders', () => {
  it('writes trace, span, parent and a sampling decision', () => {
    assert.deepEqual(b3MultiHeaders({ traceId, spanId, parentSpanId, sampled: true }), {
      'X-B3-TraceId': traceId,
      'X-B3-SpanId': spanId,
      'X-B3-ParentSpanId': parentSpanId,
      'X-B3-Sampled': '1',
    });
    assert.equal(b3MultiHeaders({ traceId, spanId, sampled: false })['X-B3-Sampled'], '0');
  });

  it('leaves out what is unknown, and sends Flags instead of Sampled for debug', () => {
    assert.deepEqual(b3MultiHeaders({ traceId, spanId }), { 'X-B3-TraceId': traceId, 'X-B3-SpanId': spanId });
    assert.deepEqual(b3MultiHeaders({ traceId, spanId, sampled: true, debug: true }), {
      'X-B3-TraceId': traceId,
      'X-B3-SpanId': spanId,
      'X-B3-Flags': '1',
    });
  });
});

describe('b3SingleHeader', () => {
  it('follows {traceId}-{spanId}-{sampling}-{parent}', () => {
    assert.equal(
      b3SingleHeader({ traceId, spanId, parentSpanId, sampled: true }),
      `${traceId}-${spanId}-1-${parentSpanId}`,
    );
    assert.equal(b3SingleHeader({ traceId, spanId, sampled: false }), `${traceId}-${spanId}-0`);
    assert.equal(b3SingleHeader({ traceId, spanId, sampled: true, debug: true }), `${traceId}-${spanId}-d`);
  });

  it('writes no parent without a sampling state, the fields being positional', () => {
    assert.equal(b3SingleHeader({ traceId, spanId, parentSpanId }), `${traceId}-${spanId}`);
  });
});
