import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, map, of, timeout, type Observable, type Subscription } from 'rxjs';
import type { ClientHealth } from '../client/health.js';
import { invalidArgument } from '../errors.js';
import { onEvents } from '../events/bus.js';
import type { CallEvent } from '../events/events.js';
import {
  checkOptions,
  describeValue,
  optionalDuration,
  optionalPositiveDuration,
} from '../internal/validate.js';
import { ASSETS, pageHtml, SECURITY_HEADERS } from './page.js';
import {
  DEFAULT_MAX_SLOW_CALLS,
  DEFAULT_SLOW_CALL_MS,
  MAX_SLOW_CALLS_LIMIT,
  SlowCalls,
} from './slow-calls.js';
import { sendEvents, type SseCounters } from './sse.js';
import { toDashboardView, type DashboardView } from './view-model.js';

/** Interface the dashboard binds to unless told otherwise: loopback, never the network. */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
/** Least time between two updates on `/events`, ms. @defaultValue 1_000 */
export const DEFAULT_UPDATE_INTERVAL_MS = 1_000;
/** Longest wait for a view to render into the page; `client.health$` replays at once. */
const FIRST_VIEW_WAIT_MS = 1_000;
const HTML_TYPE = 'text/html; charset=utf-8';
/** Interval of the comment heartbeat on `/events`, ms. @defaultValue 15_000 */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Options of `serveDashboard`. */
export interface DashboardOptions {
  /** TCP port; 0 or absent picks a free one (read it from `url`). */
  readonly port?: number;
  /** Interface to bind. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Least time between two updates on `/events`, ms; positive. @defaultValue 1_000 */
  readonly updateIntervalMs?: number;
  /** Interval of the comment heartbeat that keeps `/events` open through proxies, ms; positive. @defaultValue 15_000 */
  readonly heartbeatMs?: number;
  /**
   * A call that took at least this long, ms, has its timeline kept and shown under "slow calls"
   * (needs the source's `events$`, which a `Client` has); 0 keeps every call's. @defaultValue 1_000
   */
  readonly slowCallMs?: number;
  /** How many slow calls' timelines are kept and shown, the newest; 1 to 100. @defaultValue 10 */
  readonly maxSlowCalls?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** Where the page is, e.g. `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** Ends every event stream and connection and stops the server; resolves once it is closed. */
  close(): Promise<void>;
}

/** What the dashboard reads: anything with a `health$`, such as a `Client`. */
export interface HealthSource {
  /** Replays the current view to each subscriber, as `client.health$` does. */
  readonly health$: Observable<ClientHealth>;
  /**
   * One client's events: when present, the dashboard follows them from `serveDashboard` to `close`
   * and shows the last slow calls' timelines.
   */
  readonly events$?: Observable<CallEvent>;
}

const OPTION_KEYS = ['port', 'host', 'updateIntervalMs', 'heartbeatMs', 'slowCallMs', 'maxSlowCalls'];
/** A dashboard's live counts: its event streams, and the calls its slow-call fold follows now. */
interface DashboardCounters extends SseCounters {
  readonly followedCalls: number;
}
const counters = new WeakMap<Dashboard, DashboardCounters>();

/**
 * Live counts of a dashboard's event streams and their subscriptions, and of the calls its slow-call
 * fold follows. Internal, for leak checks in specs; not part of the `rxhttp/dashboard` entry.
 */
export function dashboardCounters(dashboard: Dashboard): Readonly<DashboardCounters> {
  const c = counters.get(dashboard);
  if (c === undefined) throw invalidArgument('dashboard', 'not a dashboard');
  return c;
}

/**
 * Serves the live dashboard of `client` over node:http: the page at `/`, Server-Sent Events at
 * `/events` and the current view at `/snapshot.json`. Resolves once the server listens.
 *
 * Binds 127.0.0.1 unless `host` says otherwise; there is no authentication, so expose it to a
 * network only behind something that adds it. While bound to loopback, requests naming another host
 * (DNS rebinding) are refused.
 *
 * @example
 * ```ts
 * import { serveDashboard } from 'rxhttp/dashboard';
 * const dashboard = await serveDashboard(client, { port: 9464 });
 * console.log(`dashboard at ${dashboard.url}`);
 * await dashboard.close();
 * ```
 */
export async function serveDashboard(
  client: HealthSource,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  checkOptions(options, OPTION_KEYS, 'options');
  if (typeof client !== 'object' || client === null || typeof client.health$?.subscribe !== 'function')
    throw invalidArgument('client', 'must be a Client (or have a health$ Observable)');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw invalidArgument('options.port', 'must be an integer from 0 to 65535');
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  if (typeof host !== 'string' || host === '')
    throw invalidArgument('options.host', 'must be a non-empty string');
  const timing = {
    updateIntervalMs:
      optionalPositiveDuration(options.updateIntervalMs, 'options.updateIntervalMs') ??
      DEFAULT_UPDATE_INTERVAL_MS,
    heartbeatMs: optionalPositiveDuration(options.heartbeatMs, 'options.heartbeatMs') ?? DEFAULT_HEARTBEAT_MS,
  };

  const slowCallMs = optionalDuration(options.slowCallMs, 'options.slowCallMs') ?? DEFAULT_SLOW_CALL_MS;
  const maxSlowCalls = options.maxSlowCalls ?? DEFAULT_MAX_SLOW_CALLS;
  if (!Number.isInteger(maxSlowCalls) || maxSlowCalls < 1 || maxSlowCalls > MAX_SLOW_CALLS_LIMIT)
    throw invalidArgument(
      'options.maxSlowCalls',
      `must be an integer from 1 to ${MAX_SLOW_CALLS_LIMIT} (got ${describeValue(maxSlowCalls)})`,
    );
  const events$ = client.events$;
  if (events$ !== undefined && typeof events$?.subscribe !== 'function')
    throw invalidArgument('client.events$', 'must be an Observable of the client’s events');

  // Followed for the dashboard's life, so a page opened later still shows the slow calls before it.
  const slow =
    events$ === undefined ? undefined : new SlowCalls({ thresholdMs: slowCallMs, keep: maxSlowCalls });
  const view$: Observable<DashboardView> = client.health$.pipe(
    map((h) => toDashboardView(h, slow && { thresholdMs: slowCallMs, calls: slow.calls })),
  );
  const stats: SseCounters = { streams: 0, subscriptions: 0 };
  const streams = new Set<() => void>();
  const loopback = isLoopback(host);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (loopback && !isLoopbackHostHeader(req.headers.host)) return reply(res, 421, 'misdirected request\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return reply(res, 405, 'method not allowed\n');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/events') {
      const end = sendEvents(res, view$, timing, stats);
      streams.add(end);
      res.once('close', () => streams.delete(end));
      return;
    }
    if (path === '/snapshot.json') {
      firstValueFrom(view$).then(
        (view) => reply(res, 200, JSON.stringify(view), 'application/json; charset=utf-8'),
        () => reply(res, 503, 'no health view\n'),
      );
      return;
    }
    if (path === '/') {
      // The page carries the current snapshot; a source with no view yet gets the bare shell.
      firstValueFrom(view$.pipe(timeout({ first: FIRST_VIEW_WAIT_MS, with: () => of(undefined) }))).then(
        (view) => reply(res, 200, pageHtml(view), HTML_TYPE),
        () => reply(res, 200, pageHtml(undefined), HTML_TYPE),
      );
      return;
    }
    const asset = path === undefined ? undefined : ASSETS.get(path);
    if (asset === undefined) return reply(res, 404, 'not found\n');
    reply(res, 200, asset.body, asset.contentType);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listen: a dashboard that failed to start follows nothing.
  const following: Subscription | undefined = slow && onEvents(events$!, (e) => slow.onEvent(e));
  following?.add(() => slow?.clear());
  const address = server.address() as AddressInfo;
  const urlHost =
    address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const dashboard: Dashboard = {
    url: `http://${urlHost}:${address.port}/`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        following?.unsubscribe();
        for (const end of [...streams]) end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
  counters.set(
    dashboard,
    Object.defineProperty(stats, 'followedCalls', { get: () => slow?.followed ?? 0 }) as DashboardCounters,
  );
  return dashboard;
}

function reply(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('cache-control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `Host` of a request to a loopback server: a loopback name or address, with any port. */
function isLoopbackHostHeader(value: string | undefined): boolean {
  if (value === undefined) return true; // HTTP/1.0 clients send none; nothing to rebind.
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(value.toLowerCase());
  if (m === null) return false;
  const name = m[1]!;
  return name === '[::1]' || isLoopback(name);
}
