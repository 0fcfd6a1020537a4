/**
 * The cost of decoding a 64 KiB gzip body: rxhttp (client.get, client.fetch) beside undici's
 * fetch and Node's global fetch decoding the same, and rxhttp with `decompress: false` (the same
 * transfer, no decoding) as the floor. Client CPU per request, c = 16, interleaved rounds, medians.
 *
 *   npx tsx bench/decode.ts [--rounds N]
 */
import { fetch as undiciFetch, Agent } from 'undici';
import { arg, closedLoop, dist, fmt, median, startServer, table } from './util.js';

type Rxhttp = typeof import('../lib/index.js');

const ROUNDS = Number(arg('rounds') ?? 7);
const LOAD = { concurrency: 16, count: 2_000, maxMs: 3_000 };

async function main(): Promise<void> {
  const server = await startServer([{ delayMs: 0 }]);
  const port = server.ports[0]!;
  const url = `http://127.0.0.1:${port}/gzip64`;
  const rx = await dist<Rxhttp>('index');
  const client = new rx.Client({ connections: 16 });
  const group = new rx.AddressGroup(`static://127.0.0.1:${port}`);
  client.register('bench', group);
  const agent = new Agent({ connections: 16 });
  const expected = (await (await fetch(url)).arrayBuffer()).byteLength;
  const contenders: [string, () => Promise<unknown>][] = [
    ['global fetch (Node)', async () => (await fetch(url)).arrayBuffer()],
    ['undici fetch (package)', async () => (await undiciFetch(url, { dispatcher: agent })).arrayBuffer()],
    ['rxhttp client.get', async () => (await client.get(group, '/gzip64')).body.bytes()],
    ['rxhttp client.fetch', async () => (await client.fetch('http://bench/gzip64')).arrayBuffer()],
    [
      'rxhttp decompress: false',
      async () => (await client.get(group, '/gzip64', { decompress: false })).body.bytes(),
    ],
  ];
  const got = (await (await client.fetch('http://bench/gzip64')).arrayBuffer()).byteLength;
  if (got !== expected) throw new Error(`decoded ${got} bytes, fetch ${expected}`);
  const cpu = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
  for (const [, call] of contenders) await closedLoop(call, { ...LOAD, count: 300 }); // warm-up
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, call] of contenders) {
      const res = await closedLoop(call, LOAD);
      if (res.errors > 0) throw new Error(`${name}: ${res.errors} errors`);
      cpu.get(name)!.push((res.userUs + res.systemUs) / res.completed);
    }
  const floor = median(cpu.get('rxhttp decompress: false')!);
  const ref = median(cpu.get('undici fetch (package)')!);
  console.log(
    `64 KiB JSON body (${expected} bytes decoded), gzip on the wire; c = 16, ${ROUNDS} rounds of ${LOAD.count}\n`,
  );
  console.log(
    table(
      ['contender', 'client CPU µs/req', 'decode cost µs (− no-decode floor)', '× undici fetch'],
      contenders.map(([n]) => {
        const m = median(cpu.get(n)!);
        return [n, fmt(m), fmt(m - floor), fmt(m / ref, 2)];
      }),
    ),
  );
  await client.close();
  group.close();
  await agent.close();
  await server.stop();
}

void main();
