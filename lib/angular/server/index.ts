/**
 * `rxhttp/angular/server`: Angular on the server (SSR) calling its backends through an rxhttp
 * `Client`. `HttpClient` requests to a named group (`http://users/...`) get balancing, breakers,
 * retries and metrics; everything else goes to Angular's own backend. Imports the Node client
 * (undici), so keep it out of browser bundles: provide it in the server config only
 * (`app.config.server.ts`). The browser-safe interceptor is `rxhttp/angular`.
 *
 * @example
 * ```ts
 * import { provideRxHttp } from 'rxhttp/angular/server';
 * const serverConfig: ApplicationConfig = {
 *   providers: [provideServerRendering(), provideRxHttp({ groups: { users: 'static://10.0.0.1:8080' } })],
 * };
 * ```
 *
 * @packageDocumentation
 */
export { provideRxHttp, RXHTTP_CLIENT, type ProvideRxHttpConfig, type RxHttpGroupSpec } from './provide.js';
export { RxHttpBackend } from './backend.js';
