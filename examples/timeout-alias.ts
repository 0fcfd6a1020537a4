// The README's note on the two `TimeoutError`s: rxjs's (from its `timeout` operator) and rxhttp's
// (a deadline of a call), both in scope in one file. A loopback backend answers after 2 s; rxhttp's
// 200 ms call timeout and rxjs's 200 ms `timeout` operator each fail with their own class.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timeout } from 'rxjs';
import { AddressGroup, Client } from 'rxhttp';

const slow = createServer((_req, res) => {
  const timer = setTimeout(() => res.end('late'), 2_000);
  res.on('close', () => clearTimeout(timer));
});
await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
const group = new AddressGroup(`static://127.0.0.1:${(slow.address() as AddressInfo).port}`);
const client = new Client();

// #region readme
import { TimeoutError as RxTimeoutError } from 'rxjs';
import { TimeoutError } from 'rxhttp';
// #endregion readme

try {
  await client.get(group, '/', { timeout: 200 });
} catch (err) {
  console.log('rxhttp deadline:', err instanceof TimeoutError, err instanceof TimeoutError && err.phase);
}
await new Promise<void>((resolve) =>
  client
    .get$(group, '/')
    .pipe(timeout(200))
    .subscribe({
      error: (err: unknown) => (console.log('rxjs operator:', err instanceof RxTimeoutError), resolve()),
    }),
);

await client.close();
group.close();
slow.closeAllConnections();
slow.close();
