import { Observable, Subscription, type Subscriber } from 'rxjs';
import type { CallEvent } from './events.js';

type Listener = (event: CallEvent) => void;

/**
 * The event stream of one client: an Observable whose subscribers are kept as plain listeners, and
 * a `listen` fast path that the client's own scans (breakers, load, budget, metrics, tracing) use.
 *
 * Why not a Subject: a Subject's `next` wraps every emission in an error-context closure and then
 * goes through a Subscriber and a ConsumerObserver per subscriber; with four events a call and five
 * internal scans that fan-out was a visible share of the hot path. Listeners here are called in
 * subscription order from a copy-on-write array, each inside its own try/catch, so one listener that
 * throws cannot break a call or starve the others (the error is reported as RxJS reports one).
 */
export class EventStream extends Observable<CallEvent> {
  #listeners: readonly Listener[] = [];
  #subscribers = new Set<Subscriber<CallEvent>>();
  #completed = false;

  constructor() {
    super((subscriber) => {
      if (this.#completed) {
        subscriber.complete();
        return undefined;
      }
      this.#subscribers.add(subscriber);
      const sub = this.listen((e) => subscriber.next(e));
      sub.add(() => this.#subscribers.delete(subscriber));
      return sub;
    });
  }

  /** True while anyone listens. */
  get observed(): boolean {
    return this.#listeners.length > 0;
  }

  /** Calls `fn` with every event until the returned Subscription is unsubscribed. */
  listen(fn: Listener): Subscription {
    if (this.#completed) return Subscription.EMPTY;
    this.#listeners = [...this.#listeners, fn];
    return new Subscription(() => {
      this.#listeners = this.#listeners.filter((l) => l !== fn);
    });
  }

  /** @internal */
  emit(event: CallEvent): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        reportLater(error);
      }
    }
  }

  /** @internal */
  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#listeners = [];
    const subscribers = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of subscribers) s.complete();
  }
}

/** As RxJS reports an error thrown by a subscriber: later, out of the emitter's stack. */
function reportLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}

/**
 * Subscribes `fn` to a client's events: through the listener fast path when `events$` is an
 * {@link EventStream}, through `subscribe` for any other Observable (specs feed Subjects).
 */
export function onEvents(events$: Observable<CallEvent>, fn: Listener): Subscription {
  return events$ instanceof EventStream ? events$.listen(fn) : events$.subscribe(fn);
}

/**
 * The event bus of one client. `emit` is a no-op loop while nobody listens, so the hot path pays
 * almost nothing when no subscriber exists.
 */
export class EventBus {
  readonly #stream = new EventStream();
  readonly events$: Observable<CallEvent> = this.#stream;

  /** True while anyone subscribes. */
  get observed(): boolean {
    return this.#stream.observed;
  }

  emit(event: CallEvent): void {
    this.#stream.emit(event);
  }

  complete(): void {
    this.#stream.complete();
  }
}
