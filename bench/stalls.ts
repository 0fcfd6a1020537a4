/**
 * The machine's own pauses while nothing else runs: an idle child process ticks every 1 ms and
 * counts ticks 5 ms or more late (`startStallMonitor`). The baseline of the "machine stalls" line
 * under each balance table.
 *
 *   npx tsx bench/stalls.ts [--seconds 20]
 */
import { arg, fmt, sleep, startStallMonitor, watchdog } from './util.js';

const SECONDS = Math.min(120, Math.max(1, Number(arg('seconds') ?? 20) || 20));

async function main(): Promise<void> {
  watchdog(SECONDS + 30, 'stalls');
  const monitor = startStallMonitor();
  try {
    await monitor.take();
    await sleep(SECONDS * 1_000);
    const s = await monitor.take();
    console.log(
      `Idle machine, ${fmt(s.seconds, 1)} s: ${s.count} ticks late by ≥ 5 ms ` +
        `(${fmt(s.count / s.seconds, 2)} per s), longest ${fmt(s.maxMs, 1)} ms.`,
    );
  } finally {
    monitor.stop();
  }
}

await main();
