// Structured logs: JSON lines (default, one event per line with object keys) or a compact
// human text form for terminals.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function textStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          const { time, level, msg, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const kv = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          out.write(`${new Date(Number(time)).toISOString()} ${LEVELS[Number(level)] ?? level} ${msg ?? ''}${kv ? ` ${kv}` : ''}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      cb();
    },
  });
}

export function makeLogger(format: string, level: string, dest: NodeJS.WritableStream = process.stderr): Logger {
  if (format !== 'json' && format !== 'text') throw new Error(`--log-format must be json or text, not "${format}"`);
  const stream = format === 'text' ? textStream(dest) : dest;
  return pino({ level, base: { pid: undefined, hostname: undefined }, timestamp: pino.stdTimeFunctions.epochTime }, stream);
}
