/**
 * `npm run demo`: why rxhttp exists, in under a minute. Five loopback backends (two healthy, one
 * slow, one failing 30 % of calls with fast 503s, one that dies half way and comes back) take the
 * same scripted load twice: round robin with no retry and no breaker, then p2c-ewma with retry and
 * circuit breakers. A progress bar runs on stderr, the live dashboard is served meanwhile, and a
 * side-by-side table ends it.
 *
 *   npm run demo                     # about 30 s, then exits
 *   npm run demo -- --keep           # then keeps both clients under light load for the dashboard (Ctrl-C)
 *   npm run demo -- --seconds 6 --port 9464
 */
import { parseArgs } from 'node:util';
import { runDemo } from './run.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      keep: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      rate: { type: 'string' },
      port: { type: 'string' },
    },
  });
  let stopped = false;
  const onSignal = () => {
    if (stopped) process.exit(130); // a second Ctrl-C does not wait for the clean-up
    stopped = true;
    process.stderr.write('\nstopping…\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runDemo({
      keep: values.keep ?? false,
      stop: () => stopped,
      ...(values.seconds !== undefined ? { seconds: Number(values.seconds) } : {}),
      ...(values.rate !== undefined ? { rate: Number(values.rate) } : {}),
      ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    });
    if (!result.won && !stopped) {
      console.error('\nunexpected: resilience did not beat round robin this time (a very busy machine?)');
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
