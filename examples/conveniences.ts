// The README's "Conveniences and uploads" section, run against a loopback backend so it works
// anywhere: `npm run check:consumer` type-checks and runs it against the packed library.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// A stand-in for the API: every request gets a small JSON answer (404 for /missing).
const backend = createServer((req, res) => {
  req.resume().on('end', () => {
    res.statusCode = req.url?.includes('/missing') ? 404 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([{ id: 42, method: req.method, url: req.url }]));
  });
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const port = (backend.address() as AddressInfo).port;

// #region readme
import { Readable } from 'node:stream';
import { Client, AddressGroup } from 'rxhttp';

const client = new Client();
// A base path and default headers per group (call headers win over group headers, which win over the client's).
const api = new AddressGroup(`static://127.0.0.1:${port}`, { basePath: '/api/v2', headers: { 'x-team': 'core' } });

// GET /api/v2/users?role=admin&role=ops&limit=10; `ok` is a 2xx; json<T>() is typed.
const list = await client.get(api, '/users', { query: { role: ['admin', 'ops'], limit: 10 } });
if (list.ok) console.log((await list.body.json<{ id: number }[]>())[0]?.id);

await client.put(api, '/users/42', { json: { name: 'Ada' } }); // content-type: application/json
await client.patch(api, '/users/42', { json: { lang: 'en' } });
await client.post(api, '/users', { json: { name: 'Grace' } }); // or post(api, path, contentType, body)
console.log((await client.head(api, '/missing')).ok); // false: a 404 is a response, not an error
await client.delete(api, '/users/42');
await client.get(api, '/files/my report.pdf'); // sent as /api/v2/files/my%20report.pdf

// Uploads: Blob and FormData are re-sent on a retry; a stream (ReadableStream, AsyncIterable,
// a Node Readable) is sent once: never retried after its first byte has gone.
const form = new FormData();
form.append('file', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'report.csv');
await client.post(api, '/files', { body: form, retry: { maxAttempts: 3 } });
await client.put(api, '/files/log', { body: Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]) });

await client.close();
api.close();
// #endregion readme

backend.close();
