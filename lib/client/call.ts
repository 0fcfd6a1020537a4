import { map, merge, Observable, take, type Subscription, type Unsubscribable } from 'rxjs';
import type { Dispatcher } from 'undici';
import { selectAddress } from '../balancer/eligible.js';
import type { LoadStats } from '../balancer/load-stats.js';
import { KEY_FIELD, type CircuitBreakers } from '../breaker/breakers.js';
import { attachTimeline, FailFastError, TimeoutError, XhttpError } from '../errors.js';
import { addressKey, type AttemptEndEvent, type CallEndEvent, type CallEvent } from '../events/events.js';
import { decideRetry, type DecideContext, type RetryState } from '../resilience/decide.js';
import type { RetryDecision } from '../resilience/retry.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import { defaultRetryOn, type ResolvedRetry } from '../resilience/retry-policy.js';
import type { ResolvedHedge } from '../resilience/hedge.js';
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
import { attemptEndEvent, attemptHeaders, attemptStartEvent, type AttemptTarget } from './attempt-events.js';
import type { LiveCall } from './live-calls.js';
import type { CallSpec } from './request.js';
import { fastestCandidateMs } from './deadline.js';
import { CallResponse } from './response.js';
import type { Runtime } from './runtime.js';
import { CallLog } from './timeline.js';
import type { Bulkhead, BulkheadWaiter } from './bulkhead.js';
import { Hedging } from './hedging.js';

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
 * One attempt on the wire: its exchange, where it went and when, and its number. The exchange
 * reports to it, and it to its call, so a call can have several at once (hedging) and still know
 * which one answered.
 */
class Attempt implements ExchangeOwner, AttemptTarget {
  exchange: Exchange | undefined = undefined;
  /** Between its start event and its end event (its exchange may not exist yet). */
  open = true;

  constructor(
    readonly call: Call,
    readonly attempt: number,
    readonly address: Address,
    readonly key: string,
    readonly breakerKey: string,
    readonly breakerSkipped: string | undefined,
    readonly startedAt: number,
    /** A hedge, not the attempt that started its round. */
    readonly hedge: boolean,
  ) {}

  onExchangeResponse(raw: RawResponse): void {
    this.call.onAttemptResponse(this, raw);
  }

  onExchangeBodyEnd(error: XhttpError | undefined): void {
    this.call.onAttemptBodyEnd(this, error);
  }

  onExchangeError(error: XhttpError): void {
    this.call.onAttemptError(this, error);
  }

  onExchangeDeadline(): void {
    this.call.onDeadline();
  }
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
 * Hedging (`spec.hedge`): a round of attempts is a first attempt and the hedges sent after it while
 * it runs, each to a host not tried yet when there is one; the first response that is not a failure
 * by the retry policy wins and the others are cancelled (`lostTo`); when the last attempt of a round
 * fails, the retry policy decides as for any attempt, and the retry starts a new round.
 *
 * Cancellation is one thing whatever its cause — unsubscribe, the caller's `signal`, or
 * `client.close()`: the attempts in flight end `cancelled` (verdict `ignored`) and the call ends
 * with outcome `cancelled`, so breakers, load statistics, health, metrics and spans count it as
 * neither success nor failure. A signal or `close()` still rejects the caller with `ABORTED`.
 *
 * A user callback that throws (`retryOn`, `isFailure`, the breaker `key`, a balancer's `pick`)
 * fails the call at once with `INVALID_ARGUMENT` naming it; it never escapes into undici or a timer.
 */
export class Call implements RetryState, DecideContext, Unsubscribable, LiveCall, BulkheadWaiter {
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

  /** Attempts made, hedges included (RetryState). */
  attempts = 0;
  /** Rounds of attempts: a first attempt or a retry and its hedges (RetryState). */
  rounds = 0;
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
  /** The attempt in flight (the latest one when hedges run too). */
  #current: Attempt | undefined;
  /** Hedging: the round's other attempts in flight; undefined while there are none. */
  #others: Attempt[] | undefined;
  #hedgeTimer: TimerHandle | undefined;
  /** The delay of this round's hedges, ms. */
  #hedgeDelay = 0;
  // The pick's results, read by the attempt it makes.
  #address: Address | undefined;
  #breakerKey = '';
  /** The breaker key of the host the balancer picked and its breaker refused (this attempt moved on). */
  #breakerSkipped: string | undefined = undefined;
  /** The attempt whose end time `now` holds (-1: none yet; a call can settle with 0 attempts). */
  #endedAt = -1;
  /** What a user callback threw while this attempt's outcome was judged: the call fails with it. */
  #thrown: XhttpError | undefined;
  /**
   * A streamed response handed to the caller whose body has not ended: the attempt and the call
   * last until it does (see {@link Call.onAttemptBodyEnd}).
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
    const hedge = spec.hedge;
    // Every hedged call pays into its group's hedge budget (Finagle: maxExtraLoad of the calls).
    if (hedge !== undefined)
      (this.rt.hedging ??= new Hedging(this.rt.clock)).deposit(spec.group, hedge, this.startedAt);
    const bulkheads = this.rt.bulkheads;
    const bulkhead = bulkheads.size === 0 ? undefined : bulkheads.get(spec.group);
    if (bulkhead !== undefined) {
      this.#bulkhead = bulkhead;
      if (bulkhead.tryAcquire()) this.#slot = true;
      else if (bulkhead.enqueue(this)) {
        // Waits for a slot within its deadline; the deadline timer is the one the address wait uses.
        this.#deadlineTimer = startTimer(
          this.rt.clock,
          onCallDeadline,
          this.deadlineAt - this.startedAt,
          this,
        );
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

  /** A round's first attempt (the call's first, or a retry): pick → gate → request, then its hedges. */
  attempt(now: number): void {
    this.rounds++;
    if (!this.#send(now, undefined)) return;
    const hedge = this.spec.hedge;
    if (hedge !== undefined && !this.#settled) this.#armHedge(hedge, now);
  }

  /**
   * One attempt: pick → gate → request. `now`: the time the caller has just read. `hedgeDelay`:
   * the delay a hedge waited, undefined for a round's first attempt. False when none was sent: the
   * call has ended (no address, fail fast, a throwing pick), or a hedge found no host to admit it.
   */
  #send(now: number, hedgeDelay: number | undefined): boolean {
    const rt = this.rt;
    const spec = this.spec;
    const candidates = spec.group.addresses;
    const attempt = this.attempts + 1;
    if (candidates.length === 0) {
      // A hedge with no host left (the group emptied meanwhile) leaves the attempts in flight be.
      if (hedgeDelay !== undefined) return false;
      this.attempts = attempt;
      this.#fail(
        new XhttpError('NO_ADDRESS', `group ${spec.group.name} has no address`, { attempts: attempt - 1 }),
      );
      return false;
    }
    if (attempt > 1 && this.#tried === undefined)
      this.#tried = new Set(this.#firstKey === undefined ? [] : [this.#firstKey]);
    const breakers = rt.breakers;
    // Every breaker of the group was seen rejecting and none has changed since: fail fast in O(1).
    if (breakers !== undefined && !breakers.allClosed && breakers.allRejecting(candidates, now)) {
      if (hedgeDelay !== undefined) return false;
      this.attempts = attempt;
      this.#fail(this.#failFast(attempt, now));
      return false;
    }
    let address: Address;
    let admitted: boolean;
    try {
      address = this.#pick(candidates, attempt, now);
      admitted = breakers === undefined || this.#gate(breakers, address, candidates);
    } catch (error) {
      // A user balancer or breaker key that throws: the call fails now, naming it.
      this.#stopWork();
      this.#fail(pickFailed(error, attempt - 1));
      return false;
    }
    if (!admitted) {
      // A hedge no breaker admits is not sent; the attempts in flight run on.
      if (hedgeDelay !== undefined) return false;
      this.attempts = attempt;
      breakers!.noteAllRejecting(spec.request, candidates, now);
      this.#fail(this.#failFast(attempt, now));
      return false;
    }
    this.attempts = attempt;
    address = this.#address!;
    const key = addressKey(address);
    if (this.#tried) this.#tried.add(key);
    else this.#firstKey = key;
    const breakerKey = this.#breakerKey || key;
    const slot = new Attempt(
      this,
      attempt,
      address,
      key,
      breakerKey,
      this.#breakerSkipped,
      now,
      hedgeDelay !== undefined,
    );
    const previous = this.#current;
    if (previous !== undefined) (this.#others ??= []).push(previous);
    this.#current = slot;
    // Literal event objects, no spreads (attempt-events.ts, shared with the composed chain).
    const startEvent = attemptStartEvent(spec, this.callId, slot, now, hedgeDelay);
    this.#emit(startEvent);
    // An events$ listener may have ended the call from inside that emit (unsubscribe, close()),
    // which ended the attempt it announced as cancelled: send nothing.
    if (this.#settled) return false;
    const headers = attemptHeaders(rt, spec, startEvent, this.deadlineAt, now);
    const exchange = new Exchange(
      slot,
      address,
      attemptTimeouts(rt, spec),
      spec.stream ? (spec.deadlineCoversBody ? STREAM : STREAM_UNTIMED) : BUFFERED,
      spec.maxResponseBytes,
      rt.clock,
      now,
      this.deadlineAt,
      spec.decompress,
    );
    slot.exchange = exchange;
    const opts: Dispatcher.DispatchOptions = {
      path: spec.target,
      method: spec.method,
      headers,
      // undici takes Blob, FormData and async iterables too, beyond what its types list.
      body: spec.body as string | null,
    };
    exchange.send(rt.dispatcher(spec.group, address), opts);
    return true;
  }

  /** Arms the timer of the round's next hedge: the fixed delay, or the group's live percentile. */
  #armHedge(hedge: ResolvedHedge, now: number): void {
    const hedging = (this.rt.hedging ??= new Hedging(this.rt.clock));
    const delay = hedging.delay(this.spec.group, hedge, now);
    // An adaptive delay with too few samples yet: this round is not hedged.
    if (delay === undefined) return;
    this.#hedgeDelay = delay;
    this.#hedgeTimer = startTimer(this.rt.clock, onHedgeTimer, delay, this);
  }

  /** The hedge delay passed with no winner: another attempt, within the budget and the deadline. */
  onHedgeTimer(): void {
    this.#hedgeTimer = undefined;
    const hedge = this.spec.hedge;
    if (this.#settled || hedge === undefined || this.#current === undefined || this.#streamed !== undefined)
      return;
    if (this.#inFlight() >= hedge.maxAttempts) return;
    const rt = this.rt;
    const now = rt.clock.now();
    this.now = now;
    const attempt = this.attempts + 1;
    const expected = this.expectedAttemptMs();
    const remaining = this.deadlineAt - now;
    if (expected > 0 && remaining < expected) {
      this.#emitHedgeRefused(attempt, 'deadline-insufficient', Math.round(expected), Math.round(remaining));
      return;
    }
    // Finagle's two withdrawals: the hedge budget first, then the client's retry budget.
    if (
      !rt.hedging!.tryWithdraw(this.spec.group, hedge, now) ||
      (rt.budget !== undefined && !rt.budget.tryWithdraw())
    ) {
      this.#emitHedgeRefused(attempt, 'budget', undefined, undefined);
      return;
    }
    if (!this.#send(now, this.#hedgeDelay)) return;
    if (!this.#settled && this.#inFlight() < hedge.maxAttempts)
      this.#hedgeTimer = startTimer(rt.clock, onHedgeTimer, this.#hedgeDelay, this);
  }

  #emitHedgeRefused(
    attempt: number,
    reason: 'budget' | 'deadline-insufficient',
    expectedMs: number | undefined,
    remainingMs: number | undefined,
  ): void {
    const spec = this.spec;
    this.#emit({
      type: 'hedge-refused',
      time: this.now,
      callId: this.callId,
      group: spec.group.name,
      method: spec.method,
      attempt,
      reason,
      expectedMs,
      remainingMs: remainingMs === undefined ? undefined : Math.max(0, remainingMs),
    });
  }

  #clearHedgeTimer(): void {
    if (this.#hedgeTimer === undefined) return;
    clearTimer(this.rt.clock, this.#hedgeTimer);
    this.#hedgeTimer = undefined;
  }

  /** Attempts in flight now. */
  #inFlight(): number {
    return (this.#current !== undefined ? 1 : 0) + (this.#others?.length ?? 0);
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

  /** Takes `slot` off the attempts in flight. */
  #release(slot: Attempt): void {
    slot.open = false;
    slot.exchange = undefined;
    if (this.#current === slot) {
      this.#current = this.#others?.pop();
      return;
    }
    const others = this.#others;
    if (others === undefined) return;
    const i = others.indexOf(slot);
    if (i >= 0) others.splice(i, 1);
  }

  /**
   * Hedging: `slot` ended and other attempts of the round still run. A winner (a response that is
   * not a failure by the retry policy) cancels them and goes on as the call's outcome; anything else
   * leaves them to run on. True when the call should wait for them.
   */
  #waitForOthers(slot: Attempt, outcome: AttemptOutcome): boolean {
    if (this.#current === undefined) return false;
    if (this.#thrown !== undefined) return false;
    if (outcome.response !== undefined && !this.#hedgeFailure(outcome)) {
      this.#cancelOthers(slot);
      return false;
    }
    return true;
  }

  /** Cancels every attempt in flight but `winner`: they lost to it. `winner` stays in flight if it was. */
  #cancelOthers(winner: Attempt): void {
    this.#clearHedgeTimer();
    const current = this.#current;
    const others = this.#others;
    this.#current = winner.open ? winner : undefined;
    this.#others = undefined;
    // Oldest first: the end events come in attempt order.
    if (others !== undefined) for (const o of others) if (o !== winner) this.#lose(o, winner.attempt);
    if (current !== undefined && current !== winner) this.#lose(current, winner.attempt);
  }

  /** A losing attempt: cancelled on the wire, its end event says to whom it lost. */
  #lose(slot: Attempt, winner: number): void {
    const exchange = slot.exchange;
    slot.open = false;
    slot.exchange = undefined;
    exchange?.cancel();
    this.#emitEnd(slot, this.#outcome(slot, undefined, undefined), true, winner);
  }

  /** An attempt got a response (any status). */
  onAttemptResponse(slot: Attempt, raw: RawResponse): void {
    if (this.spec.stream) {
      this.#onStreamHeaders(slot, raw);
      return;
    }
    const outcome = this.#endAttempt(slot, raw, undefined, false, undefined);
    if (this.#current !== undefined && this.#waitForOthers(slot, outcome)) {
      void raw.body.dump(); // a discarded response must free its connection
      return;
    }
    const decision = this.#decide(outcome);
    if (decision) {
      void raw.body.dump(); // a discarded response must free its connection
      this.#retryAfter(decision);
      return;
    }
    if (this.#settled) return;
    if (this.#thrown !== undefined) {
      void raw.body.dump();
      this.#stopWork();
      this.#fail(this.#thrown);
      return;
    }
    this.#finish('ok', raw.status, undefined);
    this.sink.next(new CallResponse(raw, outcome.address, outcome.attempt, this.#log));
    this.sink.complete();
  }

  /**
   * A streamed response at headers: retried as any response would be, else handed to the caller
   * while its attempt stays open, to end with the body ({@link Call.onAttemptBodyEnd}).
   */
  #onStreamHeaders(slot: Attempt, raw: RawResponse): void {
    const exchange = slot.exchange;
    const outcome = this.#outcome(slot, raw, undefined);
    if (this.#inFlight() > 1) {
      // Hedging: a failure lets the others run on; a winner at headers cancels them before its body
      // is handed over.
      if (this.#hedgeFailure(outcome)) {
        this.#release(slot);
        this.#emitEnd(slot, outcome, false, undefined);
        void raw.body.dump();
        return;
      }
      this.#cancelOthers(slot);
    }
    this.#held = [];
    const decision = this.#decide(outcome);
    const held = this.#held;
    this.#held = undefined;
    if (decision !== undefined || this.#settled || exchange === undefined) {
      this.#release(slot);
      this.#emitEnd(slot, outcome, false, undefined);
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
   * The streamed body ended on the wire — complete, stopped by its reader, or failed (reset,
   * body-idle timeout, `RESPONSE_TOO_LARGE`). That is the attempt's outcome, and the call's.
   */
  onAttemptBodyEnd(slot: Attempt, error: XhttpError | undefined): void {
    const response = this.#streamed;
    if (response === undefined || this.#current !== slot) return;
    if (error !== undefined && error.attempts === undefined) error.attempts = this.attempts;
    this.#endStream(slot, response, error, false);
    this.#finish(error === undefined ? 'ok' : 'error', response.status, error);
  }

  /** The attempt of a streamed body ends: its attempt-end, then the retry events held at headers. */
  #endStream(slot: Attempt, response: RawResponse, error: XhttpError | undefined, cancelled: boolean): void {
    this.#streamed = undefined;
    this.#endAttempt(slot, response, error, cancelled, undefined);
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const e of held) this.#emit(e);
  }

  /** An attempt failed (transport error, phase or per-attempt timeout). */
  onAttemptError(slot: Attempt, error: XhttpError): void {
    if (error.attempts === undefined) error.attempts = this.attempts;
    // ABORTED from the transport is a pool closed or destroyed under the attempt: the client is
    // closing. A cancellation, like any other, not a failure of the host.
    if (error.code === 'ABORTED') {
      this.#endAttempt(slot, undefined, undefined, true, undefined);
      this.#stopWork();
      this.#fail(error, 'cancelled');
      return;
    }
    const outcome = this.#endAttempt(slot, undefined, error, false, undefined);
    // Hedging: a failed attempt lets the others of its round run on.
    if (this.#current !== undefined && this.#waitForOthers(slot, outcome)) return;
    const decision = this.#decide(outcome);
    if (decision) this.#retryAfter(decision);
    else {
      this.#stopWork();
      this.#fail(this.#thrown ?? error);
    }
  }

  /** Ends an attempt in flight: its outcome, and the attempt-end event every scan counts on. */
  #endAttempt(
    slot: Attempt,
    response: RawResponse | undefined,
    error: XhttpError | undefined,
    cancelled: boolean,
    lostTo: number | undefined,
  ): AttemptOutcome {
    this.#release(slot);
    const outcome = this.#outcome(slot, response, error);
    this.#emitEnd(slot, outcome, cancelled, lostTo);
    return outcome;
  }

  /** The outcome of an attempt, as of now (which it sets). */
  #outcome(slot: Attempt, response: RawResponse | undefined, error: XhttpError | undefined): AttemptOutcome {
    const now = this.rt.clock.now();
    this.now = now;
    this.#endedAt = this.attempts;
    // One shape for every outcome, no spread (a spread with extra keys costs ~1 µs on Node 20).
    const outcome: AttemptOutcome = {
      attempt: slot.attempt,
      address: slot.address,
      method: this.spec.method,
      response,
      error,
      elapsedMs: now - slot.startedAt,
    };
    return outcome;
  }

  /** The attempt-end event of `outcome`, with the breaker's verdict. */
  #emitEnd(slot: Attempt, outcome: AttemptOutcome, cancelled: boolean, lostTo: number | undefined): void {
    const rt = this.rt;
    const spec = this.spec;
    const response = outcome.response;
    slot.open = false;
    let verdict: AttemptEndEvent['verdict'] = 'ignored';
    if (!cancelled && rt.breakers !== undefined) {
      // A throwing isFailure leaves the verdict `ignored` and fails the call once the event is out.
      try {
        verdict = rt.breakers.classify(outcome);
      } catch (thrown) {
        this.#thrown = asXhttpError(thrown);
      }
    }
    // The adaptive hedge delay reads how long a round's first attempt takes (Finagle records its
    // originals the same way): answered, its latency; lost to a hedge, the time it had taken when
    // cancelled — a lower bound, but above the delay that hedged it, which is all a percentile at
    // that delay needs. Hedges are not recorded: they would hide the slow tail the delay is for.
    if (
      rt.hedging !== undefined &&
      !slot.hedge &&
      (cancelled ? lostTo !== undefined : response !== undefined)
    )
      rt.hedging.record(spec.group, this.#headersMs ?? outcome.elapsedMs, this.now);
    const end = attemptEndEvent(
      spec,
      this.callId,
      slot,
      outcome,
      this.now,
      cancelled,
      verdict,
      this.#headersMs,
      lostTo,
    );
    this.#emit(end);
  }

  /** Whether a response is a failure by the retry policy's `retryOn` (the default one without a policy). */
  #hedgeFailure(outcome: AttemptOutcome): boolean {
    const retryOn = this.retry?.retryOn ?? defaultRetryOn;
    try {
      return retryOn(outcome);
    } catch (thrown) {
      this.#thrown = callbackFailed('retry.retryOn', thrown);
      return false;
    }
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
    this.#clearHedgeTimer();
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

  /** Stops whatever runs: the wait for addresses, a back-off or hedge timer, the attempts in flight. */
  #stopWork(): void {
    if (this.#waiting) {
      this.#waiting.unsubscribe();
      this.#waiting = undefined;
    }
    if (this.#retryTimer !== undefined) {
      clearTimer(this.rt.clock, this.#retryTimer);
      this.#retryTimer = undefined;
    }
    this.#clearHedgeTimer();
    // Every attempt in flight ends, oldest first: cancelled, or with the call's timeout.
    const others = this.#others;
    if (others !== undefined) for (const slot of others.slice()) this.#stopAttempt(slot);
    if (this.#current !== undefined) this.#stopAttempt(this.#current);
  }

  /**
   * Ends an attempt in flight because the call stops: cancelled, or with the call's timeout. Between
   * an attempt-start event and its exchange there is no exchange, but an attempt to end all the same.
   */
  #stopAttempt(slot: Attempt): void {
    const timeout = this.#timedOut
      ? new TimeoutError('call', this.spec.timeout, { address: slot.address, attempts: this.attempts })
      : undefined;
    // A streamed body's reader sees the same error as the attempt-end.
    slot.exchange?.cancel(timeout);
    const streamed = this.#streamed;
    if (streamed !== undefined) this.#endStream(slot, streamed, timeout, timeout === undefined);
    else this.#endAttempt(slot, undefined, timeout, timeout === undefined, undefined);
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
    this.#clearHedgeTimer();
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

function onHedgeTimer(call: Call): void {
  call.onHedgeTimer();
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
