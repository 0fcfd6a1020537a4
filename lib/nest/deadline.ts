import {
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { withDeadline } from '../client/deadline.js';
import { invalidArgument } from '../errors.js';
import { DEFAULT_DEADLINE_HEADER, parseDeadlineHeader } from '../resilience/deadline.js';
import { RXHTTP_MODULE_OPTIONS } from './options.js';

/** What {@link RxHttpDeadlineInterceptor} reads of its options (the module's options fit). */
export interface RxHttpDeadlineOptions {
  /** The header to read; `false` reads none. @defaultValue 'x-rxhttp-deadline-ms' */
  readonly deadlineHeader?: string | false;
}

/**
 * The server half of deadline propagation: an incoming HTTP request's deadline header (whole ms,
 * as rxhttp clients send it) becomes the deadline of every rxhttp call made while handling it —
 * `RxHttpService`, `client.fetch`, any client — shrunk by the time spent since it arrived, and sent
 * on, so a chain of services shares one deadline as gRPC's does. A call's own longer `timeout` is
 * cut to it; a shorter one stands. A deadline already past fails calls at once with `TIMEOUT`.
 *
 * The header is validated, never trusted to crash: digits only; absent, empty, negative, signed,
 * fractional or repeated values are ignored (no deadline); values past 2147483647 are clamped. Any
 * client can send it, so it can only shorten your outgoing calls: strip it at your edge if callers
 * outside your system should not.
 *
 * Register it app-wide with `RxHttpModule.forRoot({ incomingDeadline: true, … })`, or yourself:
 *
 * @example
 * ```ts
 * app.useGlobalInterceptors(new RxHttpDeadlineInterceptor());
 * // or, on one controller:
 * @UseInterceptors(RxHttpDeadlineInterceptor)
 * ```
 */
@Injectable()
export class RxHttpDeadlineInterceptor implements NestInterceptor {
  /** The header read, lower case; undefined when turned off. */
  readonly header: string | undefined;

  constructor(@Optional() @Inject(RXHTTP_MODULE_OPTIONS) options?: RxHttpDeadlineOptions) {
    const h = options?.deadlineHeader;
    if (h !== undefined && h !== false && typeof h !== 'string')
      throw invalidArgument('deadlineHeader', 'must be a header name or false');
    this.header = h === false ? undefined : (h ?? DEFAULT_DEADLINE_HEADER).toLowerCase();
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const header = this.header;
    if (header === undefined || context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<{ headers?: Record<string, unknown> } | undefined>();
    const ms = parseDeadlineHeader(req?.headers?.[header]);
    if (ms === undefined) return next.handle();
    // Nest binds the handler to the async context current when handle() is called: call it inside.
    return withDeadline(ms, () => next.handle());
  }
}
