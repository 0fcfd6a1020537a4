import type { ServerResponse } from 'node:http';
import {
  asyncScheduler,
  endWith,
  finalize,
  ignoreElements,
  interval,
  map,
  merge,
  type Observable,
  share,
  takeUntil,
  throttleTime,
} from 'rxjs';

/** Timing of one Server-Sent-Events stream. */
export interface SseTiming {
  /** Least time between two data messages, ms (the first is sent at once). */
  readonly updateIntervalMs: number;
  /** A comment line is sent this often, so proxies and the browser keep the stream open, ms. */
  readonly heartbeatMs: number;
}

/** Live counts of a server's streams, for leak checks in specs. */
export interface SseCounters {
  /** Responses open as event streams. */
  streams: number;
  /** Subscriptions to the data source held by those streams. */
  subscriptions: number;
}

/** Browser reconnect delay sent with every stream, ms. */
const RETRY_MS = 2_000;

/**
 * Turns `res` into an event stream of `data$`: each value is sent as one JSON `data:` message,
 * the first at once and then at most one per {@link SseTiming.updateIntervalMs} (the latest wins);
 * a comment every {@link SseTiming.heartbeatMs}. The subscription to `data$` ends when the
 * browser goes (the response closes), when `data$` completes, or when the returned function is
 * called (server shutdown).
 *
 * A slow reader does not pile up memory: while the socket buffer is full, updates are dropped; the
 * next one carries the whole state anyway.
 */
export function sendEvents(
  res: ServerResponse,
  data$: Observable<unknown>,
  timing: SseTiming,
  counters: SseCounters,
): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n\n`);
  counters.streams++;
  counters.subscriptions++;
  const shared$ = data$.pipe(share());
  const subscription = merge(
    shared$.pipe(
      throttleTime(timing.updateIntervalMs, asyncScheduler, { leading: true, trailing: true }),
      // JSON.stringify escapes line breaks, so a message is always one `data:` line.
      map((v) => `data: ${JSON.stringify(v)}\n\n`),
    ),
    interval(timing.heartbeatMs).pipe(
      map(() => ': heartbeat\n\n'),
      takeUntil(shared$.pipe(ignoreElements(), endWith(0))),
    ),
  )
    .pipe(finalize(() => counters.subscriptions--))
    .subscribe({
      next: (chunk) => {
        if (!res.writableNeedDrain) res.write(chunk);
      },
      error: () => res.end(),
      complete: () => res.end(),
    });
  let closed = false;
  const end = (): void => {
    if (closed) return;
    closed = true;
    counters.streams--;
    subscription.unsubscribe();
    if (!res.writableEnded) res.end();
  };
  res.once('close', end);
  return end;
}
