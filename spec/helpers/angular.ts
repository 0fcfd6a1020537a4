/**
 * A real Angular application on the server platform for specs: `createApplication` with
 * `platformServer` as its `BootstrapContext` (what SSR does per request), zoneless. Its injector has
 * every root-scoped token, which a bare `createEnvironmentInjector` lacks. Partially compiled
 * Angular packages need the JIT compiler loaded first.
 */
import '@angular/compiler';
import { HttpClient } from '@angular/common/http';
import {
  provideZonelessChangeDetection,
  type EnvironmentInjector,
  type EnvironmentProviders,
  type Provider,
} from '@angular/core';
import { createApplication } from '@angular/platform-browser';
import { INITIAL_CONFIG, platformServer } from '@angular/platform-server';

/** One application: its injector, its HttpClient, and `close()` (app, then platform; idempotent). */
export interface AngularApp {
  readonly injector: EnvironmentInjector;
  readonly http: HttpClient;
  close(): void;
}

/** Boots an application with `providers` (HttpClient among them) on a fresh server platform. */
export async function startAngularApp(
  providers: ReadonlyArray<Provider | EnvironmentProviders>,
): Promise<AngularApp> {
  const platformRef = platformServer([
    {
      provide: INITIAL_CONFIG,
      useValue: { document: '<html><body></body></html>', url: 'http://localhost/' },
    },
  ]);
  try {
    const app = await createApplication(
      { providers: [provideZonelessChangeDetection(), ...providers] },
      { platformRef },
    );
    return {
      injector: app.injector,
      http: app.injector.get(HttpClient),
      close: () => {
        // Idempotent, so a spec may close early and still register close() with t.after.
        if (!app.destroyed) app.destroy();
        if (!platformRef.destroyed) platformRef.destroy();
      },
    };
  } catch (err) {
    platformRef.destroy();
    throw err;
  }
}
