import type {z} from 'zod'
import {OsmodaError} from '../errors.js'

/** The `path: message` strings of SPEC §1.5 for a zod error. */
export function issueList(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(body)'
    return `${path}: ${issue.message}`
  })
}

/** A 400 VALIDATION_FAILED error from a zod error. */
export function validationError(error: z.ZodError): OsmodaError {
  const details = issueList(error)
  return new OsmodaError('VALIDATION_FAILED', `invalid request: ${details.slice(0, 3).join('; ')}${details.length > 3 ? ' …' : ''}`, {details})
}
