import { createRequire } from 'node:module';
import type { Observable, Subscription } from 'rxjs';
import type zipkin from 'zipkin';
import type {
  AttemptEndEvent,
  AttemptStartEvent,
  CallEndEvent,
  CallEvent,
  CallStartEvent,
  FailFastEvent,
} from '../events/events.js';
import { b3MultiHeaders, b3SingleHeader, type B3Context } from './b3.js';
import { labelSafe, routeTemplate } from './redact.js';
import { onEvents } from '../events/bus.js';

/** Options of {@link Tracing}. */
export interface TracingOptions {
  /** Service name of the remote endpoint. @defaultValue the group name (scheme dropped) */
  readonly remoteServiceName?: string;
  /** Also send the single `b3` header beside the multi headers. @defaultValue false */
  readonly b3Single?: boolean;
}

/**
 * What rxhttp needs from a tracer, and nothing more. zipkin-js has had no release since 2020, so all of
 * its use sits in {@link zipkinBackend}; another tracer would be another implementation of this.
 */
export interface TraceBackend<Id> {
  /**
   * A new span id under the caller's current context (`parent` is that context), or a new root when
   * no context is in scope (`parent` absent). One call, so a counting sampler is consulted once.
   */
  childOfCurrent(): { readonly id: Id; readonly parent?: Id };
  newChild(parent: Id): Id;
  propagation(id: Id): B3Context;
  /** Starts a span now. `remote` is set for CLIENT spans, absent for local ones. */
  start(id: Id, span: SpanStart): void;
  /** Adds annotations and tags, then finishes the span now. */
  finish(id: Id, kind: 'client' | 'local', end: SpanEnd): void;
}

/** The start of a span, as handed to a {@link TraceBackend}. */
export interface SpanStart {
  readonly name: string;
  readonly remote?: { readonly serviceName: string; readonly host: string; readonly port: number };
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: readonly string[];
}

/** The end of a span, as handed to a {@link TraceBackend}. */
export interface SpanEnd {
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: readonly string[];
}

/** One call's spans: the parent of its attempts and what is waiting for the next span. */
interface CallTrace<Id> {
  readonly parent: Id;
  /** True when `parent` is a local root span we started (no context was current), finished at call-end. */
  readonly ownsParent: boolean;
  readonly method: string;
  readonly path: string;
  readonly remoteServiceName: string;
  /** Retry notes for the next attempt's span (the previous one is already finished). */
  pending: string[];
  /** The child id made while reading the caller's context, kept for the first span under `parent`. */
  spare: Id | undefined;
  readonly attempts: Map<number, Id>;
}

/**
 * Zipkin tracing as a subscriber of `client.events$`: one CLIENT span per attempt, B3 propagation.
 *
 * - Span name: the method in lower case (zipkin lower-cases names anyway), e.g. `get`.
 * - Parent: the tracer's context current at `call-start` (emitted synchronously inside `subscribe`, so
 *   the caller's scope is in force). All attempts of a call are siblings under it. Without a current
 *   context, a local root span per call (same name, no kind) is started and finished at call-end, so
 *   the trace has a real root instead of a missing one.
 * - Tags: `http.method`, `http.path` (a route template: ids become {id}, no query), `rxhttp.attempt`, `http.status_code`, `error` (our
 *   lower-case error code, or the status outside 200–399 as zipkin-js does), `rxhttp.timeout_phase`,
 *   and `server.address` when the host is not IPv4 (zipkin-js encodes only IPv4 remote endpoints).
 * - Annotations: a scheduled retry lands on the next attempt's span (`rxhttp.retry reason=503
 *   delay_ms=120 delay_reason=backoff`), because the failed attempt's span is already reported. A
 *   fail-fast becomes a zero-length local span `rxhttp.fail-fast` for that attempt number, tagged
 *   `error=fail_fast`: nothing went on the wire, yet the trace shows why the call failed. A refused
 *   retry is annotated on the call's root span when we own one. A cancelled attempt is annotated
 *   `rxhttp.cancelled` and is not tagged as an error.
 * - Never recorded: header values (Authorization, Cookie, …), query strings, fragments, userinfo.
 *
 * Use one `Tracing` per client: spans are keyed by the client's call ids.
 */
export class Tracing {
  readonly #backend: TraceBackend<zipkin.TraceId>;
  readonly #remoteServiceName: string | undefined;
  readonly #b3Single: boolean;
  readonly #calls = new Map<number, CallTrace<zipkin.TraceId>>();

  constructor(tracer: zipkin.Tracer, options: TracingOptions = {}) {
    this.#backend = zipkinBackend(tracer);
    this.#remoteServiceName = options.remoteServiceName;
    this.#b3Single = options.b3Single ?? false;
  }

  /**
   * Records spans for the events until unsubscribed (or until `events$` completes). Spans still open at
   * that moment are finished with an `rxhttp.detached` annotation, so none is left half-reported.
   */
  attach(events$: Observable<CallEvent>): Subscription {
    const subscription = onEvents(events$, (ev) => {
      switch (ev.type) {
        case 'call-start':
          this.#callFor(ev);
          break;
        case 'attempt-start':
          this.#attemptFor(ev);
          break;
        case 'attempt-end':
          this.#endAttempt(ev);
          break;
        case 'retry-scheduled':
          this.#calls
            .get(ev.callId)
            ?.pending.push(
              `rxhttp.retry reason=${ev.reason} delay_ms=${Math.round(ev.delayMs)} delay_reason=${ev.delayReason}`,
            );
          break;
        case 'retry-refused':
          this.#calls.get(ev.callId)?.pending.push(`rxhttp.retry-refused reason=${ev.reason}`);
          break;
        case 'fail-fast':
          this.#failFast(ev);
          break;
        case 'call-end':
          this.#endCall(ev);
          break;
        default:
          break;
      }
    });
    subscription.add(() => this.#detachAll());
    return subscription;
  }

  /**
   * B3 headers for the attempt just announced by `ev`: the multi headers, plus `b3` when `b3Single`.
   * Call it synchronously after emitting the attempt-start event; it creates the span itself if the
   * subscriber has not seen the event yet, so the order of the two never matters.
   */
  headersFor(ev: AttemptStartEvent): Record<string, string> {
    const ctx = this.#backend.propagation(this.#attemptFor(ev));
    const headers = b3MultiHeaders(ctx);
    if (this.#b3Single) headers['b3'] = b3SingleHeader(ctx);
    return headers;
  }

  #callFor(ev: CallStartEvent | AttemptStartEvent | FailFastEvent): CallTrace<zipkin.TraceId> {
    let call = this.#calls.get(ev.callId);
    if (call !== undefined) return call;
    const { id, parent } = this.#backend.childOfCurrent();
    const path = 'path' in ev ? routeTemplate(ev.path) : '/';
    call = {
      parent: parent ?? id,
      ownsParent: parent === undefined,
      spare: parent === undefined ? undefined : id,
      method: ev.method,
      path,
      remoteServiceName: this.#remoteServiceName ?? serviceNameOf(ev.group),
      pending: [],
      attempts: new Map(),
    };
    if (call.ownsParent) {
      this.#backend.start(call.parent, {
        name: ev.method.toLowerCase(),
        tags: { 'http.method': ev.method, 'http.path': path },
        annotations: [],
      });
    }
    this.#calls.set(ev.callId, call);
    return call;
  }

  #attemptFor(ev: AttemptStartEvent): zipkin.TraceId {
    const call = this.#callFor(ev);
    let id = call.attempts.get(ev.attempt);
    if (id !== undefined) return id;
    id = this.#childOf(call);
    call.attempts.set(ev.attempt, id);
    const tags: Record<string, string> = {
      'http.method': ev.method,
      'http.path': routeTemplate(ev.path),
      'rxhttp.attempt': String(ev.attempt),
    };
    if (!isIpv4(ev.address.host)) tags['server.address'] = ev.address.host;
    this.#backend.start(id, {
      name: ev.method.toLowerCase(),
      remote: { serviceName: call.remoteServiceName, host: ev.address.host, port: ev.address.port },
      tags,
      annotations: call.pending,
    });
    call.pending = [];
    return id;
  }

  #childOf(call: CallTrace<zipkin.TraceId>): zipkin.TraceId {
    const spare = call.spare;
    if (spare === undefined) return this.#backend.newChild(call.parent);
    call.spare = undefined;
    return spare;
  }

  #endAttempt(ev: AttemptEndEvent): void {
    const call = this.#calls.get(ev.callId);
    const id = call?.attempts.get(ev.attempt);
    if (call === undefined || id === undefined) return;
    call.attempts.delete(ev.attempt);
    const tags: Record<string, string> = {};
    const annotations: string[] = [];
    if (ev.status !== undefined) {
      tags['http.status_code'] = String(ev.status);
      if (ev.status < 200 || ev.status > 399) tags['error'] = String(ev.status);
    }
    if (ev.errorCode !== undefined && ev.errorCode !== 'ABORTED') tags['error'] = ev.errorCode.toLowerCase();
    if (ev.timeoutPhase !== undefined) tags['rxhttp.timeout_phase'] = ev.timeoutPhase;
    if (ev.cancelled || ev.errorCode === 'ABORTED') annotations.push('rxhttp.cancelled');
    this.#backend.finish(id, 'client', { tags, annotations });
  }

  #failFast(ev: FailFastEvent): void {
    const call = this.#callFor(ev);
    const id = this.#childOf(call);
    this.#backend.start(id, {
      name: 'rxhttp.fail-fast',
      tags: { 'http.method': ev.method, 'http.path': call.path, 'rxhttp.attempt': String(ev.attempt) },
      annotations: call.pending,
    });
    call.pending = [];
    this.#backend.finish(id, 'local', { tags: { error: 'fail_fast' }, annotations: ['rxhttp.fail-fast'] });
  }

  #endCall(ev: CallEndEvent): void {
    const call = this.#calls.get(ev.callId);
    if (call === undefined) return;
    this.#calls.delete(ev.callId);
    this.#finishCall(call, callEndTags(ev), ev.outcome === 'cancelled' ? ['rxhttp.cancelled'] : []);
  }

  #finishCall(call: CallTrace<zipkin.TraceId>, tags: Record<string, string>, annotations: string[]): void {
    for (const id of call.attempts.values()) {
      this.#backend.finish(id, 'client', { tags: {}, annotations: ['rxhttp.detached'] });
    }
    call.attempts.clear();
    if (call.ownsParent) {
      this.#backend.finish(call.parent, 'local', { tags, annotations: [...call.pending, ...annotations] });
    }
  }

  #detachAll(): void {
    for (const call of this.#calls.values()) this.#finishCall(call, {}, ['rxhttp.detached']);
    this.#calls.clear();
  }
}

function callEndTags(ev: CallEndEvent): Record<string, string> {
  const tags: Record<string, string> = { 'rxhttp.attempts': String(ev.attempts) };
  if (ev.status !== undefined) tags['http.status_code'] = String(ev.status);
  if (ev.outcome === 'error' && ev.errorCode !== undefined) tags['error'] = ev.errorCode.toLowerCase();
  return tags;
}

/** A group name as a zipkin service name: `dns://users:80` reads better as `users:80`. */
function serviceNameOf(group: string): string {
  const safe = labelSafe(group);
  const scheme = safe.indexOf('://');
  return scheme === -1 ? safe : safe.slice(scheme + 3);
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
function isIpv4(host: string): boolean {
  return IPV4.test(host);
}

type ZipkinModule = typeof zipkin;

/**
 * The one place that speaks zipkin-js. The module is loaded from the tracer's side only when tracing
 * is configured, so rxhttp works without the optional `zipkin` peer dependency.
 */
export function zipkinBackend(tracer: zipkin.Tracer): TraceBackend<zipkin.TraceId> {
  const z = createRequire(import.meta.url)('zipkin') as ZipkinModule;
  const { Annotation, InetAddress } = z;
  // Not in the typings, but set by every zipkin-js Tracer since 0.11: spans need it as local endpoint.
  const localServiceName = (tracer as unknown as { localEndpoint?: { serviceName?: string } }).localEndpoint
    ?.serviceName;

  const record = (id: zipkin.TraceId, fn: () => void): void => {
    tracer.letId(id, fn);
  };
  const annotateAndTag = (tags: Readonly<Record<string, string>>, annotations: readonly string[]): void => {
    for (const value of annotations) tracer.recordMessage(value);
    for (const key of Object.keys(tags)) tracer.recordBinary(key, tags[key] ?? '');
  };

  return {
    childOfCurrent() {
      const current = tracer.id;
      // zipkin-js hides whether a context is in scope (tracer.id falls back to a sentinel), but a child
      // of the sentinel comes back as a new root, without a parent span id.
      const id = tracer.createChildId(current);
      return id.parentSpanId.present ? { id, parent: current } : { id };
    },
    newChild: (parent) => tracer.createChildId(parent),
    propagation(id) {
      return {
        traceId: id.traceId,
        spanId: id.spanId,
        ...(id.parentSpanId.present ? { parentSpanId: id.parentSpanId.getOrElse('') } : {}),
        ...(id.sampled.present ? { sampled: id.sampled.getOrElse(false) } : {}),
        ...(id.isDebug() ? { debug: true } : {}),
      };
    },
    start(id, span) {
      record(id, () => {
        if (localServiceName !== undefined) tracer.recordServiceName(localServiceName);
        if (span.remote === undefined) {
          tracer.recordAnnotation(new Annotation.LocalOperationStart(span.name));
        } else {
          tracer.recordRpc(span.name);
          tracer.recordAnnotation(new Annotation.ClientSend());
          tracer.recordAnnotation(
            new Annotation.ServerAddr({
              serviceName: span.remote.serviceName,
              host: new InetAddress(span.remote.host),
              port: span.remote.port,
            }),
          );
        }
        annotateAndTag(span.tags, span.annotations);
      });
    },
    finish(id, kind, end) {
      record(id, () => {
        annotateAndTag(end.tags, end.annotations);
        tracer.recordAnnotation(
          kind === 'client' ? new Annotation.ClientRecv() : new Annotation.LocalOperationStop(),
        );
      });
    },
  };
}
