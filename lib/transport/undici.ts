import type { Dispatcher } from 'undici';
import { TimeoutError, XhttpError, type TimeoutPhase } from '../errors.js';
import { clearTimer, startTimer, type Clock, type TimerHandle } from '../internal/clock.js';
import type { Address } from '../types.js';
import { BufferedBody, StreamBody } from './body.js';
import { codingsOf, decodeBuffered, DecodedStreamBody } from './decode.js';
import { mapTransportError } from './error-map.js';

/** Per-attempt limits, ms; 0 disables one (as in undici). */
export interface AttemptTimeouts {
  readonly connect: number;
  readonly headers: number;
  readonly body: number;
  /** Whole attempt (`retry.timeoutPerAttempt`), until the body is read (buffered) or headers (stream). */
  readonly attempt: number;
}

/**
 * How an exchange reads its body: {@link BUFFERED} inside the call; {@link STREAM} handed to the
 * caller at headers, the owner's deadline still watched until the body ends; {@link STREAM_UNTIMED}
 * the same, the owner's deadline stopped at headers (`deadlineCoversBody: false`).
 */
export type BodyMode = typeof BUFFERED | typeof STREAM | typeof STREAM_UNTIMED;
/** {@link BodyMode}: the body is read inside the call. */
export const BUFFERED = 0;
/** {@link BodyMode}: streamed, the owner's deadline running until the body ends. */
export const STREAM = 1;
/** {@link BodyMode}: streamed, the owner's deadline stopped at headers. */
export const STREAM_UNTIMED = 2;

/** Who hears how an {@link Exchange} ends: the call that started it. */
export interface ExchangeOwner {
  /** The response: buffered, at completion; stream mode, at headers (the body owns the rest). */
  onExchangeResponse(response: RawResponse): void;
  /**
   * Stream mode: the body ended on the wire after {@link ExchangeOwner.onExchangeResponse} — complete
   * or stopped by its reader (`error` undefined), or failed (reset, body-idle timeout,
   * `RESPONSE_TOO_LARGE`). Never called after a cancel.
   */
  onExchangeBodyEnd(error: XhttpError | undefined): void;
  /** The attempt failed or timed out; never called after a cancel. */
  onExchangeError(error: XhttpError): void;
  /**
   * The owner's own deadline (the call's), passed as `ownerDeadline`, came while the exchange was in
   * flight: before the headers the request is already aborted on the wire, silently; while a streamed
   * body runs it is left for the owner to {@link Exchange.cancel} with its own error. The owner reports
   * it. This is how a call needs no timer of its own while an attempt runs.
   */
  onExchangeDeadline(): void;
}

/**
 * What an attempt emits: the response, its body buffered or streaming. Headers are parsed on
 * first read: most callers look at the status and one header, if any.
 */
export class RawResponse {
  #raw: readonly (Buffer | string)[] | undefined;
  #headers: Record<string, string | string[]> | undefined;

  constructor(
    readonly status: number,
    readonly statusText: string,
    rawHeaders: readonly (Buffer | string)[],
    readonly body: BufferedBody | StreamBody | DecodedStreamBody,
  ) {
    this.#raw = rawHeaders;
  }

  get headers(): Record<string, string | string[]> {
    if (this.#headers === undefined) {
      this.#headers = parseRawHeaders(this.#raw!);
      this.#raw = undefined;
    }
    return this.#headers;
  }
}

/** The timer callback of every exchange: a plain function given the exchange, no closure per attempt. */
function onExchangeTimer(exchange: Exchange): void {
  exchange.onTimer();
}

const NO_HEADERS: Buffer[] = [];
const CONNECT = 0;
const HEADERS = 1;
const BODY = 2;
const PHASES: readonly TimeoutPhase[] = ['connect', 'headers', 'body'];

const CONTENT_LENGTH = 'content-length';

/** True when the raw header name is `content-length`, any case, without decoding it. */
function isContentLength(name: Buffer | string): boolean {
  if (name.length !== 14) return false;
  if (typeof name === 'string') return name.toLowerCase() === CONTENT_LENGTH;
  for (let i = 0; i < 14; i++) {
    const c = name[i]!;
    const want = CONTENT_LENGTH.charCodeAt(i);
    // Letters match in either case ('A' | 0x20 is 'a'); '-' only itself.
    if (c !== want && (want < 0x61 || (c | 0x20) !== want)) return false;
  }
  return true;
}

const CONTENT_ENCODING = 'content-encoding';

/** `content-encoding` from raw header pairs, repeated ones joined; undefined when absent. */
function rawContentEncoding(raw: readonly (Buffer | string)[]): string | undefined {
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 16 || name.toString('latin1').toLowerCase() !== CONTENT_ENCODING) continue;
    const v = raw[i + 1]!.toString('latin1');
    out = out === undefined ? v : `${out}, ${v}`;
  }
  return out;
}

/** The value of `content-length` in raw header pairs, without parsing the others. */
function rawContentLength(raw: readonly (Buffer | string)[]): number | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (isContentLength(raw[i]!)) return Number(raw[i + 1]!.toString('latin1'));
  }
  return undefined;
}

/** A field value without the optional whitespace around it (RFC 9110 §5.5): SP and HTAB only. */
function trimOws(v: string): string {
  let start = 0;
  let end = v.length;
  while (start < end && (v.charCodeAt(start) === 0x20 || v.charCodeAt(start) === 0x09)) start++;
  while (end > start && (v.charCodeAt(end - 1) === 0x20 || v.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === v.length ? v : v.slice(start, end);
}

/** Lower-cases and folds undici's raw header pairs; repeated headers become arrays. */
export function parseRawHeaders(raw: readonly (Buffer | string)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = trimOws(raw[i + 1]!.toString('latin1'));
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/**
 * The undici handler for one attempt: a legacy-API handler (undici 7 passes it through without a
 * wrapper), one clearable timer that enforces every phase, and cancellation through the abort hook
 * that undici hands to `onConnect` — no AbortSignal.
 *
 * The timer is armed for the earliest deadline and re-armed only when it fires early: progress
 * (connect, headers, each body chunk) just records a time stamp, so body chunks cost no timer work.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  phase = CONNECT;
  progressAt: number;
  readonly attemptDeadline: number;
  /**
   * The earlier of the attempt's and the owner's deadline before hand-off; after it, the owner's
   * deadline (or none with `STREAM_UNTIMED`): what the timer watches besides the phase timeout.
   */
  limit: number;
  sent = false;
  done = false;
  handedOff = false;
  abortFn: ((err?: Error) => void) | undefined;
  cancelReason: Error | undefined;
  timer: TimerHandle | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  armedFor = Infinity;
  status = 0;
  statusText = '';
  rawHeaders: Buffer[] = NO_HEADERS;
  chunks: Uint8Array[] = [];
  received = 0;
  stream: StreamBody | undefined;
  resume: (() => void) | undefined;
  /** A streamed body's reader is behind (backpressure): the socket is not read, so no idle time counts. */
  paused = false;
  /**
   * Whether the headers / body phase's own timeout can come before {@link Exchange.limit}. Progress
   * only moves later, so when the attempt's start plus that timeout is already past the limit, the
   * limit always comes first and that phase's progress needs no clock read (the common case: phase
   * timeouts at or above the call's deadline). A streamed body's limit moves at hand-off: watched.
   */
  readonly watchHeaders: boolean;
  readonly watchBody: boolean;

  /**
   * `now`: the attempt's start on `clock` (the caller has just read it); `ownerDeadline`: when to
   * call {@link ExchangeOwner.onExchangeDeadline} (Infinity for none).
   */
  constructor(
    readonly owner: ExchangeOwner,
    readonly address: Address,
    readonly timeouts: AttemptTimeouts,
    readonly mode: BodyMode,
    readonly maxResponseBytes: number,
    readonly clock: Clock,
    now: number,
    readonly ownerDeadline: number,
    /** Undo `content-encoding` (gzip, deflate, br, zstd) as fetch does; `maxResponseBytes` counts decoded bytes. */
    readonly decompress = true,
  ) {
    this.progressAt = now;
    const t = timeouts.attempt;
    this.attemptDeadline = t > 0 ? now + t : Infinity;
    this.limit = Math.min(this.attemptDeadline, ownerDeadline);
    this.watchHeaders = timeouts.headers > 0 && now + timeouts.headers < this.limit;
    this.watchBody = mode !== BUFFERED || (timeouts.body > 0 && now + timeouts.body < this.limit);
    this.arm(now);
  }

  /** Sends `opts` on `dispatcher` with this exchange as the handler; a throw becomes an error. */
  send(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions): void {
    try {
      dispatcher.dispatch(opts, this);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  #phaseTimeout(): number {
    const t = this.timeouts;
    const ms = this.phase === CONNECT ? t.connect : this.phase === HEADERS ? t.headers : t.body;
    return ms > 0 ? ms : Infinity;
  }

  /** Arms the timer for the earliest deadline; `now` is the time the caller has just read. */
  arm(now: number): void {
    const due = Math.min(this.progressAt + this.#phaseTimeout(), this.limit);
    if (due === Infinity) return;
    this.armedFor = due;
    this.timer = startTimer(this.clock, onExchangeTimer, Math.max(0, due - now), this);
  }

  /** After a phase change: the new phase's deadline may come before the armed one (a short
   * headersTimeout or bodyTimeout after a long connectTimeout); re-arm only then. */
  rearm(): void {
    const due = Math.min(this.progressAt + this.#phaseTimeout(), this.limit);
    if (due >= this.armedFor) return;
    if (this.timer !== undefined) clearTimer(this.clock, this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.arm(this.progressAt);
  }

  onTimer(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.done) return;
    const now = this.clock.now();
    if (now >= this.ownerDeadline && this.limit <= this.ownerDeadline) {
      // A streamed body is failed by the owner, with its deadline error: the reader must see why.
      if (!this.handedOff) this.cancel();
      this.owner.onExchangeDeadline();
    } else if (!this.handedOff && now >= this.attemptDeadline) {
      this.abort(new TimeoutError('attempt', this.timeouts.attempt, { address: this.address }));
    } else if (this.paused) {
      // Our reader, not the server, is slow: the body-idle time starts again when it catches up.
      this.progressAt = now;
      this.arm(now);
    } else if (now >= this.progressAt + this.#phaseTimeout()) {
      const phase = PHASES[this.phase]!;
      this.abort(new TimeoutError(phase, this.#phaseTimeout(), { address: this.address }));
    } else {
      this.arm(now);
    }
  }

  /** Ends the exchange with `err`, aborting the request on the wire. */
  abort(err: XhttpError): void {
    if (this.done) return;
    this.finish();
    if (this.abortFn) this.abortFn(err);
    else this.cancelReason = err;
    this.deliverError(err);
  }

  /**
   * The owner ends the exchange (unsubscribe, signal, deadline, `close()`): aborts it silently — the
   * owner reports it — and fails a streamed body with `reason` (default `ABORTED`) for its reader.
   */
  cancel(reason?: XhttpError): void {
    if (this.done) return;
    this.finish();
    const err = reason ?? new XhttpError('ABORTED', 'request aborted', { address: this.address });
    if (this.abortFn) this.abortFn(err);
    else this.cancelReason = err;
    this.stream?.fail(err);
  }

  finish(): void {
    this.done = true;
    if (this.timer !== undefined) {
      clearTimer(this.clock, this.timer);
      this.timer = undefined;
    }
  }

  deliverError(err: XhttpError): void {
    if (this.stream) {
      this.stream.fail(err);
      this.owner.onExchangeBodyEnd(err);
    } else this.owner.onExchangeError(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelReason) {
      abort(this.cancelReason);
      return;
    }
    this.abortFn = abort;
    this.sent = true;
    this.phase = HEADERS;
    if (this.watchHeaders) {
      this.progressAt = this.clock.now();
      this.rearm();
    }
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    if (statusCode < 200) return true; // 1xx informational: wait for the final response
    this.status = statusCode;
    this.statusText = statusText;
    this.rawHeaders = rawHeaders;
    this.phase = BODY;
    if (this.watchBody) {
      this.progressAt = this.clock.now();
      this.rearm();
    }
    if ((rawContentLength(rawHeaders) ?? 0) > this.maxResponseBytes) {
      this.abort(tooLarge(this));
      return false;
    }
    if (this.mode !== BUFFERED) {
      this.resume = resume;
      this.handedOff = true; // the body owns the request from here on
      // The per-attempt timeout ends at headers (no retry can follow); the call's deadline goes on.
      this.limit = this.mode === STREAM ? this.ownerDeadline : Infinity;
      // A timer armed for the per-attempt deadline finds nothing due and re-arms (onTimer).
      this.stream = new StreamBody(
        () => this.onDrain(),
        () => this.cancelStream(),
      );
      const codings = this.#codings(statusCode);
      if (codings === null) {
        this.abort(tooManyCodings(this));
        return false;
      }
      const body =
        codings === undefined
          ? this.stream
          : new DecodedStreamBody(this.stream, codings, this.maxResponseBytes, this.address, (err) =>
              this.abort(err),
            );
      this.owner.onExchangeResponse(new RawResponse(statusCode, statusText, rawHeaders, body));
    }
    return true;
  }

  /** The stream's reader caught up: read the socket again, the body-idle timer from now. */
  onDrain(): void {
    this.paused = false;
    this.progressAt = this.clock.now();
    this.resume?.();
  }

  /** The reader stopped early (`break`, `dump()`): free the connection; the body ended there. */
  cancelStream(): void {
    if (this.done) return;
    this.finish();
    this.abortFn?.(new XhttpError('ABORTED', 'response body cancelled', { address: this.address }));
    this.owner.onExchangeBodyEnd(undefined);
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.watchBody) this.progressAt = this.clock.now();
    this.received += chunk.length;
    if (this.received > this.maxResponseBytes) {
      this.abort(tooLarge(this));
      return false;
    }
    if (this.stream) {
      if (this.stream.push(chunk)) return true;
      this.paused = true;
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.finish();
    if (this.stream) {
      this.stream.end();
      this.owner.onExchangeBodyEnd(undefined);
      return;
    }
    let body = new BufferedBody(this.chunks, this.received);
    const codings = this.received > 0 ? this.#codings(this.status) : undefined;
    if (codings !== undefined) {
      try {
        if (codings === null) throw tooManyCodings(this);
        const decoded = decodeBuffered(body.buffer, codings, this.maxResponseBytes, this.address);
        body = new BufferedBody([decoded], decoded.length);
      } catch (err) {
        this.owner.onExchangeError(err as XhttpError);
        return;
      }
    }
    this.owner.onExchangeResponse(new RawResponse(this.status, this.statusText, this.rawHeaders, body));
  }

  /** What to undo for this response: undefined for nothing, null for too many codings. */
  #codings(status: number): ReturnType<typeof codingsOf> {
    // As fetch: a body-less status is never decoded (HEAD bodies are empty, so never reach here).
    if (!this.decompress || status === 204 || status === 205 || status === 304) return undefined;
    return codingsOf(rawContentEncoding(this.rawHeaders));
  }

  onError(err: Error): void {
    if (this.done) return;
    this.finish();
    this.deliverError(mapTransportError(err, this.address, this.sent));
  }

  onUpgrade(): void {
    this.onError(new XhttpError('PROTOCOL', 'unexpected protocol upgrade', { address: this.address }));
  }
}

function tooManyCodings(x: { readonly address: Address }): XhttpError {
  return new XhttpError('PROTOCOL', 'too many content-encodings in response', { address: x.address });
}

function tooLarge(x: { readonly maxResponseBytes: number; readonly address: Address }): XhttpError {
  return new XhttpError('RESPONSE_TOO_LARGE', `response exceeds ${x.maxResponseBytes} bytes`, {
    address: x.address,
  });
}
