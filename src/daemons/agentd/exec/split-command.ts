import {UsageError} from '../../../lib/errors.js'

/** Most words a command may split into (the same bound as an `argv` list). */
export const MAX_ARGV_ITEMS = 256

const SHELL_HINT = 'Pass `shell: true` to run the command with /bin/sh -c, or pass `argv` as a list of plain words.'

// Characters that start shell syntax outside quotes: a command here is never given to a shell, so
// accepting them as plain text would run something other than what the caller wrote.
const OPERATORS: Record<string, string> = {
  '|': 'a pipe (|)',
  ';': 'a command separator (;)',
  '&': 'a background or && operator (&)',
  '<': 'a redirection (<)',
  '>': 'a redirection (>)',
  '(': 'a subshell or process substitution (()',
  ')': 'a subshell ())',
  '`': 'a command substitution (`)',
  '\n': 'a newline (a second command)',
}

// `$(`, `${`, `$name`, `$1`, `$?` …: expansions a shell would perform.
const EXPANSION = /^\$[({A-Za-z0-9_@*#?$!-]/

function syntaxError(what: string, offset: number): UsageError {
  return new UsageError(`command contains ${what} at offset ${offset}; it is split into words, never run by a shell`, {
    details: [`command: ${what} at offset ${offset}`],
    hint: SHELL_HINT,
  })
}

/**
 * Splits a command line into argv with POSIX word rules and nothing else: blanks separate words,
 * single quotes keep everything literally, double quotes keep everything but `\"`, `\\`, `\$`,
 * `` \` `` and line continuations, and a backslash outside quotes escapes the next character. No
 * expansion happens (no globs, `~` or variables); shell operators, expansions and newlines
 * outside single quotes are refused with a hint to use `shell: true` or `argv`.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  const push = () => {
    if (inWord) words.push(word)
    if (words.length > MAX_ARGV_ITEMS) throw new UsageError(`command splits into more than ${MAX_ARGV_ITEMS} words`, {details: [`command: at most ${MAX_ARGV_ITEMS} words`]})
    word = ''
    inWord = false
  }
  while (i < command.length) {
    const c = command[i] as string
    if (c === '\0') throw new UsageError('command contains a NUL byte', {details: ['command: NUL bytes are not allowed']})
    if (c === ' ' || c === '\t') {
      push()
      i++
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1)
      if (end < 0) throw new UsageError(`command has an unterminated single quote at offset ${i}`, {details: [`command: unterminated ' at offset ${i}`]})
      word += command.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      const {text, next} = readDoubleQuoted(command, i)
      word += text
      inWord = true
      i = next
    } else if (c === '\\') {
      if (i + 1 >= command.length) throw new UsageError('command ends with a lone backslash', {details: ['command: trailing \\ escapes nothing']})
      // A backslash-newline is a line continuation: both disappear.
      if (command[i + 1] !== '\n') {
        word += command[i + 1]
        inWord = true
      }
      i += 2
    } else if (c in OPERATORS) {
      throw syntaxError(OPERATORS[c] as string, i)
    } else if (c === '$' && EXPANSION.test(command.slice(i, i + 2))) {
      throw syntaxError(`an expansion (${command.slice(i, i + 2)})`, i)
    } else if (c === '#' && !inWord) {
      throw syntaxError('a comment (#)', i)
    } else {
      word += c
      inWord = true
      i++
    }
  }
  push()
  if (words.length === 0) throw new UsageError('command is empty', {details: ['command: no words to run']})
  if (words[0] === '') throw new UsageError('command names an empty program', {details: ['command: the first word is empty']})
  return words
}

/** Reads `"…"` starting at `start`; returns its text and the index after the closing quote. */
function readDoubleQuoted(command: string, start: number): {text: string; next: number} {
  let text = ''
  let i = start + 1
  while (i < command.length) {
    const c = command[i] as string
    if (c === '"') return {text, next: i + 1}
    if (c === '\0') throw new UsageError('command contains a NUL byte', {details: ['command: NUL bytes are not allowed']})
    if (c === '\\' && i + 1 < command.length) {
      const n = command[i + 1] as string
      if (n === '\n') {
        i += 2
        continue
      }
      if (n === '"' || n === '\\' || n === '$' || n === '`') {
        text += n
        i += 2
        continue
      }
    }
    if (c === '`') throw syntaxError('a command substitution (`)', i)
    if (c === '$' && EXPANSION.test(command.slice(i, i + 2))) throw syntaxError(`an expansion (${command.slice(i, i + 2)})`, i)
    text += c
    i++
  }
  throw new UsageError(`command has an unterminated double quote at offset ${start}`, {details: [`command: unterminated " at offset ${start}`]})
}

/** argv as a command line a POSIX shell would split back into the same words (for summaries). */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ')
}
