import type {Logger} from '../../lib/log.js'

/** The revocation list as egress sees it. */
export interface Revocations {
  /** True when a refresh succeeded within the stale window; tokens are refused otherwise. */
  fresh(): boolean
  isRevoked(jti: string): boolean
}

/** Options of the poller; `fetch` is agentd's GET /capability/revoked through the typed client. */
export interface RevocationPollerOptions {
  fetch: (signal: AbortSignal) => Promise<{revoked: {token_id: string}[]}>
  log: Logger
  now?: () => number
  intervalMs?: number
  staleMs?: number
}

/**
 * Keeps agentd's revocation list (SPEC §2.9 step 4): fetched at start and every 10 s. Until the
 * first fetch succeeds, and whenever none has for 60 s, `fresh()` is false and egress refuses every
 * token with `revocations_stale` (fail closed).
 */
export function createRevocationPoller(options: RevocationPollerOptions): Revocations & {start(signal: AbortSignal): void; refresh(signal?: AbortSignal): Promise<boolean>} {
  const now = options.now ?? Date.now
  const intervalMs = options.intervalMs ?? 10_000
  const staleMs = options.staleMs ?? 60_000
  let revoked = new Set<string>()
  let lastSuccess: number | null = null
  let failing = false

  const refresh = async (signal: AbortSignal = new AbortController().signal): Promise<boolean> => {
    try {
      const list = await options.fetch(signal)
      revoked = new Set(list.revoked.map((r) => r.token_id))
      lastSuccess = now()
      if (failing) options.log.info('revocation list refreshed again', {revoked: revoked.size})
      failing = false
      return true
    } catch (error) {
      if (!failing) options.log.warn('cannot fetch the revocation list from agentd; tokens are refused once it is stale', {error: (error as Error).message})
      failing = true
      return false
    }
  }

  return {
    fresh: () => lastSuccess !== null && now() - lastSuccess <= staleMs,
    isRevoked: (jti) => revoked.has(jti),
    refresh,
    start(signal) {
      let timer: NodeJS.Timeout | null = null
      const tick = async () => {
        await refresh(signal)
        if (!signal.aborted) timer = setTimeout(() => void tick(), intervalMs)
      }
      signal.addEventListener('abort', () => timer && clearTimeout(timer), {once: true})
      void tick()
    },
  }
}
