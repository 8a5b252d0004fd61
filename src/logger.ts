import { type Logger, pino } from "pino";

/** Structured JSON logs on stderr (stdout stays free for command output such as `lab`'s table). */
export function createLogger(level: string, name = "lb-operator"): Logger {
  return pino(
    { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
}
