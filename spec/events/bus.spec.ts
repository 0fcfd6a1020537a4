import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, onEvents } from '../../lib/events/bus.js';
import { addressKey, type CallEvent } from '../../lib/events/events.js';

/**
 * An event that counts every look at it (a property read, a key listing, an `in` test), so a spec can
 * tell whether the bus did any work on an event: copying, inspecting or serialising it all show up.
 */
function watchedEvent(time: number): { event: CallEvent; touches: () => number } {
  let touches = 0;
  const target: CallEvent = { type: 'resolver-update', time, group: 'g', addresses: [] };
  const event = new Proxy(target, {
    get(t, p, r) {
      touches++;
      return Reflect.get(t, p, r) as unknown;
    },
    ownKeys(t) {
      touches++;
      return Reflect.ownKeys(t);
    },
    has(t, p) {
      touches++;
      return Reflect.has(t, p);
    },
    getOwnPropertyDescriptor(t, p) {
      touches++;
      return Reflect.getOwnPropertyDescriptor(t, p);
    },
  });
  return { event, touches: () => touches };
}

test('EventBus does no work on an event while nobody listens', () => {
  const bus = new EventBus();
  const idle = watchedEvent(1);
  bus.emit(idle.event);
  assert.equal(idle.touches(), 0, 'the event was not read, copied or kept');

  // Subscribe and leave again: the bus is back to doing nothing with events.
  let calls = 0;
  const sub = bus.events$.subscribe(() => calls++);
  const fast = onEvents(bus.events$, () => calls++);
  sub.unsubscribe();
  fast.unsubscribe();
  const after = watchedEvent(2);
  bus.emit(after.event);
  assert.equal(calls, 0, 'no listener called after unsubscribe');
  assert.equal(after.touches(), 0, 'the event was not read after everyone left');
});

test('EventBus hands each listener the very event, once, in subscription order, while subscribed', () => {
  const bus = new EventBus();
  const order: string[] = [];
  const seen: CallEvent[] = [];
  const a = bus.events$.subscribe((e) => {
    order.push('a');
    seen.push(e);
  });
  const b = onEvents(bus.events$, (e) => {
    order.push('b');
    seen.push(e);
  });
  const first = watchedEvent(1);
  bus.emit(first.event);
  assert.deepEqual(order, ['a', 'b']);
  assert.ok(
    seen.every((e) => e === first.event),
    'the same object, not a copy',
  );
  assert.equal(first.touches(), 0, 'listeners that read nothing: the bus read nothing either');

  a.unsubscribe();
  bus.emit(watchedEvent(2).event);
  assert.deepEqual(order, ['a', 'b', 'b'], 'only the remaining listener');
  b.unsubscribe();
  bus.emit(watchedEvent(3).event);
  assert.deepEqual(order, ['a', 'b', 'b']);
});

test('EventBus after complete(): subscribers complete, later emits reach nobody', () => {
  const bus = new EventBus();
  let calls = 0;
  let completed = 0;
  bus.events$.subscribe({ next: () => calls++, complete: () => completed++ });
  bus.complete();
  assert.equal(completed, 1);
  bus.events$.subscribe({ next: () => calls++, complete: () => completed++ });
  assert.equal(completed, 2, 'a late subscriber completes at once');
  const late = watchedEvent(1);
  bus.emit(late.event);
  assert.equal(calls, 0);
  assert.equal(late.touches(), 0);
});

test('addressKey brackets IPv6 hosts', () => {
  assert.equal(addressKey({ host: '127.0.0.1', port: 80 }), '127.0.0.1:80');
  assert.equal(addressKey({ host: '::1', port: 80 }), '[::1]:80');
});
