import { invalidArgument } from '../errors.js';
import type { RequestBody, XRequest } from '../types.js';

/**
 * What {@link RxHttpService} accepts as a body, like axios's `data`: a string, bytes
 * (`Uint8Array`, `Buffer`, any typed array, `ArrayBuffer`) or `URLSearchParams` as they are;
 * any other object (a plain object, an array, a DTO instance) as JSON.
 */
export type RxHttpBody = RequestBody | ArrayBuffer | ArrayBufferView | object | undefined;

/** A request as {@link RxHttpService.request} takes it: an `XRequest` whose body may be JSON. */
export interface RxHttpRequest extends Omit<XRequest, 'body'> {
  /** Strings, bytes and `URLSearchParams` as they are; other objects as JSON. */
  readonly body?: RxHttpBody;
}

const JSON_TYPE = 'application/json';

/**
 * Turns an axios-style body into the core's: bytes and forms pass through, objects become JSON
 * with `content-type: application/json` unless the request already names a content type.
 */
export function encodeRequest(req: RxHttpRequest): XRequest {
  const { body, ...rest } = req;
  if (body === undefined || body === null) return rest;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams)
    return { ...rest, body };
  if (body instanceof ArrayBuffer) return { ...rest, body: new Uint8Array(body) };
  if (ArrayBuffer.isView(body))
    return { ...rest, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  // Streams, blobs and multipart forms would serialise to "{}" without a word: refuse them.
  if (isUnsupported(body))
    throw invalidArgument('body', 'streams, Blob and FormData are not supported; send bytes or a string');
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw invalidArgument('body', 'is not JSON-serialisable');
  return { ...rest, body: json, headers: withJsonType(rest.headers) };
}

function isUnsupported(body: object): boolean {
  return (
    (typeof Blob !== 'undefined' && body instanceof Blob) ||
    (typeof FormData !== 'undefined' && body instanceof FormData) ||
    (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
    typeof (body as { pipe?: unknown }).pipe === 'function' ||
    Symbol.asyncIterator in body
  );
}

function withJsonType(headers: XRequest['headers']): NonNullable<XRequest['headers']> {
  if (headers === undefined) return { 'content-type': JSON_TYPE };
  let merged: Headers;
  try {
    merged = new Headers(headers as HeadersInit);
  } catch {
    return headers; // malformed: let the core reject it with a coded INVALID_ARGUMENT
  }
  if (!merged.has('content-type')) merged.set('content-type', JSON_TYPE);
  return merged;
}
