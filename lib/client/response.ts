import type { TimelineSource } from '../errors.js';
import type { CallTimeline } from '../timeline.js';
import type { RawResponse } from '../transport/undici.js';
import type { Address, ResponseBody, XResponse } from '../types.js';

/** The response a call emits; headers stay unparsed until first read. */
export class CallResponse implements XResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly body: ResponseBody;

  constructor(
    readonly raw: RawResponse,
    readonly address: Address,
    readonly attempts: number,
    // Kept private (not a field of the JSON form): the call's log, folded only when read.
    private readonly log: TimelineSource,
  ) {
    this.status = raw.status;
    this.ok = raw.status >= 200 && raw.status <= 299;
    this.statusText = raw.statusText;
    this.body = raw.body;
  }

  get headers(): Readonly<Record<string, string | string[]>> {
    return this.raw.headers;
  }

  /** What the call did: its attempts and the decisions between them (see {@link CallTimeline}). */
  get timeline(): CallTimeline {
    return this.log.timeline;
  }

  /** Plain-object form, for logging and JSON. */
  toJSON(): object {
    return {
      status: this.status,
      ok: this.ok,
      statusText: this.statusText,
      headers: this.headers,
      address: this.address,
      attempts: this.attempts,
    };
  }
}
