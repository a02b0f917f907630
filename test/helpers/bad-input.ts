import {describe, expect, it} from 'vitest'
import {openLedger} from '../../src/lib/ledger/ledger.js'
import {rawRequest, type RawResponse} from './raw-request.js'

/** Who sends a bad request: a real token, none at all, or a well-formed token nobody issued. */
export type BadInputRole = 'operator' | 'agent' | 'none' | 'bogus'

/**
 * One row of a route's bad-input table (STYLE.md: `{name, input, wantStatus, wantCode}`).
 * `body` is sent as is when it is a string or a Buffer (malformed JSON, exact bytes) and as JSON
 * otherwise; no body means no Content-Type either.
 */
export interface BadInputCase {
  name: string
  /** Defaults to POST. */
  method?: string
  path: string
  /** The route a parameterised path exercises, for coverage checks. */
  route?: string
  /** Defaults to the table's `defaultRole` (operator unless it says otherwise). */
  role?: BadInputRole
  /** Sent after the defaults, so a case can override Content-Type. */
  headers?: Record<string, string>
  body?: unknown
  wantStatus: number
  /** The stable error code; '' for a row that must succeed (wantStatus < 400). */
  wantCode: string
}

/** Rows of one route: method and path are given once. */
export function onRoute(method: string, path: string, rows: Omit<BadInputCase, 'method' | 'path'>[]): BadInputCase[] {
  return rows.map((row) => ({method, path, ...row}))
}

/** Sends one case and returns the raw answer. */
export type BadInputSend = (c: BadInputCase) => Promise<RawResponse>

/** A well-formed operator token that no installation issued. */
export const BOGUS_TOKEN = `osm_op_${'x'.repeat(43)}`

/**
 * The usual sender: the daemon's Unix socket, `Authorization` from the case's role, Content-Type
 * JSON when there is a body, and `substitute` applied to the path and the body text (for ids that
 * exist only once the daemon runs, written as placeholders in the table).
 */
export function socketSender(options: {
  socket: () => string
  token: (role: 'operator' | 'agent') => string
  defaultRole?: BadInputRole
  /** Extra headers of agent-role requests, e.g. `x-osmoda-agent-id`. */
  agentHeaders?: Record<string, string>
  substitute?: (text: string) => string
}): BadInputSend {
  const substitute = options.substitute ?? ((text: string) => text)
  return (c) => {
    const role = c.role ?? options.defaultRole ?? 'operator'
    const auth: Record<string, string> = role === 'none' ? {} : {authorization: `Bearer ${role === 'bogus' ? BOGUS_TOKEN : options.token(role)}`}
    const raw = c.body === undefined ? undefined : typeof c.body === 'string' || Buffer.isBuffer(c.body) ? c.body : JSON.stringify(c.body)
    const body = typeof raw === 'string' ? substitute(raw) : raw
    const headers: Record<string, string> = {
      ...auth,
      ...(role === 'agent' ? options.agentHeaders : {}),
      ...(body === undefined ? {} : {'content-type': 'application/json'}),
      ...c.headers,
    }
    return rawRequest(options.socket(), c.method ?? 'POST', substitute(c.path), {headers, body})
  }
}

/** The number of events in the ledger file, read directly: a refused request must not add one. */
export function ledgerSize(ledgerDb: string): number {
  const ledger = openLedger(ledgerDb, {readonly: true})
  try {
    return ledger.size()
  } finally {
    ledger.close()
  }
}

/** What a table checks besides the envelope. */
export interface BadInputTableOptions<S> {
  send: BadInputSend
  /** A snapshot of everything a refused request must not change (ledger size, rows, files); compared before and after each case. */
  state?: () => S | Promise<S>
  /** Extra assertions of one case, run after the envelope checks. */
  check?: (res: RawResponse, c: BadInputCase) => void | Promise<void>
  /** Per-test timeout in ms. */
  timeout?: number
}

/**
 * A `describe` with one test per case: the stable status, and for an error the envelope
 * `{error: {code, message, details?}}` with `details` listed for VALIDATION_FAILED, no stack trace,
 * and `state()` unchanged (ARCHITECTURE §8).
 */
export function badInputTable<S>(describeName: string, cases: readonly BadInputCase[], options: BadInputTableOptions<S>): void {
  describe(describeName, () => {
    it.each(cases)('$name → $wantStatus $wantCode', async (c) => {
      // Given the state that a refused request must leave alone
      const before = options.state ? await options.state() : undefined
      // When the request is sent
      const res = await options.send(c)
      // Then the status and code are the stable ones, no stack trace, nothing changed
      const label = `${c.name}: ${res.text.slice(0, 300)}`
      expect(res.status, label).toBe(c.wantStatus)
      expect(res.text, label).not.toMatch(/\n\s+at /)
      if (c.wantStatus >= 400) {
        expect(res.body?.error?.code, label).toBe(c.wantCode)
        expect(typeof res.body.error.message, label).toBe('string')
        if (c.wantCode === 'VALIDATION_FAILED') expect(Array.isArray(res.body.error.details), label).toBe(true)
      }
      await options.check?.(res, c)
      if (options.state) expect(await options.state(), `${c.name}: state changed`).toEqual(before)
    }, options.timeout)
  })
}
