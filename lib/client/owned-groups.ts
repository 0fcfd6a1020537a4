import type { Client } from './client.js';

/** Anything a client can close along with itself: an `AddressGroup`. */
interface Closable {
  close(): void;
}

/**
 * Groups a client closes when it closes: the ones built on its behalf (the Nest module's groups from
 * target strings; the client's own per-origin groups it closes itself). A group the user built and
 * handed in stays the user's to close: it may be shared with other clients.
 */
const owned = new WeakMap<Client, Set<Closable>>();

/**
 * Hands `group` to `client`: `client.close()` closes it too. For code that builds groups on the
 * client's behalf (the Nest module).
 */
export function adoptGroup(client: Client, group: Closable): void {
  let set = owned.get(client);
  if (set === undefined) {
    set = new Set();
    owned.set(client, set);
  }
  set.add(group);
}

/** Closes and forgets every group handed to `client` with {@link adoptGroup}. Called by `close()`. */
export function closeOwnedGroups(client: Client): void {
  const set = owned.get(client);
  if (set === undefined) return;
  owned.delete(client);
  for (const g of set) g.close();
}
