/**
 * `rxhttp/angular`: rxhttp's resilience for Angular's `HttpClient`, as a functional interceptor
 * built from `rxhttp/operators`. Browser-safe: it imports no Node built-in and no undici, so the
 * same interceptor runs in the browser and in server-side rendering. Angular 21 or 22
 * (`@angular/core` and `@angular/common`, optional peers). For routing `http://group/...` URLs of
 * a server-side app through an rxhttp `Client`, see `rxhttp/angular/server`.
 *
 * @example
 * ```ts
 * import { rxhttpInterceptor } from 'rxhttp/angular';
 * provideHttpClient(withFetch(), withInterceptors([rxhttpInterceptor({ retry: { maxAttempts: 3 } })]));
 * ```
 *
 * @packageDocumentation
 */
export { rxhttpInterceptor } from './interceptor.js';
export { OriginBreakers, DEFAULT_MAX_ORIGINS, type OriginBreakersOptions } from './origin-breakers.js';
export { defaultHttpRetryOn, type HttpAttemptOutcome } from './outcome.js';
export type { HttpRetryOptions, RxHttpInterceptorOptions } from './options.js';
