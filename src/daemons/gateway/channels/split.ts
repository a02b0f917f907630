/** The longest message Telegram and WhatsApp accept, in characters. */
export const MAX_MESSAGE_CHARS = 4096

/**
 * Splits a reply into parts of at most `max` characters, cutting at the last paragraph break
 * inside the window, else the last line break, else the last space, else hard (never inside a
 * surrogate pair). Whitespace at the cut is dropped; empty parts are never produced.
 */
export function splitMessage(text: string, max = MAX_MESSAGE_CHARS): string[] {
  if (max < 2) throw new RangeError('max must be at least 2')
  const parts: string[] = []
  let rest = text.trim()
  while (rest.length > max) {
    const window = rest.slice(0, max + 1)
    let cut = lastBreak(window, '\n\n', max)
    if (cut <= 0) cut = lastBreak(window, '\n', max)
    if (cut <= 0) cut = lastBreak(window, ' ', max)
    if (cut <= 0) cut = isHighSurrogate(rest.charCodeAt(max - 1)) ? max - 1 : max
    const part = rest.slice(0, cut).trimEnd()
    if (part !== '') parts.push(part)
    rest = rest.slice(cut).trimStart()
  }
  if (rest !== '') parts.push(rest)
  return parts
}

/** Index of the last `sep` that starts at or before `max` (so the text before it fits), or -1. */
function lastBreak(window: string, sep: string, max: number): number {
  return window.lastIndexOf(sep, max)
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}
