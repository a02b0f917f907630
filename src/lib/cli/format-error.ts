import {EXIT, type OsmodaError} from '../errors.js'

/** An error as humans read it on stderr: what happened, the hint, the details; a stack only for bugs. */
export function formatError(error: OsmodaError): string {
  let text = `Error: ${error.message}\n`
  if (error.hint) text += `Hint: ${error.hint}\n`
  if (Array.isArray(error.details) && error.details.length) text += error.details.map((d) => `  - ${String(d)}\n`).join('')
  if (error.exitCode === EXIT.BUG && error.cause instanceof Error && error.cause.stack) text += `${error.cause.stack}\n`
  return text
}
