import type { Address } from '../types.js';
import type { B3Context } from './b3.js';

/**
 * What rxhttp needs from a tracer, and nothing more. zipkin-js has had no release since 2020, so all of
 * its use sits in {@link zipkinBackend}; another tracer would be another implementation of this.
 *
 * Recording is one call per tag or annotation, each given the timestamp taken once for the span event
 * (`now()`, or `atSystemTime()` of the event's time), so a backend can hand records straight to its
 * recorder: no intermediate tag objects, no context switch per record. Callers record only for ids
 * where `recorded(id)`, so an unsampled call costs no clock reading and no record.
 */
export interface TraceBackend<Id> {
  /**
   * A new span id under the caller's current context (`parent` is that context), or a new root when
   * no context is in scope (`parent` absent). One call, so a counting sampler is consulted once.
   */
  childOfCurrent(): { readonly id: Id; readonly parent?: Id };
  newChild(parent: Id): Id;
  propagation(id: Id): B3Context;
  /** Whether spans of `id` are recorded (its sampling decision). */
  recorded(id: Id): boolean;
  /** The tracer's clock, in epoch microseconds. */
  now(): number;
  /** The tracer's clock at the moment `systemClock` read `epochMs`. */
  atSystemTime(epochMs: number): number;
  /** Starts a CLIENT span to `remote` (named by `remoteServiceName`) at `at`. */
  startClient(id: Id, name: string, remoteServiceName: string, remote: Address, at: number): void;
  /** Starts a local span (no kind) at `at`. */
  startLocal(id: Id, name: string, at: number): void;
  annotate(id: Id, value: string, at: number): void;
  tag(id: Id, key: string, value: string, at: number): void;
  /** Finishes the span at `at`; record its tags and annotations before. */
  finish(id: Id, kind: 'client' | 'local', at: number): void;
}
