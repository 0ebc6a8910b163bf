/**
 * The one structured logger of the API and the worker: JSON lines (pino), phone numbers masked in every message
 * and field, secrets redacted by key.
 */
import pino from 'pino';
import { maskPhonesIn } from '../src/phone';

export type Logger = pino.Logger;

function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhonesIn(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: maskPhonesIn(value.message) };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, depth + 1)]));
}

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['password', '*.password', 'apiKey', '*.apiKey', 'authorization', '*.authorization', 'key'],
        censor: '[secret]',
      },
      hooks: {
        // Mask phone numbers in the message and in every argument, whatever its shape.
        logMethod(args, method) {
          method.apply(this, args.map((a) => maskDeep(a)) as Parameters<typeof method>);
        },
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
