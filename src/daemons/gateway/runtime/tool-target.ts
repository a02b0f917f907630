/** Longest tool target shown in frames, history and receipts (SPEC §2.10). */
export const MAX_TARGET_CHARS = 200

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string')

/** What a tool call acts on: its command (with args/argv), else its path, else its url; null if none. */
export function toolTarget(input: unknown): string | null {
  if (!isObject(input)) return null
  if (typeof input.command === 'string' && input.command !== '') {
    const args = isStrings(input.args) ? input.args : isStrings(input.argv) ? input.argv : []
    return [input.command, ...args].join(' ')
  }
  if (isStrings(input.command) && input.command.length > 0) return input.command.join(' ')
  if (isStrings(input.argv) && input.argv.length > 0) return input.argv.join(' ')
  for (const key of ['path', 'file_path', 'url']) {
    const value = input[key]
    if (typeof value === 'string' && value !== '') return value
  }
  return null
}

/** Cuts a target to MAX_TARGET_CHARS (ending in …) and flattens newlines. */
export function shortenTarget(target: string | null): string | null {
  if (target === null) return null
  const flat = target.replace(/\s*\n\s*/g, ' ')
  return flat.length <= MAX_TARGET_CHARS ? flat : `${flat.slice(0, MAX_TARGET_CHARS - 1)}…`
}
