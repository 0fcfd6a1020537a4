import type { AttemptStartEvent } from '../events/events.js';

/**
 * What rxhttp needs from a tracer, and nothing more. {@link Tracing} is the one tracing core; a tracer
 * is an implementation of this: {@link zipkinBackend} (zipkin-js, B3) and {@link otelBackend}
 * (`@opentelemetry/api`, the configured propagator). A client may run both at once.
 *
 * Recording is one call per tag or annotation, each given the timestamp taken once for the span event
 * (`now()`, or `atSystemTime()` of the event's time), so a backend can hand records straight to its
 * recorder: no intermediate tag objects, no context switch per record. Callers record only for ids
 * where `recorded(id)`, so an unsampled call costs no clock reading and no record.
 *
 * Tag keys and annotation values are the core's vocabulary (`http.method`, `http.path` as a route
 * template, `http.status_code`, `error`, `rxhttp.*`; annotations `name key=value …`); a backend maps
 * them to its own conventions.
 */
export interface TraceBackend<Id> {
  /**
   * A new span id under the caller's current context (`parent` is that context), or a new root when
   * no context is in scope (`parent` absent). One call, so a counting sampler is consulted once.
   */
  childOfCurrent(): { readonly id: Id; readonly parent?: Id };
  newChild(parent: Id): Id;
  /**
   * Writes the propagation headers of `id` into `headers`, or returns a fresh record of them when
   * `headers` is omitted (one literal: no copy on the common path).
   */
  inject(id: Id, headers?: Record<string, string>): Record<string, string>;
  /** The span name of a method (zipkin: lower case; OpenTelemetry: the method, or `HTTP`). */
  spanName(method: string): string;
  /**
   * Whether spans of `id` are recorded (its sampling decision). A backend that decides at span start
   * answers true for an id not started yet.
   */
  recorded(id: Id): boolean;
  /** The tracer's clock. */
  now(): number;
  /** The tracer's clock at the moment `systemClock` read `epochMs`. */
  atSystemTime(epochMs: number): number;
  /**
   * True when {@link startClient} records the attempt's method, route template, attempt number and
   * server address itself (as start attributes): the core then does not tag them on client spans.
   */
  readonly tagsAtStart?: boolean;
  /** Starts the CLIENT span of the attempt `attempt` announces (named by `remoteServiceName`) at `at`. */
  startClient(id: Id, name: string, remoteServiceName: string, attempt: AttemptStartEvent, at: number): void;
  /** Starts a local span (no kind) at `at`. */
  startLocal(id: Id, name: string, at: number): void;
  annotate(id: Id, value: string, at: number): void;
  tag(id: Id, key: string, value: string, at: number): void;
  /** Finishes the span at `at`; record its tags and annotations before. */
  finish(id: Id, kind: 'client' | 'local', at: number): void;
}
