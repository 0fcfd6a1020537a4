/**
 * A progress bar on stderr: redrawn in place on a terminal, a line per quarter otherwise (CI logs,
 * pipes), so the table on stdout stays clean either way.
 */
import type { Progress } from './load.js';

const WIDTH = 30;
const REDRAW_MS = 100;

/** A progress bar for one labelled run. */
export interface ProgressBar {
  update(p: Progress): void;
  done(p: Progress): void;
}

function line(label: string, p: Progress): string {
  const filled = Math.round(p.fraction * WIDTH);
  const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
  const ok = p.calls === 0 ? 100 : (100 * p.ok) / p.calls;
  return `${label.padEnd(28)} ${bar} ${String(Math.round(p.fraction * 100)).padStart(3)} %  calls ${String(p.calls).padStart(5)}  ok ${ok.toFixed(1).padStart(5)} %  in flight ${String(p.inFlight).padStart(3)}`;
}

/** Starts a bar for `label` on `stream` (default stderr). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const tty = stream.isTTY === true;
  let drawnAt = 0;
  let quarter = -1;
  return {
    update(p) {
      if (tty) {
        const now = performance.now();
        if (now - drawnAt < REDRAW_MS) return;
        drawnAt = now;
        stream.write(`\r${line(label, p)}\x1b[K`);
      } else {
        const q = Math.floor(p.fraction * 4);
        if (q > quarter && q < 4) {
          quarter = q;
          stream.write(line(label, p) + '\n');
        }
      }
    },
    done(p) {
      stream.write(tty ? `\r${line(label, p)}\x1b[K\n` : line(label, p) + '\n');
    },
  };
}
