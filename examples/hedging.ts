// The README's "Tail latency: hedged requests" section, against two loopback backends so it runs
// anywhere: `npm run check:consumer` type-checks and runs it against the packed library.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// Two stand-ins for a service: each answers in 2 ms, except one request in ten, answered in 400 ms.
const backends = [0, 1].map(() => {
  let n = 0;
  return createServer((req, res) => {
    req.resume();
    setTimeout(() => res.end('{"id":42}'), ++n % 10 === 0 ? 400 : 2);
  });
});
for (const b of backends) await new Promise<void>((resolve) => b.listen(0, '127.0.0.1', resolve));
const [a, b] = backends.map((s) => (s.address() as AddressInfo).port);

// #region readme
import { Client, AddressGroup } from 'rxhttp';

// Every idempotent call: after 20 ms without an answer, the same request goes to another host too;
// the first answer wins and the other is cancelled. At most 5 % extra requests (the hedge budget).
const client = new Client({ hedge: { delay: 20, maxExtraLoad: 0.05 } });
const users = new AddressGroup(`static://127.0.0.1:${a},127.0.0.1:${b}`);

let slowest = 0;
let hedged = 0;
for (let i = 0; i < 200; i++) {
  const res = await client.get(users, '/users/42');
  await res.body.text();
  slowest = Math.max(slowest, res.timeline.durationMs ?? 0);
  if (res.timeline.entries.some((e) => e.kind === 'hedge')) hedged++;
}
// The budget starts empty and fills with calls (5 % of them), so the first slow answers are waited for.
console.log(`200 calls, ${hedged} hedged, slowest ${Math.round(slowest)} ms`);
// 'auto' hedges at the group's live p95 (1 - maxExtraLoad) once it has 100 latencies; `hedge: false` opts a call out.
await client.get(users, '/users/42', { hedge: { delay: 'auto' } }).then((r) => r.body.text());
await client.close();
users.close();
// #endregion readme
for (const s of backends) s.close();
