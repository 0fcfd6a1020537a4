import { Observable } from 'rxjs';
import { FailFastError, TimeoutError, XhttpError } from '../errors.js';
import { addressKey, type AttemptEndEvent, type AttemptStartEvent } from '../events/events.js';
import { selectAddress } from '../balancer/eligible.js';
import { decideRetry, type RetryState } from '../resilience/decide.js';
import { attempt$, type AttemptTimeouts } from '../transport/undici.js';
import type { Address, AttemptOutcome, PickContext, XResponse } from '../types.js';
import type { CallSpec } from './request.js';
import { CallResponse } from './response.js';
import type { Runtime } from './runtime.js';

/** Mutable state of one call, shared by its attempts. */
export interface CallState extends RetryState {
  readonly callId: number;
  readonly startedAt: number;
  attempts: number;
  /** Hosts tried in this call; created at the second attempt (most calls make one). */
  tried: Set<string> | undefined;
  /** Set by the call deadline just before it cuts the chain, so the attempt reports a timeout. */
  /** The first attempt's host, moved into `tried` if a second attempt comes. */
  firstKey: string | undefined;
  timedOut: boolean;
  lastStatus: number | undefined;
}

const NONE_TRIED: ReadonlySet<string> = new Set();

/** Picks an address, skipping open breakers, preferring untried hosts; passes the breaker gate. */
function pickAndGate(
  rt: Runtime,
  spec: CallSpec,
  state: CallState,
  attempt: number,
): { address: Address; breakerKey: string | undefined } {
  const candidates = spec.group.addresses;
  if (candidates.length === 0)
    throw new XhttpError('NO_ADDRESS', `group ${spec.group.name} has no address`, { attempts: attempt - 1 });
  const breakers = rt.breakers;
  const now = rt.clock.now();
  const ctx: PickContext = {
    now,
    random: rt.random,
    load: (a) => rt.loadStats.load(a, now),
    attempt,
  };
  // canAttempt has no side effects. An open breaker past its window (or half-open with no trial
  // out) may take the trial, so it is offered as half-open: reported as open, a host would never
  // rejoin while others are healthy.
  const breakerState =
    breakers && !breakers.allClosed
      ? (a: Address): 'closed' | 'open' | 'half-open' => {
          const k = breakers.key(spec.request, a);
          const s = breakers.state(k);
          if (s === 'closed') return s;
          return breakers.canAttempt(k) ? 'half-open' : 'open';
        }
      : undefined;
  let address =
    selectAddress(candidates, spec.group.balancer, ctx, breakerState, state.tried ?? NONE_TRIED) ??
    candidates[0]!;
  if (!breakers) return { address, breakerKey: undefined };
  let breakerKey = breakers.key(spec.request, address);
  if (!breakers.tryAcquire(breakerKey)) {
    const other = candidates.find((a) => a !== address && breakers.tryAcquire(breakers.key(spec.request, a)));
    if (!other) {
      rt.bus.emit({
        type: 'fail-fast',
        time: ctx.now,
        callId: state.callId,
        group: spec.group.name,
        method: spec.method,
        attempt,
      });
      // No stack trace: capturing one was most of a fail-fast's cost, and it says nothing here.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      const error = new FailFastError(`circuit breaker open for every address of ${spec.group.name}`, {
        attempts: attempt - 1,
      });
      Error.stackTraceLimit = limit;
      throw error;
    }
    address = other;
    breakerKey = breakers.key(spec.request, other);
  }
  return { address, breakerKey };
}

/** The client's phase timeouts, plus the call's per-attempt one when it has one. */
function attemptTimeouts(rt: Runtime, spec: CallSpec): AttemptTimeouts {
  const t = spec.retry?.timeoutPerAttempt;
  // No spread of rt.timeouts here: it was the single hottest line of the chain in the profile.
  if (t === undefined) return rt.timeouts;
  return { connect: rt.timeouts.connect, headers: rt.timeouts.headers, body: rt.timeouts.body, attempt: t };
}

/**
 * One attempt of a call, as a cold Observable: pick → gate → request over undici (with its
 * phase and per-attempt timers). Emits attempt-start and attempt-end; on an outcome the retry
 * policy wants retried it errors with a `RetryDecision` instead of emitting.
 */
export function callAttempt(rt: Runtime, spec: CallSpec, state: CallState): Observable<XResponse> {
  return new Observable<XResponse>((subscriber) => {
    const attempt = ++state.attempts;
    if (attempt > 1 && !state.tried)
      state.tried = new Set(state.firstKey === undefined ? [] : [state.firstKey]);
    const picked = pickAndGate(rt, spec, state, attempt);
    const address = picked.address;
    const key = addressKey(address);
    if (state.tried) state.tried.add(key);
    else state.firstKey = key;
    const breakerKey = picked.breakerKey ?? key;
    const startedAt = rt.clock.now();
    // Literal event objects, no spreads: one allocation each on the hot path.
    const startEvent: AttemptStartEvent = {
      type: 'attempt-start',
      time: startedAt,
      callId: state.callId,
      group: spec.group.name,
      method: spec.method,
      attempt,
      address,
      key,
      breakerKey,
      path: spec.path,
    };
    rt.bus.emit(startEvent);
    let headers = spec.headers;
    if (attempt > 1 || rt.attemptHeaders) {
      headers = Object.assign(Object.create(null) as Record<string, string>, headers);
      if (attempt > 1) headers['x-rxhttp-attempt'] = String(attempt);
      if (rt.attemptHeaders) Object.assign(headers, rt.attemptHeaders(startEvent));
    }
    // One shape for every outcome, no spread (a spread with extra keys costs ~1 µs on Node 20).
    const outcomeOf = (extra: Pick<AttemptOutcome, 'response' | 'error'>): AttemptOutcome =>
      ({
        attempt,
        address,
        method: spec.method,
        response: extra.response,
        error: extra.error,
        elapsedMs: rt.clock.now() - startedAt,
      }) as AttemptOutcome;
    let ended = false;
    const end = (outcome: AttemptOutcome, cancelled: boolean): void => {
      ended = true;
      const verdict = cancelled || !rt.breakers ? 'ignored' : rt.breakers.classify(outcome);
      const error = outcome.error;
      // Absent fields are undefined rather than missing: same JSON, one object shape, no spreads.
      rt.bus.emit({
        type: 'attempt-end',
        time: startedAt + outcome.elapsedMs,
        callId: state.callId,
        group: spec.group.name,
        method: spec.method,
        attempt,
        address,
        key,
        breakerKey,
        durationMs: outcome.elapsedMs,
        status: outcome.response?.status,
        errorCode: error?.code,
        timeoutPhase: error instanceof TimeoutError ? error.phase : undefined,
        cancelled,
        verdict,
      } as AttemptEndEvent);
    };
    const decide = (outcome: AttemptOutcome) =>
      decideRetry(outcome, state, {
        now: rt.clock.now(),
        random: rt.random,
        budget: rt.budget,
        emit: (e) =>
          rt.bus.emit({
            ...e,
            time: rt.clock.now(),
            callId: state.callId,
            group: spec.group.name,
            method: spec.method,
          } as never),
      });
    const inner = attempt$(
      {
        dispatcher: rt.dispatcher(spec.group, address),
        address,
        method: spec.method,
        path: spec.target,
        headers,
        body: spec.body,
        stream: spec.stream,
        maxResponseBytes: spec.maxResponseBytes,
        timeouts: attemptTimeouts(rt, spec),
      },
      rt.clock,
    ).subscribe({
      next: (raw) => {
        const outcome = outcomeOf({ response: raw });
        end(outcome, false);
        state.lastStatus = raw.status;
        const decision = decide(outcome);
        if (decision) {
          void raw.body.dump(); // a discarded response must free its connection
          subscriber.error(decision);
        } else {
          subscriber.next(new CallResponse(raw, address, attempt));
          subscriber.complete();
        }
      },
      error: (err: XhttpError) => {
        if (err.attempts === undefined) err.attempts = attempt;
        const outcome = outcomeOf({ error: err });
        end(outcome, false);
        subscriber.error(decide(outcome) ?? err);
      },
    });
    return () => {
      inner.unsubscribe();
      if (ended) return;
      if (state.timedOut)
        end(
          outcomeOf({ error: new TimeoutError('call', spec.timeout, { address, attempts: attempt }) }),
          false,
        );
      else end(outcomeOf({}), true);
    };
  });
}
