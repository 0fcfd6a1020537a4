import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promises as dnsPromises } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCI } from './ci-env.js';

/** Where Debian's `dnsmasq-base` installs the binary. */
export const DNSMASQ_BIN = process.env['DNSMASQ_BIN'] ?? '/usr/sbin/dnsmasq';

/**
 * Why the DNS specs cannot run here, or `undefined` when they can. Under CI ({@link isCI}) a missing
 * binary throws instead, so CI fails rather than skipping.
 */
export function dnsmasqMissing(): string | undefined {
  if (existsSync(DNSMASQ_BIN)) return undefined;
  const message = `dnsmasq not found at ${DNSMASQ_BIN}: install the Debian package dnsmasq-base (apt-get install dnsmasq-base)`;
  if (isCI()) throw new Error(message);
  return message;
}

/** Records served by a {@link Dnsmasq}. */
export interface DnsmasqRecords {
  /** `ip name…` lines of the hosts file (A/AAAA), rewritten with {@link Dnsmasq.setHosts}. */
  readonly hosts?: readonly string[];
  /**
   * `txt-record=NAME,"TEXT"` entries; an array of texts makes one record of several strings
   * (as a TXT record over 255 bytes arrives), for specs of chunk joining.
   */
  readonly txt?: readonly { readonly name: string; readonly text: string | readonly string[] }[];
  /** `--srv-host=NAME,TARGET,PORT,PRIORITY,WEIGHT` entries. */
  readonly srv?: readonly {
    readonly name: string;
    readonly target: string;
    readonly port: number;
    readonly priority: number;
    readonly weight: number;
  }[];
}

/** A real dnsmasq on 127.0.0.1 at a random high port, authoritative for `.test`. */
export interface Dnsmasq {
  readonly port: number;
  /** `127.0.0.1:PORT`, for `dnsServers`. */
  readonly server: string;
  /** The full command line used (for the README and failure messages). */
  readonly argv: readonly string[];
  /** The conf file's lines (TXT and SRV records). */
  readonly conf: readonly string[];
  /** Rewrites the hosts file and sends SIGHUP (dnsmasq re-reads it and clears its cache). */
  setHosts(lines: readonly string[]): void;
  /** SIGSTOP: the server stops answering (queries time out). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Kills dnsmasq and waits for it to exit; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const MAX_START_TRIES = 10;

/** Starts dnsmasq, retrying on another random port when the chosen one is taken. */
export async function startDnsmasq(records: DnsmasqRecords): Promise<Dnsmasq> {
  let lastError: unknown;
  for (let i = 0; i < MAX_START_TRIES; i++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    try {
      return await startOn(port, records);
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`dnsmasq did not start after ${MAX_START_TRIES} tries`, { cause: lastError });
}

async function startOn(port: number, records: DnsmasqRecords): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'rxhttp-dnsmasq-'));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, (records.hosts ?? []).join('\n') + '\n');
  // TXT and SRV records go in a conf file: only there does dnsmasq honour quotes (a quoted TXT
  // text is one string, commas included; on the command line a comma starts a new string).
  const confFile = join(dir, 'dnsmasq.conf');
  const conf = [
    ...(records.txt ?? []).map(
      (t) =>
        `txt-record=${t.name},${(typeof t.text === 'string' ? [t.text] : t.text).map((x) => `"${x}"`).join(',')}`,
    ),
    ...(records.srv ?? []).map((s) => `srv-host=${s.name},${s.target},${s.port},${s.priority},${s.weight}`),
  ];
  writeFileSync(confFile, conf.join('\n') + '\n');
  const argv = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--conf-file=${confFile}`,
    `--addn-hosts=${hostsFile}`,
    '--local=/test/',
    '--local-ttl=1',
    `--pid-file=${join(dir, 'pid')}`,
    '--user=root',
    '--group=root',
    '--log-facility=-',
  ];
  const child = spawn(DNSMASQ_BIN, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 10_000) stderr += c.toString('utf8');
  });
  // A spawn error emits 'error' and possibly no 'exit': either one ends the wait.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let running = true;
  void exited.then(() => (running = false));
  // Should a spec crash before its after hook, dnsmasq must not outlive the test process.
  const killOnExit = (): void => {
    if (running) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const cleanup = async (): Promise<void> => {
    if (running) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(killer);
    }
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when it answers (an NXDOMAIN for a probe name is an answer).
  const probe = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  let ready = false;
  for (let i = 0; i < 50 && running && !ready; i++) {
    try {
      await probe.resolve4('probe.test');
      ready = true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') ready = true;
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!ready) {
    await cleanup();
    throw new Error(`dnsmasq on port ${port} did not answer: ${stderr.trim()}`);
  }

  return {
    port,
    server: `127.0.0.1:${port}`,
    argv: [DNSMASQ_BIN, ...argv],
    conf,
    setHosts(lines) {
      writeFileSync(hostsFile, lines.join('\n') + '\n');
      child.kill('SIGHUP');
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: cleanup,
  };
}
