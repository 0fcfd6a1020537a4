// The README's "Usage" section, run against a loopback backend so it works anywhere:
// `npm run check:consumer` type-checks and runs it against the packed library.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// A stand-in for the users service: every request gets a small JSON answer.
const backend = createServer((req, res) => {
  req.resume().on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 42, name: 'Ada', method: req.method, url: req.url }));
  });
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const port = (backend.address() as AddressInfo).port;

// #region readme
import { firstValueFrom } from 'rxjs';
import { Client, AddressGroup } from 'rxhttp';

const client = new Client({ requestTimeout: 10_000 });
const users = new AddressGroup(`static://127.0.0.1:${port}`); // examples/usage.ts serves `port` on loopback
//   or 'dns+srv://_users._tcp.service.consul', 'static://10.0.0.1:8080,10.0.0.2:8080',
//   'dns://users.internal:8080', 'dns://txt:users.internal:8080'

// Observable form: cold, one emission, unsubscribe cancels the request.
const res$ = client.get$(users, '/users/42', { retry: { maxAttempts: 3 } });
console.log((await firstValueFrom(res$)).status);

// Promise twins.
const res = await client.get(users, '/users/42', { timeout: 2_000 });
const user = await res.body.json<{ name: string }>();
await client.post(users, '/users', 'application/json', JSON.stringify({ name: 'Ada' }));
await client.postForm(users, '/login', { user: 'ada', lang: 'en' });

// Existing fetch code changes one identifier.
client.register('users', users);
const r = await client.fetch('http://users/users/42');
// Anything typed as fetch takes it: a wrapper, a library's `fetch` option.
const typedFetch = (input: RequestInfo | URL, init?: RequestInit) => client.fetch(input, init);
const r2 = await typedFetch('http://users/users/42', { signal: null });
console.log(user.name, r.status, r2.status);

await client.close(); // releases every connection, timer and subscription
users.close(); // a group you built is yours to close
// #endregion readme

backend.close();
