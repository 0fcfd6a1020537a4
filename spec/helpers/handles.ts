/**
 * Active handles that matter for leak checks (sockets, timers, servers), by kind. A CloseReq is a
 * handle already being closed, not a leak: on a loaded CI run a `before` snapshot caught nine still
 * in flight, and the clean `after` then failed the comparison (spec/nest/nest.spec.ts, Node 24).
 * File-system requests (FSReqCallback, FSReqPromise) are the module loader's and the test runner's
 * reads in flight (rxhttp does no file I/O): a `before` snapshot caught four on Node 24 the same way.
 */
export function activeResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter(
      (r) =>
        r !== 'TTYWrap' &&
        r !== 'PipeWrap' &&
        r !== 'FSReqCallback' &&
        r !== 'FSReqPromise' &&
        r !== 'CloseReq',
    );
}

/** Counts of each resource kind. */
export function resourceCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of activeResources()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Waits a few turns of the event loop so closed sockets and timers are released. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  await new Promise((r) => setImmediate(r));
}
