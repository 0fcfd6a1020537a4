import { map, merge, Observable, take, type Subscription, type Unsubscribable } from 'rxjs';
import type { Dispatcher } from 'undici';
import { selectAddress } from '../balancer/eligible.js';
import type { LoadStats } from '../balancer/load-stats.js';
import { KEY_FIELD, type CircuitBreakers } from '../breaker/breakers.js';
import { attachTimeline, FailFastError, TimeoutError, XhttpError } from '../errors.js';
import {
  addressKey,
  type AttemptEndEvent,
  type AttemptStartEvent,
  type CallEndEvent,
  type CallEvent,
} from '../events/events.js';
import { deadlineHeaderValue } from '../resilience/deadline.js';
import { decideRetry, type DecideContext, type RetryState } from '../resilience/decide.js';
import type { RetryDecision } from '../resilience/retry.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { ResolvedRetry } from '../resilience/retry-policy.js';
import { callbackFailed, RESOLVE_FIELD } from '../internal/callback.js';
import { clearTimer, startTimer, type TimerHandle } from '../internal/clock.js';
import {
  BUFFERED,
  Exchange,
  STREAM,
  STREAM_UNTIMED,
  type AttemptTimeouts,
  type ExchangeOwner,
  type RawResponse,
} from '../transport/undici.js';
import type { Address, AttemptOutcome, GroupLike, HostLoad, PickContext, XResponse } from '../types.js';
import { NO_HEADERS } from './config.js';
import type { LiveCall } from './live-calls.js';
import type { CallSpec } from './request.js';
import { fastestCandidateMs } from './deadline.js';
import { CallResponse } from './response.js';
import type { Runtime } from './runtime.js';
import { CallLog } from './timeline.js';
import type { Bulkhead, BulkheadWaiter } from './bulkhead.js';

/** Where a call delivers its one result: an RxJS Subscriber, or a Promise's resolve/reject. */
export interface CallSink {
  next(response: XResponse): void;
  error(error: XhttpError): void;
  complete(): void;
}

/**
 * The pick context of one client, reused by every pick: `pick()` is synchronous, so the fields are
 * set just before it and a balancer must not keep the object. One allocation per client, not per call.
 */
export class SharedPickContext implements PickContext {
  now = 0;
  attempt = 1;

  constructor(
    readonly random: () => number,
    readonly loadStats: LoadStats,
  ) {}

  load(address: Address): HostLoad {
    return this.loadStats.load(address, this.now);
  }
}

const NONE_TRIED: ReadonlySet<string> = new Set();

/**
 * Waits for a group's first resolution; a resolver failure before it means `NO_ADDRESS`, or the
 * resolver's own callback error when its `resolve` threw (a bug to name, not an outage).
 */
function addressesReady(
  group: GroupLike & { failures$?: Observable<number>; lastFailure?: unknown },
): Observable<unknown> {
  const first = group.addresses$.pipe(take(1));
  if (!group.failures$) return first;
  const failed = group.failures$.pipe(
    take(1),
    map(() => {
      const last = group.lastFailure;
      if (last instanceof XhttpError && last.field === RESOLVE_FIELD)
        throw callbackFailed(RESOLVE_FIELD, last.cause);
      throw new XhttpError('NO_ADDRESS', `group ${group.name} did not resolve`);
    }),
  );
  return merge(first, failed).pipe(take(1));
}

/** The client's phase timeouts, plus the call's per-attempt one when it has one. */
function attemptTimeouts(rt: Runtime, spec: CallSpec): AttemptTimeouts {
  const t = spec.retry?.timeoutPerAttempt;
  // No spread of rt.timeouts here: it was the single hottest line of the chain in the profile.
  if (t === undefined) return rt.timeouts;
  return { connect: rt.timeouts.connect, headers: rt.timeouts.headers, body: rt.timeouts.body, attempt: t };
}

/**
 * One call, as the design card reads:
 *
 *   {@link Call.start} (call deadline, signal, wait for addresses)
 *   → {@link Call.attempt}: pick → breaker gate → request over undici (phase and per-attempt timers)
 *   → outcome → retry as decided ({@link decideRetry}: policy, back-off, deadline, budget) or settle.
 *
 * One object per call holds what a chain of operators would keep in closures: measured on Node 20,
 * the closures, Subscribers and per-attempt Observables of the operator version cost more than the
 * transport itself. Every attempt still emits attempt-start and attempt-end on the event stream,
 * and `call$` / the Promise methods wrap it, cold: nothing happens before {@link Call.start}.
 *
 * Cancellation is one thing whatever its cause — unsubscribe, the caller's `signal`, or
 * `client.close()`: the attempt in flight ends `cancelled` (verdict `ignored`) and the call ends
 * with outcome `cancelled`, so breakers, load statistics, health, metrics and spans count it as
 * neither success nor failure. A signal or `close()` still rejects the caller with `ABORTED`.
 *
 * A user callback that throws (`retryOn`, `isFailure`, the breaker `key`, a balancer's `pick`)
 * fails the call at once with `INVALID_ARGUMENT` naming it; it never escapes into undici or a timer.
 */
export class Call
  implements ExchangeOwner, RetryState, DecideContext, Unsubscribable, LiveCall, BulkheadWaiter
{
  readonly callId: number;
  readonly startedAt: number;
  readonly deadlineAt: number;
  readonly retry: ResolvedRetry | undefined;
  readonly group: GroupLike;
  readonly random: () => number;
  readonly budget: RetryBudget | undefined;
  previousDelay: number;
  transparentUsed = false;
  readonly once: RetryState['once'];
  /** The time of the outcome being decided on (DecideContext). */
  now = 0;

  attempts = 0;
  /** @internal Links on the client's list of live calls (see LiveCalls). */
  prevLive: LiveCall | undefined = undefined;
  /** @internal */
  nextLive: LiveCall | undefined = undefined;
  /** The first attempt's host; moved into `tried` if a second attempt comes (most calls make one). */
  #firstKey: string | undefined;
  #tried: Set<string> | undefined;
  #settled = false;
  #timedOut = false;
  #waiting: Subscription | undefined;
  #deadlineTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #onAbort: (() => void) | undefined;
  // The attempt in flight.
  #exchange: Exchange | undefined;
  /** Between an attempt's start event and its end event (its exchange may not exist yet). */
  #inAttempt = false;
  #address: Address | undefined;
  #key = '';
  #breakerKey = '';
  /** The breaker key of the host the balancer picked and its breaker refused (this attempt moved on). */
  #breakerSkipped: string | undefined = undefined;
  #attemptStartedAt = 0;
  /** The attempt whose end time `now` holds (-1: none yet; a call can settle with 0 attempts). */
  #endedAt = -1;
  /** What a user callback threw while this attempt's outcome was judged: the call fails with it. */
  #thrown: XhttpError | undefined;
  /**
   * A streamed response handed to the caller whose body has not ended: the attempt and the call
   * last until it does (see {@link Call.onExchangeBodyEnd}).
   */
  #streamed: RawResponse | undefined;
  #headersMs: number | undefined;
  /** Retry events decided at a stream's headers, emitted after its attempt-end as for any attempt. */
  #held: CallEvent[] | undefined;
  /** The events this call emitted, by reference: its timeline, folded only if someone reads it. */
  readonly #log: CallLog;
  /** The group's bulkhead, when it has one: a slot held (`#slot`) or a place in its queue. */
  #bulkhead: Bulkhead | undefined;
  #slot = false;

  constructor(
    readonly rt: Runtime,
    readonly spec: CallSpec,
    readonly sink: CallSink,
  ) {
    this.callId = rt.nextCallId();
    this.startedAt = rt.clock.now();
    // A redirect hop keeps the deadline of the chain's first call.
    this.deadlineAt = spec.deadlineAt ?? this.startedAt + spec.timeout;
    this.retry = spec.retry;
    this.group = spec.group;
    this.random = rt.random;
    this.budget = rt.budget;
    this.previousDelay = spec.retry?.backoff.initialDelay ?? 0;
    this.once = spec.once;
    this.#log = new CallLog(spec.timeout);
  }

  /** Every event of this call goes out here: onto the bus, and into the call's log. */
  #emit(e: CallEvent): void {
    this.#log.record(e);
    this.rt.bus.emit(e);
  }

  /** Starts the call: deadline, signal, then the first attempt (at once, or once addresses come). */
  start(): void {
    const spec = this.spec;
    this.#emit({
      type: 'call-start',
      time: this.startedAt,
      callId: this.callId,
      group: spec.group.name,
      method: spec.method,
      path: spec.path,
    });
    const calls = this.rt.calls;
    // A redirect's next hop (or any call) starting once close() has begun sends nothing.
    if (calls.closed) {
      this.#fail(clientClosed(0), 'cancelled');
      return;
    }
    // An incoming deadline (rxhttp/nest) that had already passed when the call was made: nothing is sent.
    if (!(spec.timeout > 0)) {
      this.#fail(new TimeoutError('call', 0, { attempts: 0 }));
      return;
    }
    const signal = spec.signal;
    if (signal?.aborted) {
      this.#fail(new XhttpError('ABORTED', 'request aborted by signal'), 'cancelled');
      return;
    }
    calls.add(this);
    if (signal) {
      this.#onAbort = () => {
        this.#stopWork();
        const error = new XhttpError('ABORTED', 'request aborted by signal', { attempts: this.attempts });
        this.#fail(error, 'cancelled');
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    // A redirect hop that starts with its chain's deadline gone sends nothing.
    if (this.deadlineAt <= this.startedAt) {
      this.onDeadline();
      return;
    }
    const bulkheads = this.rt.bulkheads;
    const bulkhead = bulkheads.size === 0 ? undefined : bulkheads.get(spec.group);
    if (bulkhead !== undefined) {
      this.#bulkhead = bulkhead;
      if (bulkhead.tryAcquire()) this.#slot = true;
      else if (bulkhead.enqueue(this)) {
        // Waits for a slot within its deadline; the deadline timer is the one the address wait uses.
        this.#deadlineTimer = startTimer(this.rt.clock, onCallDeadline, this.deadlineAt - this.startedAt, this);
        return;
      } else {
        this.#fail(overloaded(spec.group.name, bulkhead));
        return;
      }
    }
    this.#begin(this.startedAt);
  }

  /** Bulkhead: a slot came free for this queued call. */
  onBulkheadSlot(): void {
    if (this.#settled) {
      this.#bulkhead!.release();
      return;
    }
    this.#slot = true;
    this.#begin(this.rt.clock.now());
  }

  /** The first attempt, at once or once the group has addresses; `now` the time just read. */
  #begin(now: number): void {
    const spec = this.spec;
    // While an attempt is in flight its exchange watches the deadline (one timer, not two), and a
    // retry is never scheduled past it (decideRetry): the call arms its own timer only to wait for
    // addresses.
    if (spec.group.addresses.length > 0) {
      this.attempt(now);
      return;
    }
    // A call that waited in its bulkhead's queue has its deadline timer already.
    this.#deadlineTimer ??= startTimer(this.rt.clock, onCallDeadline, this.deadlineAt - now, this);
    const waiting = addressesReady(spec.group).subscribe({
      next: () => {
        this.#waiting = undefined;
        if (!this.#settled) this.attempt(this.rt.clock.now());
      },
      error: (error: unknown) => this.#fail(asXhttpError(error)),
    });
    // A synchronous first value has already started the attempt and cleared the field.
    if (!waiting.closed) this.#waiting = waiting;
  }

  /** Unsubscribe: aborts the attempt in flight (its end event says cancelled), then ends the call. */
  unsubscribe(): void {
    // The Observable's teardown after a streamed response: the body, not the subscription, owns it now.
    if (this.#streamed !== undefined) return;
    this.#stopWork();
    this.#finish('cancelled', undefined, undefined);
  }

  /** LiveCall: `client.close()` has begun. Whatever runs stops; the caller gets `ABORTED`. */
  closeByClient(): void {
    this.#stopWork();
    this.#fail(clientClosed(this.attempts), 'cancelled');
  }

  /** One attempt: pick → gate → request. `now`: the time the caller has just read. */
  attempt(now: number): void {
    const rt = this.rt;
    const spec = this.spec;
    const attempt = ++this.attempts;
    if (attempt > 1 && this.#tried === undefined)
      this.#tried = new Set(this.#firstKey === undefined ? [] : [this.#firstKey]);
    const candidates = spec.group.addresses;
    if (candidates.length === 0) {
      this.#fail(
        new XhttpError('NO_ADDRESS', `group ${spec.group.name} has no address`, { attempts: attempt - 1 }),
      );
      return;
    }
    const breakers = rt.breakers;
    // Every breaker of the group was seen rejecting and none has changed since: fail fast in O(1).
    if (breakers !== undefined && !breakers.allClosed && breakers.allRejecting(candidates, now)) {
      this.#fail(this.#failFast(attempt, now));
      return;
    }
    let address: Address;
    let admitted: boolean;
    try {
      address = this.#pick(candidates, attempt, now);
      admitted = breakers === undefined || this.#gate(breakers, address, candidates);
    } catch (error) {
      // A user balancer or breaker key that throws: the call fails now, naming it.
      this.#fail(pickFailed(error, attempt - 1));
      return;
    }
    if (!admitted) {
      breakers!.noteAllRejecting(spec.request, candidates, now);
      this.#fail(this.#failFast(attempt, now));
      return;
    }
    address = this.#address!;
    const key = addressKey(address);
    if (this.#tried) this.#tried.add(key);
    else this.#firstKey = key;
    this.#key = key;
    this.#attemptStartedAt = now;
    // Literal event objects, no spreads: one allocation each on the hot path.
    const startEvent: AttemptStartEvent = {
      type: 'attempt-start',
      time: now,
      callId: this.callId,
      group: spec.group.name,
      method: spec.method,
      attempt,
      address,
      key,
      breakerKey: this.#breakerKey || key,
      path: spec.path,
      scheme: spec.group.protocol,
      breakerSkipped: this.#breakerSkipped,
    };
    this.#inAttempt = true;
    this.#emit(startEvent);
    // An events$ listener may have ended the call from inside that emit (unsubscribe, close()),
    // which ended the attempt it announced as cancelled: send nothing.
    if (this.#settled) return;
    let headers = spec.headers;
    const deadlineHeader = rt.deadlineHeader;
    if (attempt === 1 && headers === NO_HEADERS) {
      // A first attempt without headers of its own sends a fresh literal (the tracing headers, the
      // time left) or the shared empty record: no copy, no dictionary-mode record for undici to walk.
      if (rt.attemptHeaders) {
        headers = rt.attemptHeaders(startEvent);
        if (deadlineHeader !== undefined) headers[deadlineHeader] = deadlineHeaderValue(this.deadlineAt, now);
      } else if (deadlineHeader !== undefined) {
        headers = { [deadlineHeader]: deadlineHeaderValue(this.deadlineAt, now) };
      }
    } else if (attempt > 1 || rt.attemptHeaders || deadlineHeader !== undefined) {
      headers = Object.assign(Object.create(null) as Record<string, string>, headers);
      if (attempt > 1) headers['x-rxhttp-attempt'] = String(attempt);
      if (rt.attemptHeaders) Object.assign(headers, rt.attemptHeaders(startEvent));
      if (deadlineHeader !== undefined) headers[deadlineHeader] = deadlineHeaderValue(this.deadlineAt, now);
    }
    const exchange = new Exchange(
      this,
      address,
      attemptTimeouts(rt, spec),
      spec.stream ? (spec.deadlineCoversBody ? STREAM : STREAM_UNTIMED) : BUFFERED,
      spec.maxResponseBytes,
      rt.clock,
      now,
      this.deadlineAt,
      spec.decompress,
    );
    this.#exchange = exchange;
    const opts: Dispatcher.DispatchOptions = {
      path: spec.target,
      method: spec.method,
      headers,
      // undici takes Blob, FormData and async iterables too, beyond what its types list.
      body: spec.body as string | null,
    };
    exchange.send(rt.dispatcher(spec.group, address), opts);
  }

  /** Picks an address, skipping open breakers, preferring hosts not tried in this call. */
  #pick(candidates: readonly Address[], attempt: number, now: number): Address {
    const spec = this.spec;
    const breakers = this.rt.breakers;
    this.#breakerKey = '';
    this.#breakerSkipped = undefined;
    // canAttempt has no side effects. An open breaker past its window (or half-open with no trial
    // out) may take the trial, so it is offered as half-open: reported as open, a host would never
    // rejoin while others are healthy.
    // Hosts failing their active health checks are left out by the group's host policy (in
    // selectAddress), which also applies the panic threshold to them.
    const breakerState =
      breakers !== undefined && !breakers.allClosed
        ? (a: Address): 'closed' | 'open' | 'half-open' => {
            const k = breakers.key(spec.request, a);
            const s = breakers.state(k);
            if (s === 'closed') return s;
            return breakers.canAttempt(k) ? 'half-open' : 'open';
          }
        : undefined;
    const ctx = this.rt.pickContext;
    ctx.now = now;
    ctx.attempt = attempt;
    const picked =
      selectAddress(
        candidates,
        spec.group.balancer,
        ctx,
        breakerState,
        this.#tried ?? NONE_TRIED,
        spec.group.hostPolicy,
      ) ?? candidates[0]!;
    this.#address = picked;
    return picked;
  }

  /**
   * The breaker gate: admits the picked host if its breaker does, else moves to any host whose
   * breaker admits; false when none does (fail fast).
   */
  #gate(breakers: CircuitBreakers, picked: Address, candidates: readonly Address[]): boolean {
    const req = this.spec.request;
    const key = breakers.key(req, picked);
    this.#breakerKey = key;
    if (breakers.tryAcquire(key)) return true;
    for (const other of candidates) {
      if (other === picked) continue;
      const k = breakers.key(req, other);
      if (breakers.tryAcquire(k)) {
        this.#breakerSkipped = key;
        this.#address = other;
        this.#breakerKey = k;
        return true;
      }
    }
    return false;
  }

  /** The fail-fast event and error: every breaker of the group rejects. */
  #failFast(attempt: number, now: number): FailFastError {
    const spec = this.spec;
    this.#emit({
      type: 'fail-fast',
      time: now,
      callId: this.callId,
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
    return error;
  }

  /** ExchangeOwner: the attempt got a response (any status). */
  onExchangeResponse(raw: RawResponse): void {
    if (this.spec.stream) {
      this.#onStreamHeaders(raw);
      return;
    }
    const outcome = this.#endAttempt(raw, undefined, false);
    const decision = this.#decide(outcome);
    if (decision) {
      void raw.body.dump(); // a discarded response must free its connection
      this.#retryAfter(decision);
      return;
    }
    if (this.#settled) return;
    if (this.#thrown !== undefined) {
      void raw.body.dump();
      this.#fail(this.#thrown);
      return;
    }
    this.#finish('ok', raw.status, undefined);
    this.sink.next(new CallResponse(raw, outcome.address, outcome.attempt, this.#log));
    this.sink.complete();
  }

  /**
   * A streamed response at headers: retried as any response would be, else handed to the caller
   * while its attempt stays open, to end with the body ({@link Call.onExchangeBodyEnd}).
   */
  #onStreamHeaders(raw: RawResponse): void {
    const exchange = this.#exchange;
    const outcome = this.#outcome(raw, undefined);
    this.#held = [];
    const decision = this.#decide(outcome);
    const held = this.#held;
    this.#held = undefined;
    if (decision !== undefined || this.#settled || exchange === undefined) {
      this.#exchange = undefined;
      this.#emitEnd(outcome, false);
      for (const e of held) this.#emit(e);
      void raw.body.dump(); // a discarded response must free its connection
      if (decision) this.#retryAfter(decision);
      return;
    }
    this.#streamed = raw;
    this.#headersMs = outcome.elapsedMs;
    if (held.length > 0) this.#held = held;
    this.sink.next(new CallResponse(raw, outcome.address, outcome.attempt, this.#log));
    this.sink.complete();
  }

  /**
   * ExchangeOwner: the streamed body ended on the wire — complete, stopped by its reader, or failed
   * (reset, body-idle timeout, `RESPONSE_TOO_LARGE`). That is the attempt's outcome, and the call's.
   */
  onExchangeBodyEnd(error: XhttpError | undefined): void {
    const response = this.#streamed;
    if (response === undefined) return;
    if (error !== undefined && error.attempts === undefined) error.attempts = this.attempts;
    this.#endStream(response, error, false);
    this.#finish(error === undefined ? 'ok' : 'error', response.status, error);
  }

  /** The attempt of a streamed body ends: its attempt-end, then the retry events held at headers. */
  #endStream(response: RawResponse, error: XhttpError | undefined, cancelled: boolean): void {
    this.#streamed = undefined;
    this.#endAttempt(response, error, cancelled);
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const e of held) this.#emit(e);
  }

  /** ExchangeOwner: the attempt failed (transport error, phase or per-attempt timeout). */
  onExchangeError(error: XhttpError): void {
    const attempt = this.attempts;
    if (error.attempts === undefined) error.attempts = attempt;
    // ABORTED from the transport is a pool closed or destroyed under the attempt: the client is
    // closing. A cancellation, like any other, not a failure of the host.
    if (error.code === 'ABORTED') {
      this.#endAttempt(undefined, undefined, true);
      this.#fail(error, 'cancelled');
      return;
    }
    const outcome = this.#endAttempt(undefined, error, false);
    const decision = this.#decide(outcome);
    if (decision) this.#retryAfter(decision);
    else this.#fail(this.#thrown ?? error);
  }

  /** Ends the attempt in flight: its outcome, and the attempt-end event every scan counts on. */
  #endAttempt(
    response: RawResponse | undefined,
    error: XhttpError | undefined,
    cancelled: boolean,
  ): AttemptOutcome {
    this.#exchange = undefined;
    const outcome = this.#outcome(response, error);
    this.#emitEnd(outcome, cancelled);
    return outcome;
  }

  /** The outcome of the attempt in flight, as of now (which it sets). */
  #outcome(response: RawResponse | undefined, error: XhttpError | undefined): AttemptOutcome {
    const now = this.rt.clock.now();
    this.now = now;
    this.#endedAt = this.attempts;
    const elapsedMs = now - this.#attemptStartedAt;
    const address = this.#address!;
    const attempt = this.attempts;
    // One shape for every outcome, no spread (a spread with extra keys costs ~1 µs on Node 20).
    const outcome: AttemptOutcome = {
      attempt,
      address,
      method: this.spec.method,
      response,
      error,
      elapsedMs,
    };
    return outcome;
  }

  /** The attempt-end event of `outcome`, with the breaker's verdict. */
  #emitEnd(outcome: AttemptOutcome, cancelled: boolean): void {
    const rt = this.rt;
    const spec = this.spec;
    const { attempt, address, response, error } = outcome;
    this.#inAttempt = false;
    let verdict: AttemptEndEvent['verdict'] = 'ignored';
    if (!cancelled && rt.breakers !== undefined) {
      // A throwing isFailure leaves the verdict `ignored` and fails the call once the event is out.
      try {
        verdict = rt.breakers.classify(outcome);
      } catch (thrown) {
        this.#thrown = asXhttpError(thrown);
      }
    }
    // Absent fields are undefined rather than missing: same JSON, one object shape, no spreads.
    const end: AttemptEndEvent = {
      type: 'attempt-end',
      time: this.now,
      callId: this.callId,
      group: spec.group.name,
      method: spec.method,
      attempt,
      address,
      key: this.#key,
      breakerKey: this.#breakerKey || this.#key,
      durationMs: outcome.elapsedMs,
      status: response?.status,
      errorCode: error?.code,
      timeoutPhase: error instanceof TimeoutError ? error.phase : undefined,
      cancelled,
      verdict,
      scheme: spec.group.protocol,
      headersMs: this.#headersMs,
    };
    this.#emit(end);
  }

  #decide(outcome: AttemptOutcome): RetryDecision | undefined {
    if (this.#settled || this.#thrown !== undefined) return undefined;
    // Nothing to decide without a retry policy unless a connect failure may retry transparently.
    if (this.retry === undefined && outcome.error === undefined) return undefined;
    try {
      return decideRetry(outcome, this, this);
    } catch (thrown) {
      this.#thrown = asXhttpError(thrown); // a user retryOn that throws
      return undefined;
    }
  }

  /** DecideContext: retry-scheduled and retry-refused events, with this call's fields. */
  emit(e: Parameters<DecideContext['emit']>[0]): void {
    const spec = this.spec;
    const event = {
      ...e,
      time: this.now,
      callId: this.callId,
      group: spec.group.name,
      method: spec.method,
    } as CallEvent;
    if (this.#held !== undefined) this.#held.push(event);
    else this.#emit(event);
  }

  /**
   * DecideContext: the recent latency of the fastest host a retry could go to (those not tried yet,
   * when there are any), as the balancer's statistics have it; 0 when one of them is unmeasured.
   */
  expectedAttemptMs(): number {
    const tried = this.#tried;
    const first = this.#firstKey;
    return fastestCandidateMs(
      this.spec.group.addresses,
      tried !== undefined ? (k) => tried.has(k) : (k) => k === first,
      this.rt.loadStats,
      this.now,
    );
  }

  #retryAfter(decision: RetryDecision): void {
    this.#retryTimer = startTimer(this.rt.clock, onRetryTimer, decision.delayMs, this);
  }

  /** The back-off is over: the next attempt, unless the call ended meanwhile. */
  onRetryTimer(): void {
    this.#retryTimer = undefined;
    if (this.#settled) return;
    const now = this.rt.clock.now();
    // A late timer (a busy event loop) may fire past the deadline: end the call, do not start an attempt.
    if (now >= this.deadlineAt) this.onDeadline();
    else this.attempt(now);
  }

  /** ExchangeOwner: the call deadline came during the attempt (its exchange watches it). */
  onExchangeDeadline(): void {
    this.onDeadline();
  }

  // Node starts a timer at the event loop's cached time, so after a long synchronous stretch it
  // can fire early by wall clock: check against the clock and wait out the rest if so.
  onDeadline(): void {
    this.#deadlineTimer = undefined;
    if (this.#settled) return;
    const left = this.deadlineAt - this.rt.clock.now();
    if (left >= 1) {
      this.#deadlineTimer = startTimer(this.rt.clock, onCallDeadline, left, this);
      return;
    }
    const waiting = this.#waiting !== undefined;
    this.#timedOut = true;
    this.#stopWork();
    this.#fail(
      waiting
        ? new XhttpError(
            'NO_ADDRESS',
            `group ${this.spec.group.name} has no address within ${this.spec.timeout} ms`,
          )
        : new TimeoutError('call', this.spec.timeout, { attempts: this.attempts }),
    );
  }

  /** Stops whatever runs: the wait for addresses, a back-off timer, the attempt in flight. */
  #stopWork(): void {
    if (this.#waiting) {
      this.#waiting.unsubscribe();
      this.#waiting = undefined;
    }
    if (this.#retryTimer !== undefined) {
      clearTimer(this.rt.clock, this.#retryTimer);
      this.#retryTimer = undefined;
    }
    const exchange = this.#exchange;
    const timeout = this.#timedOut
      ? new TimeoutError('call', this.spec.timeout, { address: this.#address!, attempts: this.attempts })
      : undefined;
    // A streamed body's reader sees the same error as the attempt-end.
    if (exchange !== undefined) exchange.cancel(timeout);
    // Between the attempt-start event and its exchange there is no exchange, but an attempt to end.
    if (!this.#inAttempt) return;
    const streamed = this.#streamed;
    if (streamed !== undefined) this.#endStream(streamed, timeout, timeout === undefined);
    else this.#endAttempt(undefined, timeout, timeout === undefined);
  }

  /** Ends the call with `error`: a failure, or (`cancelled`) a cancellation the caller still sees. */
  #fail(error: XhttpError, outcome: 'error' | 'cancelled' = 'error'): void {
    if (this.#settled) return;
    if (error.attempts === undefined) error.attempts = this.attempts;
    const delivered = this.#headersMs !== undefined; // a streamed response was emitted already
    this.#finish(outcome, undefined, error);
    if (!delivered) this.sink.error(error);
  }

  #finish(
    outcome: 'ok' | 'error' | 'cancelled',
    status: number | undefined,
    error: XhttpError | undefined,
  ): void {
    if (this.#settled) return;
    this.#settled = true;
    this.rt.calls.remove(this);
    if (this.#deadlineTimer !== undefined) {
      clearTimer(this.rt.clock, this.#deadlineTimer);
      this.#deadlineTimer = undefined;
    }
    if (this.#onAbort) this.spec.signal!.removeEventListener('abort', this.#onAbort);
    const bulkhead = this.#bulkhead;
    if (bulkhead !== undefined) {
      // Free the slot, or the place in the queue (cancelled or timed out while waiting).
      if (this.#slot) {
        this.#slot = false;
        bulkhead.release();
      } else bulkhead.dequeue(this);
    }
    // Settling right after an attempt ended (the common case) reuses that attempt's end time.
    const now = this.#endedAt === this.attempts ? this.now : this.rt.clock.now();
    const end: CallEndEvent = {
      type: 'call-end',
      time: now,
      callId: this.callId,
      group: this.spec.group.name,
      method: this.spec.method,
      durationMs: now - this.startedAt,
      attempts: this.attempts,
      status,
      errorCode: error?.code,
      outcome,
    };
    this.#emit(end);
    if (error !== undefined) attachTimeline(error, this.#log);
  }
}

/** Timer callbacks: plain functions given the call, so arming a timer allocates no closure. */
function onCallDeadline(call: Call): void {
  call.onDeadline();
}

function onRetryTimer(call: Call): void {
  call.onRetryTimer();
}

function asXhttpError(error: unknown): XhttpError {
  return error instanceof XhttpError
    ? error
    : new XhttpError('PROTOCOL', 'unexpected failure', { cause: error });
}

/** What the pick threw: the breaker key's own error, else the balancer's `pick` named as the culprit. */
function pickFailed(error: unknown, attempts: number): XhttpError {
  const e =
    error instanceof XhttpError && error.field === KEY_FIELD
      ? error
      : callbackFailed('loadBalancer.pick', error);
  e.attempts = attempts;
  return e;
}

/** The error of a call its group's bulkhead turned away: every slot busy, the queue full. */
function overloaded(group: string, b: Bulkhead): XhttpError {
  return new XhttpError(
    'OVERLOADED',
    `group ${group} is at maxConcurrentCalls (${b.maxConcurrentCalls}) with maxQueued (${b.maxQueued}) waiting`,
    { attempts: 0 },
  );
}

/** The error of a call that `client.close()` ended. */
function clientClosed(attempts: number): XhttpError {
  return new XhttpError('ABORTED', 'client closed', { attempts });
}

/** Starts a call that reports to `sink`; the returned call cancels it on `unsubscribe()`. */
export function startCall(rt: Runtime, spec: CallSpec, sink: CallSink): Call {
  const call = new Call(rt, spec, sink);
  call.start();
  return call;
}

/** One call as a cold Observable: nothing happens before subscribe; unsubscribing aborts the attempt in flight. */
export function call$(rt: Runtime, spec: CallSpec): Observable<XResponse> {
  return new Observable<XResponse>((subscriber) => startCall(rt, spec, subscriber));
}

/** One call as a Promise: the same {@link Call}, without an Observable around it. */
export function callPromise(rt: Runtime, spec: CallSpec): Promise<XResponse> {
  return new Promise<XResponse>((resolve, reject) => {
    let starting = true;
    const error = (e: XhttpError): void => {
      // A call that fails inside start() (fail fast, no address) would reject before the caller
      // could attach a handler, and Node's unhandled-rejection tracking then costs more than the
      // whole fail fast: reject a microtask later instead.
      if (starting) queueMicrotask(() => reject(e));
      else reject(e);
    };
    new Call(rt, spec, { next: resolve, error, complete: noop }).start();
    starting = false;
  });
}

function noop(): void {}
