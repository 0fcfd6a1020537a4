import { createHook } from 'node:async_hooks';

/**
 * Counts TCP sockets opened in this process since `start` and not yet closed. Idle pooled
 * sockets are unref'd by undici, so `process.getActiveResourcesInfo()` alone would miss a client
 * that was never closed; async_hooks sees every socket handle until it is destroyed.
 */
export class SocketProbe {
  readonly #open = new Set<number>();
  readonly #hook = createHook({
    init: (id, type) => {
      if (type === 'TCPWRAP' || type === 'TCPCONNECTWRAP') this.#open.add(id);
    },
    destroy: (id) => {
      this.#open.delete(id);
    },
  });

  static start(): SocketProbe {
    const probe = new SocketProbe();
    probe.#hook.enable();
    return probe;
  }

  /** Sockets (and pending connects) opened since start and still alive. */
  get open(): number {
    return this.#open.size;
  }

  stop(): void {
    this.#hook.disable();
  }
}
