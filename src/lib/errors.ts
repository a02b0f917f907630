/** CLI exit codes (ARCHITECTURE §7). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  PERMISSION: 4,
  VERIFICATION: 5,
  BUG: 10,
  INTERRUPTED: 130,
} as const

/** HTTP status of every stable error code (SPEC §1.5). */
export const HTTP_STATUS: Record<string, number> = {
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_ADDRESS: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  POLICY_DENIED: 403,
  PATH_DENIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  SWITCH_IN_PROGRESS: 409,
  CONFIG_IMMUTABLE: 409,
  SESSION_BUSY: 409,
  CREDENTIAL_IN_USE: 409,
  PEER_NOT_CONNECTED: 409,
  APPROVAL_REQUIRED: 412,
  APPROVAL_INVALID: 412,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UPSTREAM_FAILED: 502,
  NOT_READY: 503,
  DAEMON_UNAVAILABLE: 503,
  FEATURE_DISABLED: 503,
  SANDBOX_UNAVAILABLE: 503,
  SYSTEMD_UNAVAILABLE: 503,
  NIX_UNAVAILABLE: 503,
  KEYSTORE_LOCKED: 503,
  GATEWAY_WEDGED: 503,
  GATEWAY_UNREACHABLE: 503,
  AGENT_DISCONNECTED: 503,
  UPSTREAM_TIMEOUT: 504,
}

/** Options shared by every OsmodaError constructor. */
export interface ErrorOptions {
  hint?: string
  details?: unknown
  cause?: unknown
}

/** The one error type of osmoda: a stable code, a message for humans, a hint and an exit code. */
export class OsmodaError extends Error {
  readonly code: string
  readonly hint?: string
  readonly details?: unknown
  readonly exitCode: number

  constructor(code: string, message: string, options: ErrorOptions & {exitCode?: number} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = code
    this.hint = options.hint
    this.details = options.details
    this.exitCode = options.exitCode ?? exitCodeFor(code)
  }

  /** HTTP status for this error's code (500 for unknown codes). */
  get httpStatus(): number {
    return HTTP_STATUS[this.code] ?? 500
  }

  /** The wire envelope `{error: {code, message, details?, hint?}}` (SPEC §1.5). */
  toEnvelope(): ErrorEnvelope {
    const error: ErrorEnvelope['error'] = {code: this.code, message: this.message}
    if (this.details !== undefined) error.details = this.details
    if (this.hint !== undefined) error.hint = this.hint
    return {error}
  }
}

/** The body of every non-2xx daemon response. */
export interface ErrorEnvelope {
  error: {code: string; message: string; details?: unknown; hint?: string}
}

/** Bad input from a user or client (400 / exit 2 on the CLI). */
export class UsageError extends OsmodaError {
  constructor(message: string, options: ErrorOptions & {code?: string} = {}) {
    super(options.code ?? 'VALIDATION_FAILED', message, {...options, exitCode: EXIT.USAGE})
  }
}

/** A resource or route that does not exist. */
export class NotFoundError extends OsmodaError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('NOT_FOUND', message, options)
  }
}

/** The resource is in a state that forbids the action. */
export class ConflictError extends OsmodaError {
  constructor(message: string, options: ErrorOptions & {code?: string} = {}) {
    super(options.code ?? 'CONFLICT', message, options)
  }
}

/** No token, unknown token, or a role that may not call the route. */
export class PermissionDeniedError extends OsmodaError {
  constructor(code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'POLICY_DENIED' | 'PATH_DENIED', message: string, options: ErrorOptions = {}) {
    super(code, message, {...options, exitCode: EXIT.PERMISSION})
  }
}

/** A gated request that waits for the operator (412 APPROVAL_REQUIRED). */
export class ApprovalRequiredError extends OsmodaError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('APPROVAL_REQUIRED', message, options)
  }
}

/** A daemon socket that cannot be reached. */
export class DaemonUnavailableError extends OsmodaError {
  constructor(daemon: string, message?: string, options: ErrorOptions = {}) {
    super('DAEMON_UNAVAILABLE', message ?? `osmoda-${daemon} is not reachable`, {
      hint: `systemctl status osmoda-${daemon} (or start the local stack with \`osmoda up\`)`,
      ...options,
      details: options.details ?? {daemon},
      exitCode: EXIT.UNREACHABLE,
    })
  }
}

/** The ledger chain or a checkpoint failed verification. */
export class VerificationError extends OsmodaError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('VERIFICATION_FAILED', message, {...options, exitCode: EXIT.VERIFICATION})
  }
}

/** A bug in osmoda: something that should not happen. */
export class BugError extends OsmodaError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('INTERNAL', message, {...options, exitCode: EXIT.BUG})
  }
}

/** The CLI exit code that a stable error code maps to (SPEC §1.5). */
export function exitCodeFor(code: string): number {
  if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'POLICY_DENIED' || code === 'PATH_DENIED') return EXIT.PERMISSION
  if (code === 'DAEMON_UNAVAILABLE') return EXIT.UNREACHABLE
  if (code === 'VERIFICATION_FAILED') return EXIT.VERIFICATION
  if (code === 'INTERNAL') return EXIT.BUG
  if (code === 'INVALID_JSON' || code === 'VALIDATION_FAILED') return EXIT.USAGE
  return EXIT.FAILURE
}

/** Any thrown value as an OsmodaError; unknown errors become INTERNAL. */
export function toOsmodaError(error: unknown): OsmodaError {
  if (error instanceof OsmodaError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new BugError(message, {cause: error})
}
