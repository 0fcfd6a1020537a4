import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import type { CallEvent } from '../../lib/events/events.js';
import { attachMetrics } from '../../lib/observability/metrics.js';
import {
  binaryRequirement,
  feedSampleWorkload,
  requireBinary,
  sampleSources,
} from '../helpers/prometheus.js';

const promtool = binaryRequirement('promtool');

/** Runs `promtool check metrics` with `text` on stdin; bounded so a hung binary cannot stall the run. */
function checkMetrics(binary: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, output }));
    proc.stdin.end(text);
  });
}

describe('promtool check metrics', () => {
  it('finds no problem in the registry output', { skip: promtool.skip }, async () => {
    const binary = requireBinary(promtool, 'promtool');
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, sampleSources);
    feedSampleWorkload(events$);
    const text = await registry.metrics();
    sub.unsubscribe();

    for (const name of [
      'http_client_request_duration_seconds',
      'http_client_active_requests',
      'rxhttp_circuit_breaker_state',
    ]) {
      assert.ok(text.includes(`# TYPE ${name} `), `${name} is exposed`);
    }
    const { code, output } = await checkMetrics(binary, text);
    assert.equal(output.trim(), '', 'promtool reports nothing');
    assert.equal(code, 0);
  });
});
