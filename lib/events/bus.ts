import { Subject, type Observable } from 'rxjs';
import type { CallEvent } from './events.js';

/**
 * The event stream of one client. `emit` is a no-op branch while nobody listens, so the hot
 * path pays one property read when no subscriber exists.
 */
export class EventBus {
  readonly #subject = new Subject<CallEvent>();
  readonly events$: Observable<CallEvent> = this.#subject.asObservable();

  /** True while anyone subscribes. */
  get observed(): boolean {
    return this.#subject.observed;
  }

  emit(event: CallEvent): void {
    if (this.#subject.observed) this.#subject.next(event);
  }

  complete(): void {
    this.#subject.complete();
  }
}
