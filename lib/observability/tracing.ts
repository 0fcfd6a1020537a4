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
import { onEvents } from '../events/bus.js';
import { labelSafe, routeTemplate } from './redact.js';
import { CallTable } from './call-table.js';
import { zipkinBackend } from './zipkin-backend.js';
import { findAttempt, note, takeAttempt, type CallTrace } from './call-trace.js';
import type { TraceBackend } from './trace-backend.js';

export type { TraceBackend } from './trace-backend.js';

/** A zipkin-js `Tracer` (sugar for {@link zipkinBackend}) or any {@link TraceBackend}. */
export type TracerOrBackend<Id> = zipkin.Tracer | TraceBackend<Id>;

/** Options of {@link Tracing}. */
export interface TracingOptions {
  /** Service name of the remote endpoint. @defaultValue the group name (scheme dropped) */
  readonly remoteServiceName?: string;
  /** Also send the single `b3` header beside the multi headers (zipkin-js tracer only). @defaultValue false */
  readonly b3Single?: boolean;
  /**
   * Event `time`s are readings of `systemClock` (epoch ms of the monotonic clock), as in a client not
   * driven by a virtual scheduler. Spans are then stamped from the reading the client already made for
   * each event, converted to the tracer's clock, instead of reading that clock again: a traced call has
   * four span events, and a reading costs ~0.1 µs. @defaultValue false
   */
  readonly eventsOnSystemClock?: boolean;
}

/**
 * Tracing as a subscriber of `client.events$`: one CLIENT span per attempt, over a
 * {@link TraceBackend} (a zipkin-js `Tracer` is sugar for {@link zipkinBackend}: B3 propagation). The
 * list below is the core's vocabulary as the Zipkin backend records it; {@link otelBackend} maps it
 * to the OpenTelemetry HTTP client conventions.
 *
 * - Span name: the backend's name of the method; zipkin: the method in lower case (zipkin lower-cases
 *   names anyway), e.g. `get`.
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
 *   retry is annotated on the call's root span when we own one. A cancelled attempt or call
 *   (unsubscribed, aborted by its `signal`, or ended by `client.close()`: the events say `cancelled`)
 *   is annotated `rxhttp.cancelled` and is not tagged as an error.
 * - Never recorded: header values (Authorization, Cookie, …), query strings, fragments, userinfo.
 *
 * Use one `Tracing` per client: spans are keyed by the client's call ids.
 */
export class Tracing<Id = zipkin.TraceId> {
  readonly #backend: TraceBackend<Id>;
  readonly #remoteServiceName: string | undefined;
  readonly #eventsOnSystemClock: boolean;
  readonly #calls = new CallTable<CallTrace<Id>>();
  #seq = 0;
  // One-entry memos: a client's calls mostly share a group, a method and a host.
  #lastGroup: string | undefined;
  #lastServiceName = '';
  #lastMethod: string | undefined;
  #lastName = '';
  #lastHost: string | undefined;
  #lastHostIsIpv4 = false;
  #lastRawPath: string | undefined;
  #lastPath = '';

  constructor(tracer: TracerOrBackend<Id>, options: TracingOptions = {}) {
    this.#backend = isBackend(tracer)
      ? tracer
      : (zipkinBackend(tracer, options.b3Single ? { b3Single: true } : {}) as unknown as TraceBackend<Id>);
    this.#remoteServiceName = options.remoteServiceName;
    this.#eventsOnSystemClock = options.eventsOnSystemClock ?? false;
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
        case 'retry-scheduled': {
          const call = this.#calls.get(ev.callId);
          if (call !== undefined) {
            note(
              call,
              `rxhttp.retry reason=${ev.reason} delay_ms=${Math.round(ev.delayMs)} delay_reason=${ev.delayReason}`,
            );
          }
          break;
        }
        case 'retry-refused': {
          const call = this.#calls.get(ev.callId);
          if (call !== undefined) note(call, `rxhttp.retry-refused reason=${ev.reason}`);
          break;
        }
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
   * The propagation headers of the attempt just announced by `ev` (zipkin: the B3 multi headers, plus
   * `b3` when `b3Single`), written into `into` when given, else a fresh record. Call it synchronously
   * after emitting the attempt-start event; it creates the span itself if the subscriber has not seen
   * the event yet, so the order of the two never matters.
   */
  headersFor(ev: AttemptStartEvent, into?: Record<string, string>): Record<string, string> {
    return this.#backend.inject(this.#attemptFor(ev), into);
  }

  #callFor(ev: CallStartEvent | AttemptStartEvent | FailFastEvent): CallTrace<Id> {
    let call = this.#calls.get(ev.callId);
    if (call !== undefined) return call;
    const backend = this.#backend;
    const { id, parent } = backend.childOfCurrent();
    const rawPath = ev.type === 'fail-fast' ? '' : ev.path;
    call = {
      callId: ev.callId,
      seq: ++this.#seq,
      parent: parent ?? id,
      ownsParent: parent === undefined,
      method: ev.method,
      name: this.#nameOf(ev.method),
      rawPath,
      path: this.#templateOf(rawPath),
      remoteServiceName: this.#remoteServiceName ?? this.#serviceNameOf(ev.group),
      pending: undefined,
      spare: parent === undefined ? undefined : id,
      attempts: undefined,
    };
    if (call.ownsParent && backend.recorded(call.parent)) {
      const at = this.#at(ev.time);
      backend.startLocal(call.parent, call.name, at);
      backend.tag(call.parent, 'http.method', ev.method, at);
      backend.tag(call.parent, 'http.path', call.path, at);
    }
    this.#calls.add(call);
    return call;
  }

  #attemptFor(ev: AttemptStartEvent): Id {
    const call = this.#callFor(ev);
    const open = findAttempt(call.attempts, ev.attempt);
    if (open !== undefined) return open;
    const id = this.#childOf(call);
    const entry = { attempt: ev.attempt, id };
    const attempts = call.attempts;
    if (attempts === undefined) call.attempts = entry;
    else if (Array.isArray(attempts)) attempts.push(entry);
    else call.attempts = [attempts, entry];
    const backend = this.#backend;
    if (!backend.recorded(id)) {
      call.pending = undefined;
      return id;
    }
    const at = this.#at(ev.time);
    const name = ev.method === call.method ? call.name : this.#nameOf(ev.method);
    backend.startClient(id, name, call.remoteServiceName, ev, at);
    this.#flushPending(call, id, at);
    if (backend.tagsAtStart === true) return id;
    backend.tag(id, 'http.method', ev.method, at);
    backend.tag(id, 'http.path', ev.path === call.rawPath ? call.path : this.#templateOf(ev.path), at);
    backend.tag(id, 'rxhttp.attempt', String(ev.attempt), at);
    const host = ev.address.host;
    if (host !== this.#lastHost) {
      this.#lastHost = host;
      this.#lastHostIsIpv4 = IPV4.test(host);
    }
    if (!this.#lastHostIsIpv4) backend.tag(id, 'server.address', host, at);
    return id;
  }

  /** The tracer's time of a span event the client saw at `time`. */
  #at(time: number): number {
    const backend = this.#backend;
    return this.#eventsOnSystemClock ? backend.atSystemTime(time) : backend.now();
  }

  #childOf(call: CallTrace<Id>): Id {
    const spare = call.spare;
    if (spare === undefined) return this.#backend.newChild(call.parent);
    call.spare = undefined;
    return spare;
  }

  #flushPending(call: CallTrace<Id>, id: Id, at: number): void {
    const pending = call.pending;
    if (pending === undefined) return;
    call.pending = undefined;
    for (const value of pending) this.#backend.annotate(id, value, at);
  }

  #endAttempt(ev: AttemptEndEvent): void {
    const call = this.#calls.get(ev.callId);
    const id = call === undefined ? undefined : takeAttempt(call, ev.attempt);
    const backend = this.#backend;
    if (id === undefined || !backend.recorded(id)) return;
    const at = this.#at(ev.time);
    if (ev.cancelled) backend.annotate(id, 'rxhttp.cancelled', at);
    let error: string | undefined;
    if (ev.status !== undefined) {
      const status = String(ev.status);
      backend.tag(id, 'http.status_code', status, at);
      if (ev.status < 200 || ev.status > 399) error = status;
    }
    if (ev.errorCode !== undefined && !ev.cancelled) error = ev.errorCode.toLowerCase();
    if (error !== undefined) backend.tag(id, 'error', error, at);
    if (ev.timeoutPhase !== undefined) backend.tag(id, 'rxhttp.timeout_phase', ev.timeoutPhase, at);
    backend.finish(id, 'client', at);
  }

  #failFast(ev: FailFastEvent): void {
    const call = this.#callFor(ev);
    const id = this.#childOf(call);
    const backend = this.#backend;
    if (!backend.recorded(id)) {
      call.pending = undefined;
      return;
    }
    const at = this.#at(ev.time);
    backend.startLocal(id, 'rxhttp.fail-fast', at);
    this.#flushPending(call, id, at);
    backend.tag(id, 'http.method', ev.method, at);
    backend.tag(id, 'http.path', call.path, at);
    backend.tag(id, 'rxhttp.attempt', String(ev.attempt), at);
    backend.annotate(id, 'rxhttp.fail-fast', at);
    backend.tag(id, 'error', 'fail_fast', at);
    backend.finish(id, 'local', at);
  }

  #endCall(ev: CallEndEvent): void {
    const call = this.#calls.get(ev.callId);
    if (call === undefined) return;
    this.#calls.delete(call);
    const backend = this.#backend;
    const root = call.parent;
    const ownsRecorded = call.ownsParent && backend.recorded(root);
    if (!ownsRecorded && call.attempts === undefined) return;
    const at = this.#at(ev.time);
    this.#detachAttempts(call, at);
    if (!ownsRecorded) return;
    this.#flushPending(call, root, at);
    if (ev.outcome === 'cancelled') backend.annotate(root, 'rxhttp.cancelled', at);
    backend.tag(root, 'rxhttp.attempts', String(ev.attempts), at);
    if (ev.status !== undefined) backend.tag(root, 'http.status_code', String(ev.status), at);
    if (ev.outcome === 'error' && ev.errorCode !== undefined) {
      backend.tag(root, 'error', ev.errorCode.toLowerCase(), at);
    }
    backend.finish(root, 'local', at);
  }

  /** Finishes the attempt spans a call left open (call-end without attempt-end, or detach). */
  #detachAttempts(call: CallTrace<Id>, at: number): void {
    const open = call.attempts;
    if (open === undefined) return;
    call.attempts = undefined;
    if (Array.isArray(open)) for (const { id } of open) this.#detach(id, at);
    else this.#detach(open.id, at);
  }

  #detach(id: Id, at: number): void {
    const backend = this.#backend;
    if (!backend.recorded(id)) return;
    backend.annotate(id, 'rxhttp.detached', at);
    backend.finish(id, 'client', at);
  }

  #detachAll(): void {
    if (this.#calls.size === 0) return;
    const backend = this.#backend;
    const at = backend.now();
    for (const call of this.#calls.drain()) {
      this.#detachAttempts(call, at);
      if (!call.ownsParent || !backend.recorded(call.parent)) continue;
      this.#flushPending(call, call.parent, at);
      backend.annotate(call.parent, 'rxhttp.detached', at);
      backend.finish(call.parent, 'local', at);
    }
  }

  #serviceNameOf(group: string): string {
    if (group !== this.#lastGroup) {
      this.#lastServiceName = serviceNameOf(group);
      this.#lastGroup = group;
    }
    return this.#lastServiceName;
  }

  /** {@link routeTemplate} has its own cache, but a hit there still hashes the path. */
  #templateOf(rawPath: string): string {
    if (rawPath !== this.#lastRawPath) {
      this.#lastPath = routeTemplate(rawPath);
      this.#lastRawPath = rawPath;
    }
    return this.#lastPath;
  }

  /** The span name of a method, memoised: `toLowerCase` makes a new string every time. */
  #nameOf(method: string): string {
    if (method !== this.#lastMethod) {
      this.#lastName = this.#backend.spanName(method);
      this.#lastMethod = method;
    }
    return this.#lastName;
  }
}

/** A group name as a zipkin service name: `dns://users:80` reads better as `users:80`. */
function serviceNameOf(group: string): string {
  const safe = labelSafe(group);
  const scheme = safe.indexOf('://');
  return scheme === -1 ? safe : safe.slice(scheme + 3);
}

function isBackend<Id>(t: TracerOrBackend<Id>): t is TraceBackend<Id> {
  return typeof (t as Partial<TraceBackend<Id>>).childOfCurrent === 'function';
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
