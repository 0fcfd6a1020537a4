/** Active handles that matter for leak checks (sockets, timers, servers), by kind. */
export function activeResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
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
