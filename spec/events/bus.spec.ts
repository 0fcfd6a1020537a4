import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../lib/events/bus.js';
import { addressKey, type CallEvent } from '../../lib/events/events.js';

test('EventBus delivers to subscribers and skips work when none listen', () => {
  const bus = new EventBus();
  assert.equal(bus.observed, false);
  const seen: CallEvent[] = [];
  const sub = bus.events$.subscribe((e) => seen.push(e));
  assert.equal(bus.observed, true);
  bus.emit({ type: 'resolver-update', time: 1, group: 'g', addresses: [] });
  sub.unsubscribe();
  bus.emit({ type: 'resolver-update', time: 2, group: 'g', addresses: [] });
  assert.equal(seen.length, 1);
  assert.equal(bus.observed, false);
});

test('addressKey brackets IPv6 hosts', () => {
  assert.equal(addressKey({ host: '127.0.0.1', port: 80 }), '127.0.0.1:80');
  assert.equal(addressKey({ host: '::1', port: 80 }), '[::1]:80');
});
