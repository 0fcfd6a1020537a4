import type * as Api from '@opentelemetry/api';
import { systemClock } from '../internal/clock.js';
import { labelSafe, methodLabel, routeTemplate } from './redact.js';
import type { TraceBackend } from './trace-backend.js';
import { w3cHeaders, w3cTraceContextOf } from './w3c-trace-context.js';

/**
 * A span of {@link otelBackend}: OpenTelemetry assigns ids at span start, so an id is the context it
 * will start under, and its span once started.
 */
export interface OtelSpanRef {
  /** The context the span starts under (its parent). */
  readonly parent: Api.Context;
  span: Api.Span | undefined;
  /** `parent` with `span` set: what children start under and what is injected. */
  ctx: Api.Context | undefined;
  /** True for the caller's context (a span we do not own). */
  readonly external: boolean;
}

/** What {@link otelBackend} needs: the API module, a tracer and the propagator. */
export interface OtelTracingParts {
  readonly api: typeof Api;
  readonly tracer: Api.Tracer;
  readonly propagator: Pick<Api.TextMapPropagator, 'inject'>;
}

const setter: Api.TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * The {@link TraceBackend} of `@opentelemetry/api`, as the stable HTTP client semantic conventions
 * say: CLIENT spans named by the method (`GET`, or `HTTP` for a non-standard one) with
 * `http.request.method`, `server.address`, `server.port`, `url.full` (scheme, host, port and the
 * route template: no query, no userinfo, ids as `{id}`), `http.request.resend_count` on retries and
 * hedges, `http.response.status_code` and `error.type`; status Error for 4xx, 5xx and failures, unset
 * for a cancellation. Our own attributes: `rxhttp.group`, `rxhttp.breaker_key`, `rxhttp.attempt`,
 * `rxhttp.retry.reason`, `rxhttp.timeout_phase`. Annotations (`rxhttp.retry reason=503 …`) become
 * span events with their `key=value` pairs as attributes.
 *
 * Times are epoch milliseconds (what the SDK takes as a `TimeInput`), on `systemClock`.
 */
export function otelBackend(parts: OtelTracingParts): TraceBackend<OtelSpanRef> {
  const { api, tracer, propagator } = parts;
  const { trace, SpanKind, SpanStatusCode } = api;
  const CLIENT = SpanKind.CLIENT;
  // The built-in W3C propagator writes straight from the span context: no context object per inject.
  const direct = propagator === w3cTraceContextOf(api) ? w3cHeaders(api) : undefined;
  // One-entry memos: a client's attempts mostly share a group, a breaker key and an origin.
  const group = memo(labelSafe);
  const breakerKey = memo(labelSafe);
  let lastOrigin: { scheme: string; host: string; port: number; value: string } | undefined;
  const origin = (scheme: string, host: string, port: number): string => {
    const last = lastOrigin;
    if (last !== undefined && last.host === host && last.port === port && last.scheme === scheme)
      return last.value;
    const value = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    lastOrigin = { scheme, host, port, value };
    return value;
  };
  // `url.full` of the last origin and route: one string for a client's calls to one route, instead
  // of a concatenation per span (the SDK keeps the span's attributes until they are exported).
  const template = memo(routeTemplate);
  let lastOriginValue: string | undefined;
  let lastRoute: string | undefined;
  let lastFull = '';
  const fullUrl = (originValue: string, route: string): string => {
    if (originValue !== lastOriginValue || route !== lastRoute) {
      lastFull = originValue + route;
      lastOriginValue = originValue;
      lastRoute = route;
    }
    return lastFull;
  };
  // The caller's context as a parent: the same for every call made under one server span, and never
  // changed (only spans we start are), so one ref serves them all.
  let lastActive: Api.Context | undefined;
  let lastExternal: OtelSpanRef | undefined;
  const INVALID = api.INVALID_SPAN_CONTEXT;
  const contextOf = (ref: OtelSpanRef): Api.Context => {
    if (ref.ctx !== undefined) return ref.ctx;
    if (ref.span === undefined) return ref.parent;
    // A span without a valid context (the API's no-op tracer, when no SDK is registered) is no
    // parent to anyone: its children start as they would under the context it started under, which
    // serves as is instead of a copy made to hold that span.
    if (ref.span.spanContext() === INVALID) return (ref.ctx = ref.parent);
    return (ref.ctx = trace.setSpan(ref.parent, ref.span));
  };
  const error = (span: Api.Span, type: string): void => {
    span.setAttribute('error.type', type);
    span.setStatus({ code: SpanStatusCode.ERROR });
  };
  return {
    childOfCurrent() {
      const active = api.context.active();
      const id: OtelSpanRef = {
        parent: active,
        span: undefined,
        ctx: undefined,
        external: false,
      };
      if (active === lastActive && lastExternal !== undefined) return { id, parent: lastExternal };
      if (trace.getSpan(active) === undefined) return { id };
      const parent: OtelSpanRef = {
        parent: active,
        span: undefined,
        ctx: active,
        external: true,
      };
      lastActive = active;
      lastExternal = parent;
      return { id, parent };
    },
    newChild: (parent) => ({
      parent: contextOf(parent),
      span: undefined,
      ctx: undefined,
      external: false,
    }),
    inject(ref, headers) {
      if (direct !== undefined && ref.span !== undefined) return direct(ref.span, headers);
      const carrier = headers ?? {};
      propagator.inject(contextOf(ref), carrier, setter);
      return carrier;
    },
    tagsAtStart: true,
    spanName(method) {
      const label = methodLabel(method);
      return label === '_OTHER' ? 'HTTP' : label;
    },
    recorded: (ref) => (ref.span === undefined ? !ref.external : ref.span.isRecording()),
    now: () => systemClock.now(),
    atSystemTime: (epochMs) => epochMs,
    startClient(ref, name, _remoteServiceName, ev, at) {
      const { host, port } = ev.address;
      const method = methodLabel(ev.method);
      const scheme = ev.scheme ?? 'http';
      const route = template(ev.path);
      const attributes: Api.Attributes = {
        'http.request.method': method,
        'server.address': host,
        'server.port': port,
        'url.full': fullUrl(origin(scheme, host, port), route),
        'url.template': route,
        'rxhttp.group': group(ev.group),
        'rxhttp.breaker_key': breakerKey(ev.breakerKey),
        'rxhttp.attempt': ev.attempt,
      };
      if (method === '_OTHER') attributes['http.request.method_original'] = ev.method;
      if (ev.attempt > 1) attributes['http.request.resend_count'] = ev.attempt - 1;
      ref.span = tracer.startSpan(name, { kind: CLIENT, startTime: at, attributes }, ref.parent);
    },
    startLocal(ref, name, at) {
      ref.span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: at }, ref.parent);
    },
    annotate(ref, value, at) {
      const span = ref.span;
      if (span === undefined) return;
      const parts = value.split(' ');
      const name = parts[0] ?? value;
      const attributes: Api.Attributes = {};
      for (let i = 1; i < parts.length; i++) {
        const pair = parts[i]!;
        const eq = pair.indexOf('=');
        if (eq > 0) attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      span.addEvent(name, attributes, at);
      if (name === 'rxhttp.retry' && attributes['reason'] !== undefined) {
        span.setAttribute('rxhttp.retry.reason', attributes['reason']);
      }
    },
    tag(ref, key, value) {
      const span = ref.span;
      if (span === undefined) return;
      switch (key) {
        case 'http.status_code': {
          const status = Number(value);
          span.setAttribute('http.response.status_code', status);
          if (status >= 400) error(span, value);
          break;
        }
        case 'error':
          // The core tags 1xx and 3xx too (zipkin-js does); the conventions make only 4xx/5xx errors.
          if (!/^\d+$/.test(value)) error(span, value);
          break;
        // With tagsAtStart the core tags these on local spans only; CLIENT spans get them at start.
        case 'http.method':
          span.setAttribute('http.request.method', methodLabel(value));
          break;
        case 'http.path':
          // The route template is what `url.template` means.
          span.setAttribute('url.template', value);
          break;
        case 'rxhttp.attempt':
        case 'rxhttp.attempts':
          span.setAttribute(key, Number(value));
          break;
        default:
          span.setAttribute(key, value);
      }
    },
    finish(ref, _kind, at) {
      ref.span?.end(at);
    },
  };
}

/** `f` with a one-entry memo. */
function memo(f: (s: string) => string): (s: string) => string {
  let lastIn: string | undefined;
  let lastOut = '';
  return (s) => {
    if (s !== lastIn) {
      lastOut = f(s);
      lastIn = s;
    }
    return lastOut;
  };
}
