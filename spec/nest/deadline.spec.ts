import 'reflect-metadata';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { Controller, Get, HttpException, Inject, Module, Req, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom } from 'rxjs';
import { Client, isXhttpError, TimeoutError } from '../../lib/index.js';
import { RxHttpDeadlineInterceptor, RxHttpModule, RxHttpService } from '../../lib/nest/index.js';
import { waitFor } from '../helpers/loopback.js';

// Deadline propagation through three real Nest apps (platform-express) on loopback: A → B → C.
// A and B each do 50 ms of work before calling on; C never answers. The first call is given 300 ms.

const WORK_MS = 50;
const HEADER = 'x-rxhttp-deadline-ms';

interface HopRecord {
  /** The deadline header the hop received. */
  header?: string | undefined;
  /** When its own outgoing call ended (ms after the test's start), and how. */
  outEndedAt?: number;
  outcome?: string;
  /** C: when its request was closed by the caller. */
  closedAt?: number;
}

const apps: INestApplication[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

let t0 = 0;
const since = () => performance.now() - t0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One service of the chain: records what it saw; calls `next` after its work, or (C) never answers. */
async function hop(
  record: HopRecord,
  nextPort: number | undefined,
  incomingDeadline: boolean,
): Promise<number> {
  @Controller()
  class Hop {
    constructor(@Inject(RxHttpService) readonly http: RxHttpService) {}

    @Get('hop')
    async handle(@Req() req: IncomingMessage): Promise<string> {
      record.header = req.headers[HEADER] as string | undefined;
      if (nextPort === undefined) {
        await new Promise<void>((resolve) => req.once('close', resolve));
        record.closedAt = since();
        return 'never sent';
      }
      await sleep(WORK_MS);
      try {
        const res = await firstValueFrom(this.http.get('http://next/hop'));
        record.outcome = String(res.status);
      } catch (e) {
        record.outcome = isXhttpError(e) ? e.code : 'other';
      } finally {
        record.outEndedAt = since();
      }
      throw new HttpException('upstream failed', 504);
    }
  }
  @Module({
    imports: [
      RxHttpModule.forRoot({
        incomingDeadline,
        circuitBreaker: false,
        ...(nextPort === undefined ? {} : { groups: { next: `static://127.0.0.1:${nextPort}` } }),
      }),
    ],
    controllers: [Hop],
  })
  class HopModule {}
  const app = await NestFactory.create(HopModule, { logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return (app.getHttpServer().address() as AddressInfo).port;
}

test('three Nest services in a chain share one deadline: 300 ms at the first, less at the third, all done well before 1 s', async (t) => {
  const a: HopRecord = {};
  const b: HopRecord = {};
  const c: HopRecord = {};
  const portC = await hop(c, undefined, true);
  const portB = await hop(b, portC, true);
  const portA = await hop(a, portB, true);
  const client = new Client({ circuitBreaker: false });
  try {
    t0 = performance.now();
    const err = await client.request({ url: `http://127.0.0.1:${portA}/hop` }, { timeout: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(
      err instanceof TimeoutError && err.phase === 'call',
      'the first caller times out at its 300 ms',
    );
    await waitFor(
      () => a.outEndedAt !== undefined && b.outEndedAt !== undefined && c.closedAt !== undefined,
      5_000,
    );
  } finally {
    await client.close();
  }
  t.diagnostic(
    `deadline seen: A ${a.header} ms, B ${b.header} ms, C ${c.header} ms; ` +
      `A's call ended ${Math.round(a.outEndedAt!)} ms, B's ${Math.round(b.outEndedAt!)} ms (${b.outcome}), ` +
      `C's request closed ${Math.round(c.closedAt!)} ms after the start`,
  );
  const atA = Number(a.header);
  const atC = Number(c.header);
  assert.ok(atA > 0 && atA <= 300, `A was given at most 300 ms (${a.header})`);
  // A and B each spent WORK_MS before calling on: C is left at most 300 - 2 × 50 ms.
  assert.ok(
    atC > 0 && atC <= 300 - 2 * WORK_MS,
    `C sees less than 300 ms minus the time spent upstream (${c.header})`,
  );
  assert.ok(Number(b.header) > atC && Number(b.header) <= atA - WORK_MS, `B in between (${b.header})`);
  // Without propagation B would wait out its 30 s default for C: every hop is over well within 1 s.
  assert.equal(b.outcome, 'TIMEOUT', 'B gave up on C at the shared deadline');
  for (const [name, at] of [
    ['A', a.outEndedAt!],
    ['B', b.outEndedAt!],
    ['C closed', c.closedAt!],
  ] as const)
    assert.ok(at < 1_000, `${name} by ${Math.round(at)} ms, not 30 s`);
});

test('without incomingDeadline the header is not read: the downstream call keeps its own deadline', async () => {
  const b: HopRecord = {};
  const c: HopRecord = {};
  const portC = await hop(c, undefined, false);
  const portB = await hop(b, portC, false);
  const client = new Client({ circuitBreaker: false });
  try {
    t0 = performance.now();
    await client.request({ url: `http://127.0.0.1:${portB}/hop` }, { timeout: 300 }).catch(() => undefined);
    await waitFor(() => c.header !== undefined, 5_000);
  } finally {
    await client.close();
  }
  // B sent its own default deadline (30 s), not what was left of the 300 ms.
  assert.ok(Number(c.header) > 29_000, `C sees B's own deadline (${c.header})`);
});

test('the interceptor ignores a garbage, negative, signed or repeated header and clamps a huge one', async () => {
  const interceptor = new RxHttpDeadlineInterceptor();
  const { remainingDeadline } = await import('../../lib/index.js');
  const seenUnder = (value: unknown): number | undefined => {
    let seen: number | undefined;
    const ctx = {
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => ({ headers: { [HEADER]: value } }) }),
    } as never;
    interceptor.intercept(ctx, {
      handle: () => {
        seen = remainingDeadline();
        return undefined as never;
      },
    });
    return seen;
  };
  for (const bad of ['', 'abc', '-5', '+5', '1.5', '1e3', '0x10', '5, 6', ['5', '6'], undefined, 12])
    assert.equal(seenUnder(bad), undefined, `ignored: ${JSON.stringify(bad)}`);
  const huge = seenUnder('99999999999999999999999');
  assert.ok(huge !== undefined && huge > 2_147_000_000 && huge <= 2_147_483_647, 'clamped');
  const ok = seenUnder(' 250 ');
  assert.ok(ok !== undefined && ok > 200 && ok <= 250);
  assert.equal(new RxHttpDeadlineInterceptor({ deadlineHeader: false }).header, undefined);
});
