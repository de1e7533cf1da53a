import { pino, type Logger } from 'pino';
import { readEnv } from './config/env.ts';

export type { Logger };

/** The process-wide structured logger: JSON lines, or pino-pretty when VIGIL_LOG_FORMAT=pretty. */
export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  const env = readEnv();
  const options = { level: env.VIGIL_LOG_LEVEL, base: { pid: process.pid, ...bindings } };
  if (env.VIGIL_LOG_FORMAT === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}
