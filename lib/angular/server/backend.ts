import {
  HttpErrorResponse,
  HttpEventType,
  HttpHeaders,
  HttpResponse,
  type HttpBackend,
  type HttpEvent,
  type HttpRequest,
} from '@angular/common/http';
import { Observable } from 'rxjs';
import type { Client } from '../../client/client.js';
import { isXhttpError } from '../../errors.js';
import type { CallOptions, RequestBody, XResponse } from '../../types.js';
import { withoutQuery } from '../interceptor.js';

/** What Angular's own backends send when the request names no `Accept`. */
const DEFAULT_ACCEPT = 'application/json, text/plain, */*';

/**
 * Angular's `HttpBackend` on the server, with rxhttp: a request whose URL names a group registered
 * on the client (`http://users/...`: http or https, no port) goes through `client.request$`
 * (balancing, breakers, retries, metrics, traces); any other goes to Angular's own backend
 * unchanged. The response comes back as Angular's backends make it: a `Sent` event, then an
 * `HttpResponse` (2xx) or an `HttpErrorResponse` (other statuses, body parsed as JSON when it parses);
 * an rxhttp failure is an `HttpErrorResponse` of status 0 with the `XhttpError` as `error`.
 * Unsubscribing cancels the call.
 */
export class RxHttpBackend implements HttpBackend {
  readonly #client: Client;
  readonly #angular: HttpBackend;
  readonly #callOptions: CallOptions | undefined;

  /**
   * @param client - the client whose named groups this backend serves.
   * @param angular - the backend for everything else (Angular's `FetchBackend` or `HttpXhrBackend`).
   * @param callOptions - options of every call through the client; a request's own `timeout` wins.
   */
  constructor(client: Client, angular: HttpBackend, callOptions?: CallOptions) {
    this.#client = client;
    this.#angular = angular;
    this.#callOptions = callOptions;
  }

  /** Sends `req` through the client when it names a group, else through Angular's backend. */
  handle(req: HttpRequest<unknown>): Observable<HttpEvent<unknown>> {
    if (!this.#names(req.url)) return this.#angular.handle(req);
    return new Observable<HttpEvent<unknown>>((subscriber) => {
      subscriber.next({ type: HttpEventType.Sent });
      const options =
        req.timeout === null || req.timeout === undefined
          ? this.#callOptions
          : { ...this.#callOptions, timeout: req.timeout };
      const call = this.#client
        .request$(
          { method: req.method, url: req.urlWithParams, headers: headersOf(req), body: bodyOf(req) },
          options,
        )
        .subscribe({
          // The body is buffered: reading it here cannot outlive the call's own deadline.
          next: (res) =>
            void toAngular(res, req).then(
              (event) => {
                if (event instanceof HttpErrorResponse) return subscriber.error(event);
                subscriber.next(event);
                subscriber.complete();
              },
              (error: unknown) => subscriber.error(transportError(error, req)),
            ),
          error: (error: unknown) => subscriber.error(transportError(error, req)),
        });
      return call;
    });
  }

  /** True for an absolute http(s) URL without a port whose host is a group registered on the client. */
  #names(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      parsed.port === '' &&
      this.#client.group(parsed.hostname) !== undefined
    );
  }
}

/** Angular's headers as pairs (repeated names kept), with the defaults its own backends add. */
function headersOf(req: HttpRequest<unknown>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of req.headers.keys())
    for (const value of req.headers.getAll(name) ?? []) pairs.push([name, value]);
  if (!req.headers.has('accept')) pairs.push(['accept', DEFAULT_ACCEPT]);
  const type = req.detectContentTypeHeader();
  if (!req.headers.has('content-type') && type !== null) pairs.push(['content-type', type]);
  return pairs;
}

/** The body as Angular serializes it, in a form the client sends. */
function bodyOf(req: HttpRequest<unknown>): RequestBody {
  const body = req.serializeBody();
  return body instanceof ArrayBuffer ? new Uint8Array(body) : body;
}

/** An rxhttp error as Angular code expects it: status 0, the `XhttpError` as `error`. */
function transportError(error: unknown, req: HttpRequest<unknown>): HttpErrorResponse {
  return new HttpErrorResponse({
    error,
    status: 0,
    statusText: isXhttpError(error) ? error.code : 'Unknown Error',
    url: withoutQuery(req.url),
  });
}

/** An rxhttp response as Angular's backends would have made it, body read per `responseType`. */
async function toAngular(
  res: XResponse,
  req: HttpRequest<unknown>,
): Promise<HttpResponse<unknown> | HttpErrorResponse> {
  const headers = new HttpHeaders(res.headers as Record<string, string | string[]>);
  const init = { headers, status: res.status, statusText: res.statusText };
  if (!res.ok) {
    const text = await res.body.text();
    return new HttpErrorResponse({ ...init, error: parseOr(text), url: withoutQuery(req.url) });
  }
  let body: unknown;
  switch (req.responseType) {
    case 'text':
      body = await res.body.text();
      break;
    case 'arraybuffer':
      body = arrayBufferOf(await res.body.bytes());
      break;
    case 'blob':
      body = new Blob([arrayBufferOf(await res.body.bytes())], { type: headers.get('content-type') ?? '' });
      break;
    default: {
      const text = await res.body.text();
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch (error) {
        // Angular's own shape for a 2xx whose JSON does not parse.
        return new HttpErrorResponse({ ...init, error: { error, text }, url: withoutQuery(req.url) });
      }
    }
  }
  return new HttpResponse({ ...init, body, url: req.urlWithParams });
}

/** An error body: JSON when it parses, else the text (Angular's backends do the same). */
function parseOr(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
