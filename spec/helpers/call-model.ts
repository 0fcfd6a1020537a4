import { applyHeadersModel, isTokenModel } from './header-model.js';

/**
 * A model of the per-call rules (API.md "Per call" and `RetryOptions`, README "Errors"), written from
 * the documents rather than from `lib/client/request.ts`, so the property specs can compare: for a
 * request and call options it gives every field at fault (the code must name one of them, and accept
 * only when there is none) and, when nothing is, what the call must send.
 */
export interface CallVerdict {
  /** Fields at fault, as `XhttpError.field` names them. */
  readonly wrong: Set<string>;
  /** When `wrong` is empty: the method and request target sent, and the call's settings. */
  readonly call?: {
    method: string;
    target: string;
    path: string;
    timeout: number;
    maxResponseBytes: number;
    redirect: string;
    stream: boolean;
  };
}

/** What a call falls back on (the client's config). */
export interface CallModelDefaults {
  readonly requestTimeout: number;
  readonly maxResponseBytes: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly redirect: string;
}

/** Longest delay a Node timer honours. */
const MAX_MS = 2_147_483_647;
/** `RetryOptions.maxAttempts` upper bound. */
const MAX_ATTEMPTS = 100;
const STANDARD = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'];
const REQUEST_KEYS = ['method', 'group', 'url', 'path', 'query', 'headers', 'body'];
const OPTION_KEYS = [
  'retry',
  'timeout',
  'signal',
  'headers',
  'responseType',
  'maxResponseBytes',
  'redirect',
  'query',
  'json',
  'body',
];
const RETRY_KEYS = [
  'maxAttempts',
  'retryOn',
  'timeoutPerAttempt',
  'backoff',
  'retryNonIdempotent',
  'respectRetryAfter',
];
const BACKOFF_KEYS = ['initialDelay', 'maxDelay', 'multiplier', 'jitter'];

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: unknown, k: string): unknown => (isPlain(o) && Object.hasOwn(o, k) ? o[k] : undefined);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Unknown own keys of an options object, as `<field>.<key>`; the object itself when not one. */
function shape(v: unknown, keys: readonly string[], field: string, wrong: Set<string>): boolean {
  if (v === undefined) return true;
  if (!isPlain(v)) {
    wrong.add(field);
    return false;
  }
  for (const k of Object.keys(v)) if (!keys.includes(k)) wrong.add(`${field}.${k}`);
  return true;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Request path (XRequest.path): starts with '/', not '//'; a space or a non-ASCII character is sent
 * percent-encoded (UTF-8); otherwise visible ASCII but '#', and no backslash before the query. The
 * target as sent, or undefined when refused.
 */
function pathModel(p: unknown): string | undefined {
  if (typeof p !== 'string' || p.length > 65_536 || LONE_SURROGATE.test(p)) return undefined;
  let out = '';
  for (const ch of p) {
    const c = ch.codePointAt(0)!;
    if (c === 0x20 || c > 0x7e) {
      if (c === 0x7f) return undefined;
      for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else if (c < 0x20 || ch === '#') return undefined;
    else out += ch;
  }
  const qi = out.indexOf('?');
  const path = qi < 0 ? out : out.slice(0, qi);
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return undefined;
  return out.length <= 65_536 ? out : undefined;
}

/** Query parameters (XRequest.query, CallOptions.query) as a query string; undefined when refused. */
function queryModel(q: unknown): string | undefined {
  if (q === undefined) return '';
  if (q instanceof URLSearchParams) return q.toString();
  if (typeof q !== 'object' || q === null) return undefined;
  const params = new URLSearchParams();
  for (const k of Object.keys(q)) {
    const v = (q as Record<string, unknown>)[k];
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') params.append(k, String(x));
      else return undefined;
    }
  }
  return params.toString();
}

/** RequestBody: bytes, text, a form, a Blob, FormData, or anything async-iterable (a stream). */
function bodyTypeOk(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData ||
    (typeof body === 'object' && typeof (body as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function')
  );
}

/** The model's verdict on `buildCallSpec(request, group, path, options, defaults)`. */
export function callModel(
  request: Record<string, unknown>,
  path: unknown,
  options: unknown,
  defaults: CallModelDefaults,
): CallVerdict {
  const wrong = new Set<string>();
  shape(request, REQUEST_KEYS, 'request', wrong);
  const optionsOk = shape(options, OPTION_KEYS, 'options', wrong);
  const opt = (k: string) => (optionsOk ? own(options, k) : undefined);

  const rawMethod = own(request, 'method');
  let method = 'GET';
  if (rawMethod !== undefined) {
    if (typeof rawMethod !== 'string' || !isTokenModel(rawMethod) || rawMethod.toUpperCase() === 'CONNECT')
      wrong.add('method');
    else method = STANDARD.includes(rawMethod.toUpperCase()) ? rawMethod.toUpperCase() : rawMethod;
  }
  const sent = pathModel(path);
  if (sent === undefined) wrong.add('path');

  const query = queryModel(own(request, 'query'));
  if (query === undefined) wrong.add('query');
  const optionQuery = queryModel(opt('query'));
  if (optionQuery === undefined) wrong.add('options.query');

  const h1 = applyHeadersModel(defaults.headers, own(request, 'headers'), 'headers');
  if (!h1.ok) wrong.add(h1.field);
  else {
    const h2 = applyHeadersModel(h1.headers, opt('headers'), 'options.headers');
    if (!h2.ok) wrong.add(h2.field);
  }

  // The body: the request's, or the options' `json` (serialised) or `body`, given once.
  let body = own(request, 'body');
  let bodyField = 'body';
  const json = opt('json');
  const optionBody = opt('body');
  if (json !== undefined || optionBody !== undefined) {
    bodyField = json !== undefined ? 'options.json' : 'options.body';
    if ((body !== undefined && body !== null) || (json !== undefined && optionBody !== undefined))
      wrong.add(bodyField);
    else if (json !== undefined) {
      try {
        body = JSON.stringify(json);
      } catch {
        body = undefined;
      }
      if (body === undefined) wrong.add('options.json');
    } else body = optionBody;
  }
  if (!bodyTypeOk(body) || (body !== undefined && body !== null && (method === 'GET' || method === 'HEAD')))
    wrong.add(bodyField);

  const responseType = opt('responseType');
  if (responseType !== undefined && responseType !== 'buffered' && responseType !== 'stream')
    wrong.add('options.responseType');
  const redirect = opt('redirect');
  if (redirect !== undefined && !['manual', 'follow', 'error'].includes(redirect as string))
    wrong.add('options.redirect');
  const signal = opt('signal');
  if (signal !== undefined && !(signal instanceof AbortSignal)) wrong.add('options.signal');
  const maxBytes = opt('maxResponseBytes');
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && (maxBytes as number) >= 1))
    wrong.add('options.maxResponseBytes');
  const timeout = opt('timeout');
  if (timeout !== undefined && !(isNumber(timeout) && timeout > 0 && timeout <= MAX_MS))
    wrong.add('options.timeout');
  retryModel(opt('retry'), 'options.retry', wrong);

  if (wrong.size > 0) return { wrong };
  let target = sent!;
  for (const q of [query, optionQuery]) if (q !== '') target += `${target.includes('?') ? '&' : '?'}${q}`;
  const qi = target.indexOf('?');
  return {
    wrong,
    call: {
      method,
      target,
      path: qi < 0 ? target : target.slice(0, qi),
      timeout: (timeout as number | undefined) ?? defaults.requestTimeout,
      maxResponseBytes: (maxBytes as number | undefined) ?? defaults.maxResponseBytes,
      redirect: (redirect as string | undefined) ?? defaults.redirect,
      stream: responseType === 'stream',
    },
  };
}

/** `RetryOptions` (API.md): maxAttempts required, 1–100; the rest optional and typed. */
export function retryModel(retry: unknown, field: string, wrong: Set<string>): void {
  if (retry === undefined || !shape(retry, RETRY_KEYS, field, wrong)) return;
  const maxAttempts = own(retry, 'maxAttempts');
  if (!(
    Number.isInteger(maxAttempts) &&
    (maxAttempts as number) >= 1 &&
    (maxAttempts as number) <= MAX_ATTEMPTS
  ))
    wrong.add(`${field}.maxAttempts`);
  const retryOn = own(retry, 'retryOn');
  if (retryOn !== undefined && typeof retryOn !== 'function') wrong.add(`${field}.retryOn`);
  const perAttempt = own(retry, 'timeoutPerAttempt');
  if (perAttempt !== undefined && !(isNumber(perAttempt) && perAttempt > 0 && perAttempt <= MAX_MS))
    wrong.add(`${field}.timeoutPerAttempt`);
  for (const flag of ['retryNonIdempotent', 'respectRetryAfter']) {
    const v = own(retry, flag);
    if (v !== undefined && typeof v !== 'boolean') wrong.add(`${field}.${flag}`);
  }
  const backoff = own(retry, 'backoff');
  const bf = `${field}.backoff`;
  if (backoff === undefined || !shape(backoff, BACKOFF_KEYS, bf, wrong)) return;
  const delay = (k: string): number | undefined => {
    const v = own(backoff, k);
    if (v === undefined) return undefined;
    if (isNumber(v) && v >= 0 && v <= MAX_MS) return v;
    wrong.add(`${bf}.${k}`);
    return undefined;
  };
  const initial = delay('initialDelay');
  const max = delay('maxDelay');
  if (initial !== undefined && max !== undefined && initial > max) wrong.add(`${bf}.initialDelay`);
  const multiplier = own(backoff, 'multiplier');
  if (multiplier !== undefined && !(isNumber(multiplier) && multiplier >= 1)) wrong.add(`${bf}.multiplier`);
  const jitter = own(backoff, 'jitter');
  if (jitter !== undefined && !['full', 'equal', 'decorrelated', 'none'].includes(jitter as string))
    wrong.add(`${bf}.jitter`);
}
