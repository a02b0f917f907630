/** Log levels in increasing severity. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/** One of the four log levels. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Structured logger: one JSON object per line on stderr, never stdout (stdout is for results). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

/** Creates a logger writing JSON lines at or above `level`. */
export function createLogger(options: {level?: LogLevel; fields?: Record<string, unknown>; write?: (line: string) => void} = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info')
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const base = options.fields ?? {}
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return
    write(`${JSON.stringify({ts: new Date().toISOString(), level, ...base, msg, ...fields}, errorReplacer)}\n`)
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({...options, fields: {...base, ...fields}}),
  }
}

/** A logger that drops everything (tests, quiet commands). */
export const silentLogger: Logger = createLogger({write: () => {}})

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return {name: value.name, message: value.message, code: (value as {code?: unknown}).code}
  if (typeof value === 'bigint') return value.toString()
  return value
}
