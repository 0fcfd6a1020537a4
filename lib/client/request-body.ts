import { FormData as UndiciFormData } from 'undici';
import { invalidArgument, XhttpError } from '../errors.js';
import type { RequestBody } from '../types.js';

/** A body as the transport takes it: replayable values as they are, a one-shot source wrapped. */
export type SendBody = string | Uint8Array | Blob | UndiciFormData | OnceBody | null;

/**
 * A request body that can be read only once (a `ReadableStream` or an `AsyncIterable`). Handed to
 * undici as an async iterable on every attempt; it records whether undici ever asked it for a
 * byte. An attempt that never read it (a connect failure) leaves it intact for the transparent
 * retry; a second read after the first began throws instead of sending a truncated body.
 */
export class OnceBody implements AsyncIterable<Uint8Array> {
  constructor(readonly source: AsyncIterable<unknown>) {}

  /**
   * True once the transport has asked for the first chunk: the source is spent from then on, for
   * every call given it (a resubscribed Observable builds a new OnceBody over the same source).
   */
  get started(): boolean {
    return SPENT.has(this.source);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#read();
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    // A generator's body first runs at the first next(): nothing is marked before undici reads.
    if (SPENT.has(this.source))
      throw new XhttpError('INVALID_ARGUMENT', 'a streamed request body can be sent only once', {
        field: 'body',
      });
    SPENT.add(this.source);
    for await (const chunk of this.source) {
      if (typeof chunk === 'string') yield Buffer.from(chunk);
      else if (chunk instanceof Uint8Array) yield chunk;
      else throw invalidArgument('body', 'a streamed body must yield Uint8Array chunks');
    }
  }
}

/** Stream sources some call has begun to read: none may be read again. */
const SPENT = new WeakSet<object>();

/** True for a body that can be read once only (see {@link OnceBody}). */
export function isOnceBody(body: SendBody): body is OnceBody {
  return body instanceof OnceBody;
}

/**
 * Validates a body into what the transport sends. `URLSearchParams` becomes a form; `Blob` and
 * `FormData` go to undici as they are (it reads a Blob and multipart-encodes a FormData on each
 * attempt, so both can be re-sent); a `ReadableStream` or an `AsyncIterable` becomes a
 * {@link OnceBody}.
 */
export function normalizeBody(
  body: RequestBody | undefined,
  headers: Record<string, string>,
  field = 'body',
): SendBody {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body;
  if (isFormData(body)) return asUndiciForm(body);
  if (
    typeof body === 'object' &&
    typeof (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  )
    return new OnceBody(body as AsyncIterable<unknown>);
  throw invalidArgument(
    field,
    'must be a string, Uint8Array, URLSearchParams, Blob, FormData, ReadableStream, AsyncIterable or null',
  );
}

function isFormData(body: object): body is FormData {
  return (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData';
}

/**
 * The form as the FormData class of the undici that sends it: its dispatch encodes only its own
 * (a brand check), and Node's global FormData is another copy of undici's.
 */
function asUndiciForm(form: FormData): UndiciFormData {
  if (form instanceof UndiciFormData) return form;
  const out = new UndiciFormData();
  for (const [name, value] of form) out.append(name, value as string);
  return out;
}

/** `value` as a JSON body, or `INVALID_ARGUMENT` naming `field` (cycles, BigInt, a bare undefined). */
export function jsonBody(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw invalidArgument(field, 'is not serialisable as JSON', cause);
  }
  if (text === undefined) throw invalidArgument(field, 'is not serialisable as JSON');
  return text;
}
