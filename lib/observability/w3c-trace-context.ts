import type * as Api from '@opentelemetry/api';

const VERSION = '00';
const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';

/**
 * The inject half of W3C trace context (`traceparent`, `tracestate`), for when no propagator is
 * configured nor registered globally: `@opentelemetry/core` has it, but rxhttp depends on the API
 * alone. As core's `W3CTraceContextPropagator`, it injects nothing for an invalid span context or a
 * context with tracing suppressed.
 *
 * @example
 * ```ts
 * w3cTraceContext(api).inject(ctx, headers, setter); // traceparent: 00-<trace id>-<span id>-01
 * ```
 */
export function w3cTraceContext(api: typeof Api): Pick<Api.TextMapPropagator, 'inject' | 'fields'> {
  return w3cTraceContextOf(api);
}

type W3C = Pick<Api.TextMapPropagator, 'inject' | 'fields'>;
const perApi = new WeakMap<typeof Api, W3C>();

/** The one built-in W3C propagator of an API module, so a backend can recognise it. */
export function w3cTraceContextOf(api: typeof Api): W3C {
  let propagator = perApi.get(api);
  if (propagator === undefined) perApi.set(api, (propagator = makeW3c(api)));
  return propagator;
}

/**
 * The W3C headers of a span, written into `headers` (or a fresh record): what the built-in propagator
 * writes for a context holding `span` (no suppression: the span was started under our context).
 */
export function w3cHeaders(
  api: typeof Api,
): (span: Api.Span, headers?: Record<string, string>) => Record<string, string> {
  // A call's attempts, and every call under one server span, share a trace id: checked once.
  let validTraceId: string | undefined;
  const INVALID = api.INVALID_SPAN_CONTEXT;
  return (span, headers) => {
    const sc = span.spanContext();
    const carrier = headers ?? {};
    // The no-op tracer's spans (no SDK registered) share the API's invalid context: nothing to write.
    if (sc === INVALID || !api.isValidSpanId(sc.spanId)) return carrier;
    if (sc.traceId !== validTraceId) {
      if (!api.isValidTraceId(sc.traceId)) return carrier;
      validTraceId = sc.traceId;
    }
    carrier['traceparent'] = `${VERSION}-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`;
    const state = sc.traceState?.serialize();
    if (state) carrier['tracestate'] = state;
    return carrier;
  };
}

function makeW3c(api: typeof Api): W3C {
  const suppressed = api.createContextKey(SUPPRESS_TRACING);
  return {
    inject(context, carrier, setter) {
      const span = api.trace.getSpanContext(context);
      if (span === undefined || context.getValue(suppressed) === true || !api.isSpanContextValid(span))
        return;
      const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
      setter.set(carrier, 'traceparent', `${VERSION}-${span.traceId}-${span.spanId}-${flags}`);
      const state = span.traceState?.serialize();
      if (state) setter.set(carrier, 'tracestate', state);
    },
    fields: () => ['traceparent', 'tracestate'],
  };
}
