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
