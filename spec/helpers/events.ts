import type { AttemptEndEvent, AttemptStartEvent } from '../../lib/events/events.js';

/**
 * Synthetic call events for specs that feed a scan (tracing, metrics) without a client: the fields
 * every event of a call shares, an attempt-start, and its attempt-end with the result given.
 */
export function eventFixtures(group: string, defaultPath: string) {
  const scoped = (callId: number, method = 'GET') => ({ time: 0, callId, group, method });

  function attemptStart(
    callId: number,
    attempt: number,
    host = '127.0.0.1',
    port = 8080,
    path = defaultPath,
  ): AttemptStartEvent {
    return {
      ...scoped(callId),
      type: 'attempt-start',
      attempt,
      address: { host, port },
      key: `${host}:${port}`,
      breakerKey: `${host}:${port}`,
      path,
    };
  }

  function attemptEnd(start: AttemptStartEvent, result: Partial<AttemptEndEvent>): AttemptEndEvent {
    return {
      ...scoped(start.callId),
      type: 'attempt-end',
      attempt: start.attempt,
      address: start.address,
      key: start.key,
      breakerKey: start.breakerKey,
      durationMs: 5,
      cancelled: false,
      verdict: 'success',
      ...result,
    };
  }

  return { scoped, attemptStart, attemptEnd };
}
