// The README's custom resolver, against a loopback stand-in for a service registry (Consul's
// catalog API shape) and a loopback backend: `npm run check:consumer` type-checks and runs it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'rxhttp';

const backend = createServer((_req, res) => res.end('hello from users'));
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const backendPort = (backend.address() as AddressInfo).port;

// The registry lists the backend as the only node of every service.
const registryServer = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify([{ Address: '127.0.0.1', ServicePort: backendPort }]));
});
await new Promise<void>((resolve) => registryServer.listen(0, '127.0.0.1', resolve));
const registry = `http://127.0.0.1:${(registryServer.address() as AddressInfo).port}`;

// #region readme
import { interval, switchMap, map, startWith } from 'rxjs';
import { registerResolver, AddressGroup } from 'rxhttp';

// `registry`: Consul's HTTP API, 'http://127.0.0.1:8500' say (a loopback stand-in in examples/custom-resolver.ts).
registerResolver({
  scheme: 'registry',
  resolve: (url) =>
    interval(10_000).pipe(
      startWith(0),
      switchMap(() => fetch(`${registry}/v1/catalog/service/${url.hostname}`)),
      switchMap((res) => res.json() as Promise<{ Address: string; ServicePort: number }[]>),
      map((nodes) => nodes.map((n) => ({ host: n.Address, port: n.ServicePort }))),
    ),
});
const users = new AddressGroup('registry://users');
// #endregion readme

const client = new Client();
const res = await client.get(users, '/');
console.log(res.status, await res.body.text());
await client.close();
users.close(); // ends the resolver's interval
backend.close();
registryServer.close();
