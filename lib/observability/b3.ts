/**
 * B3 propagation headers (https://github.com/openzipkin/b3-propagation), written from a plain trace
 * context so the format does not depend on zipkin-js, which only writes the multi-header form.
 */

/**
 * The identifiers B3 propagates; hex strings as zipkin produces them. Absent and `undefined` mean the
 * same, so a tracer can build every context with one object shape (no conditional spreads on the
 * hot path).
 */
export interface B3Context {
  /** 16 or 32 lower-hex characters. */
  readonly traceId: string;
  /** 16 lower-hex characters. */
  readonly spanId: string;
  readonly parentSpanId?: string | undefined;
  /** Undefined when the sampling decision is deferred to the receiver. */
  readonly sampled?: boolean | undefined;
  /** Debug forces sampling downstream. */
  readonly debug?: boolean | undefined;
}

/**
 * The multi-header form: `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId` (when there is a parent)
 * and `X-B3-Sampled` (when decided). A debug context sends `X-B3-Flags: 1` instead of
 * `X-B3-Sampled`, because the spec says debug implies an accept decision.
 *
 * @example
 * ```ts
 * b3MultiHeaders({ traceId: 'a'.repeat(16), spanId: 'b'.repeat(16), sampled: true });
 * // { 'X-B3-TraceId': 'aaaa…', 'X-B3-SpanId': 'bbbb…', 'X-B3-Sampled': '1' }
 * ```
 */
export function b3MultiHeaders(ctx: B3Context): Record<string, string> {
  // A traced call's usual context, as one literal: adding properties one by one to a two-property
  // literal moves them out of the object into a separate store.
  if (ctx.parentSpanId !== undefined && ctx.sampled !== undefined && ctx.debug !== true) {
    return {
      'X-B3-TraceId': ctx.traceId,
      'X-B3-SpanId': ctx.spanId,
      'X-B3-ParentSpanId': ctx.parentSpanId,
      'X-B3-Sampled': ctx.sampled ? '1' : '0',
    };
  }
  const headers: Record<string, string> = {
    'X-B3-TraceId': ctx.traceId,
    'X-B3-SpanId': ctx.spanId,
  };
  if (ctx.parentSpanId !== undefined) headers['X-B3-ParentSpanId'] = ctx.parentSpanId;
  if (ctx.debug === true) headers['X-B3-Flags'] = '1';
  else if (ctx.sampled !== undefined) headers['X-B3-Sampled'] = ctx.sampled ? '1' : '0';
  return headers;
}

/**
 * The single-header form: `{traceId}-{spanId}-{samplingState}-{parentSpanId}`. The sampling state is
 * `1`, `0` or `d` (debug); the parent is written only after a sampling state, because the spec makes
 * the fields positional and a parent without a state would read as one.
 *
 * @example
 * ```ts
 * b3SingleHeader({ traceId: 't', spanId: 's', parentSpanId: 'p', sampled: true }); // 't-s-1-p'
 * ```
 */
export function b3SingleHeader(ctx: B3Context): string {
  let value = `${ctx.traceId}-${ctx.spanId}`;
  const state = ctx.debug === true ? 'd' : ctx.sampled === undefined ? undefined : ctx.sampled ? '1' : '0';
  if (state !== undefined) {
    value += `-${state}`;
    if (ctx.parentSpanId !== undefined) value += `-${ctx.parentSpanId}`;
  }
  return value;
}
