/**
 * `rxhttp/dashboard`: a live page of a client's groups, hosts and breakers (fed by Server-Sent
 * Events from `client.health$`), and the timelines of its last slow calls (from `client.events$`).
 *
 * @example
 * ```ts
 * import { Client } from 'rxhttp';
 * import { serveDashboard } from 'rxhttp/dashboard';
 * const client = new Client();
 * const dashboard = await serveDashboard(client); // binds 127.0.0.1, a free port
 * console.log(`dashboard at ${dashboard.url}`);
 * ```
 */
export { serveDashboard, DEFAULT_DASHBOARD_HOST } from './server.js';
export type { Dashboard, DashboardOptions, HealthSource } from './server.js';
export { errorColor } from './view-model.js';
export type { DashboardView, GroupView, HostView, TrafficView } from './view-model.js';
export type { SlowCallView, TimelineEntryView } from './timeline-view.js';
export { DEFAULT_SLOW_CALL_MS, DEFAULT_MAX_SLOW_CALLS } from './slow-calls.js';
