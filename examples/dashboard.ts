// The README's dashboard snippet: a client with a few calls behind it, its dashboard served on a
// free loopback port, one read of /snapshot.json, then everything closed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddressGroup, Client } from 'rxhttp';

const backend = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const group = new AddressGroup(`static://127.0.0.1:${(backend.address() as AddressInfo).port}`);
const client = new Client();
for (let i = 0; i < 10; i++) await (await client.get(group, '/')).body.dump();

// #region readme
import { serveDashboard, type DashboardView } from 'rxhttp/dashboard';

// Resolves once listening; host defaults to 127.0.0.1, port 0 picks a free one (9464, say, in production).
const dashboard = await serveDashboard(client, { port: 0 });
console.log(`dashboard at ${dashboard.url}`);
const view = (await (await fetch(`${dashboard.url}snapshot.json`)).json()) as DashboardView; // the current view
console.log(`${view.groups.length} group(s), ${view.callsPerSecond} calls/s`);
await dashboard.close(); // ends every event stream and the server
// #endregion readme

await client.close();
group.close();
backend.close();
