import { XhttpError, TimeoutError, type ErrorCode, type TimeoutPhase } from '../errors.js';
import type { Address } from '../types.js';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EADDRINUSE',
]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const PROTOCOL_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
  'UND_ERR_NOT_SUPPORTED',
]);
const TIMEOUT_CODES: Record<string, TimeoutPhase> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
  ETIMEDOUT: 'connect',
};

// Messages are ours: undici's and Node's may echo header names or values back.
const MESSAGES: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: 'invalid request',
  NO_ADDRESS: 'no address',
  FAIL_FAST: 'circuit open',
  OVERLOADED: 'group overloaded',
  TIMEOUT: 'timeout',
  CONNECT: 'connection failed',
  RESET: 'connection reset',
  ABORTED: 'request aborted',
  RESPONSE_TOO_LARGE: 'response too large',
  PROTOCOL: 'malformed HTTP response',
};

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Maps an undici or Node error to an {@link XhttpError}. `sent` tells whether the request reached
 * a connected socket: a failure before that provably reached no server and maps to `CONNECT`,
 * which makes it safe to retry even for POST.
 */
export function mapTransportError(err: unknown, address: Address, sent: boolean): XhttpError {
  if (err instanceof XhttpError) return err;
  const code = codeOf(err);
  const timeoutPhase = TIMEOUT_CODES[code];
  if (timeoutPhase)
    return new TimeoutError(sent && timeoutPhase === 'connect' ? 'headers' : timeoutPhase, 0, {
      cause: err,
      address,
    });
  let mapped: ErrorCode;
  // Destroyed or closed dispatchers: the client is closing, which aborts what it still has in flight.
  if (
    code === 'UND_ERR_ABORTED' ||
    code === 'UND_ERR_ABORT' ||
    code === 'ABORT_ERR' ||
    code === 'UND_ERR_DESTROYED' ||
    code === 'UND_ERR_CLOSED'
  )
    mapped = 'ABORTED';
  else if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') mapped = 'RESPONSE_TOO_LARGE';
  else if (code === 'UND_ERR_INVALID_ARG') mapped = 'INVALID_ARGUMENT';
  else if (!sent) mapped = 'CONNECT';
  else if (CONNECT_CODES.has(code)) mapped = 'CONNECT';
  else if (RESET_CODES.has(code)) mapped = 'RESET';
  else if (PROTOCOL_CODES.has(code) || code.startsWith('HPE_') || (err as Error)?.name === 'HTTPParserError')
    mapped = 'PROTOCOL';
  // Anything else once the request was on the wire (TLS alerts included) is a broken connection.
  else mapped = 'RESET';
  const detail = code === '' ? '' : ` (${code})`;
  return new XhttpError(mapped, `${MESSAGES[mapped]}${detail}`, { cause: err, address });
}
