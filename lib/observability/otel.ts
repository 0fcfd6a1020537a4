import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { Subscription, type Observable } from 'rxjs';
import type { Dispatcher } from 'undici';
import { invalidArgument } from '../errors.js';
import type { OpenTelemetryConfig } from './otel-config.js';
import type { AttemptStartEvent, CallEvent } from '../events/events.js';
import { otelBackend, type OtelSpanRef } from './otel-backend.js';
import { attachOtelMetrics } from './otel-metrics.js';
import { w3cTraceContext } from './w3c-trace-context.js';
import { Tracing } from './tracing.js';

export type { OpenTelemetryConfig } from './otel-config.js';

/** The parts a client wires in: the tracing subscriber and headers, the metrics, the dispatch wrap. */
export interface OtelParts {
  readonly tracing: Tracing<OtelSpanRef> | undefined;
  /** Subscribes spans and metrics to the client's events. */
  attach(events$: Observable<CallEvent>): Subscription;
  /**
   * The dispatcher to send an attempt through: with tracing on, one that dispatches with tracing
   * suppressed, so `@opentelemetry/instrumentation-undici` adds no second span or `traceparent`.
   */
  readonly dispatcher: ((d: Dispatcher) => Dispatcher) | undefined;
}

const CONFIG_KEYS = ['tracerProvider', 'meterProvider', 'propagator'];
/** The key `suppressTracing` of `@opentelemetry/core` sets: `createContextKey` is `Symbol.for`. */
const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';
const SCOPE = 'rxhttp';

/** Validates `openTelemetry` and builds its parts; throws `INVALID_ARGUMENT` naming the field. */
export function openTelemetry(config: OpenTelemetryConfig | true, eventsOnSystemClock: boolean): OtelParts {
  if (config !== true) {
    if (typeof config !== 'object' || config === null)
      throw invalidArgument(
        'openTelemetry',
        'must be true or { tracerProvider?, meterProvider?, propagator? }',
      );
    for (const key of Object.keys(config)) {
      if (!CONFIG_KEYS.includes(key)) throw invalidArgument(`openTelemetry.${key}`, 'is not an option');
    }
    hasMethod(config.tracerProvider, 'getTracer', 'openTelemetry.tracerProvider', 'a TracerProvider');
    hasMethod(config.meterProvider, 'getMeter', 'openTelemetry.meterProvider', 'a MeterProvider');
    hasMethod(config.propagator, 'inject', 'openTelemetry.propagator', 'a TextMapPropagator');
  }
  const api = loadApi();
  const all = config === true;
  const tracerProvider = all
    ? api.trace.getTracerProvider()
    : (config.tracerProvider as Api.TracerProvider | undefined);
  const meterProvider = all
    ? api.metrics.getMeterProvider()
    : (config.meterProvider as Api.MeterProvider | undefined);
  const given = all ? undefined : (config.propagator as Api.TextMapPropagator | undefined);
  const propagator = given ?? (api.propagation.fields().length > 0 ? api.propagation : w3cTraceContext(api));
  const tracing =
    tracerProvider === undefined
      ? undefined
      : new Tracing(otelBackend({ api, tracer: tracerProvider.getTracer(SCOPE), propagator }), {
          ...(eventsOnSystemClock ? { eventsOnSystemClock: true } : {}),
        });
  const meter = meterProvider?.getMeter(SCOPE);
  return {
    tracing,
    attach(events$) {
      const subscription = tracing ? tracing.attach(events$) : new Subscription();
      if (meter !== undefined) subscription.add(attachOtelMetrics(events$, meter));
      return subscription;
    },
    dispatcher: tracing === undefined ? undefined : suppressing(api),
  };
}

/**
 * The attempt headers of zipkin and OpenTelemetry tracing, either or both (B3 and `traceparent` side
 * by side), or undefined when neither is on.
 */
export function attemptHeaders(
  zipkin: Tracing<unknown> | undefined,
  otel: Tracing<OtelSpanRef> | undefined,
): ((ev: AttemptStartEvent) => Record<string, string>) | undefined {
  if (zipkin === undefined) return otel === undefined ? undefined : (ev) => otel.headersFor(ev);
  if (otel === undefined) return (ev) => zipkin.headersFor(ev);
  return (ev) => otel.headersFor(ev, zipkin.headersFor(ev));
}

/**
 * Wraps a dispatcher so each dispatch runs in a context with tracing suppressed. undici publishes
 * `undici:request:create` synchronously inside `dispatch` (or, for a request the pool queued, inside
 * the drain that sends it, which runs in the async context of the pool's sockets, made under this
 * one), and instrumentation-undici starts its span from the active context there: the SDK answers a
 * suppressed context with a non-recording span, and the propagators inject nothing for it. One wrapper
 * per dispatcher, kept as long as the dispatcher lives.
 */
function suppressing(api: typeof Api): (d: Dispatcher) => Dispatcher {
  const suppressed = api.ROOT_CONTEXT.setValue(api.createContextKey(SUPPRESS_TRACING), true);
  const { context } = api;
  const wrappers = new WeakMap<Dispatcher, Dispatcher>();
  return (d) => {
    let wrapper = wrappers.get(d);
    if (wrapper === undefined) {
      const dispatch = d.dispatch;
      wrapper = {
        dispatch: (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
          context.with(suppressed, dispatch, d, opts, handler),
      } as unknown as Dispatcher;
      wrappers.set(d, wrapper);
    }
    return wrapper;
  };
}

function hasMethod(value: unknown, method: string, field: string, what: string): void {
  if (value === undefined) return;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  )
    throw invalidArgument(field, `must be ${what}`);
}

/** `@opentelemetry/api`, loaded only when OpenTelemetry is configured (optional peer dependency). */
function loadApi(): typeof Api {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof Api;
  } catch (error) {
    throw invalidArgument('openTelemetry', 'needs the @opentelemetry/api package installed', error);
  }
}
