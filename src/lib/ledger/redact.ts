/** The placeholder that replaces a secret value. */
export const REDACTED = '[redacted]'

const SECRET_NAME = /secret|token|password|passwd|api_key|private_key|mnemonic|authorization/i
// Names that only describe a secret (its id, digest, size or count) and are safe to record.
const SAFE_SUFFIX = /(_id|_sha256|_bytes|_count)$/i
// `--api-key`, `-password`, `--private-key=…`: a command-line flag, with an optional inline value.
const FLAG = /^--?([A-Za-z][A-Za-z0-9_-]*)(=.*)?$/s
// `API_TOKEN=…` in an argv or env list.
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/

/** Whether a key or flag name names a secret (SPEC §1.11); `token_id`, `secret_sha256` etc. do not. */
export function isSecretName(name: string): boolean {
  // Flags spell words with dashes (`--api-key`); the rule is written with underscores.
  const normalised = name.replace(/-/g, '_')
  return SECRET_NAME.test(normalised) && !SAFE_SUFFIX.test(normalised)
}

/**
 * Returns a copy of `value` with secrets replaced by "[redacted]" (SPEC §1.11 "Secrets never enter
 * a payload"): object members whose key names a secret, at any depth, and in arrays of strings
 * (argv, env) the value after a secret flag (`--password x`), the inline value of `--token=x`, and
 * `API_TOKEN=x` assignments. The input is not modified.
 */
export function redactPayload<T>(value: T): T {
  return redact(value) as T
}

function redact(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return redactArray(value)
  const proto = Object.getPrototypeOf(value) as unknown
  // Dates and other non-plain objects are left for canonicalJson to serialise or refuse.
  if (proto !== Object.prototype && proto !== null) return value
  const out: Record<string, unknown> = {}
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretName(key) && member !== undefined ? REDACTED : redact(member)
  }
  return out
}

function redactArray(items: readonly unknown[]): unknown[] {
  const out: unknown[] = new Array(items.length)
  let redactNext = false
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    if (typeof item !== 'string') {
      out[i] = redact(item)
      redactNext = false
      continue
    }
    if (redactNext) {
      out[i] = REDACTED
      redactNext = false
      continue
    }
    out[i] = redactArgument(item)
    const flag = FLAG.exec(item)
    // A secret flag without an inline value takes the next element as its value.
    redactNext = flag !== null && flag[2] === undefined && isSecretName(flag[1] as string)
  }
  return out
}

function redactArgument(arg: string): string {
  const flag = FLAG.exec(arg)
  if (flag) return flag[2] !== undefined && isSecretName(flag[1] as string) ? `${arg.slice(0, arg.indexOf('='))}=${REDACTED}` : arg
  const assignment = ASSIGNMENT.exec(arg)
  if (assignment && isSecretName(assignment[1] as string)) return `${assignment[1]}=${REDACTED}`
  return arg
}
