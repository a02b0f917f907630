import {useCallback, useState} from 'react'
import {OsmodaError} from '../../errors.js'
import type {TuiApproval, TuiApprovalDetail, TuiSources} from '../sources.js'
import {usePolled, type Polled} from './use-polled.js'

/** The outcome of the last decision, shown under the panel. */
export interface DecisionMessage {
  tone: 'ok' | 'error'
  text: string
}

/** Pending approvals and the operator's decisions on them. */
export interface Approvals {
  pending: Polled<TuiApproval[]>
  message: DecisionMessage | null
  deciding: boolean
  decide(id: string, decision: 'approve' | 'deny'): Promise<void>
  detail(id: string): Promise<TuiApprovalDetail | null>
}

/** Polls the pending approvals (and refreshes on each `approval.*` event); decides with the operator token. */
export function useApprovals(sources: TuiSources, options: {intervalMs?: number; trigger?: unknown} = {}): Approvals {
  const [message, setMessage] = useState<DecisionMessage | null>(null)
  const [deciding, setDeciding] = useState(false)
  const [decided, setDecided] = useState(0)
  const read = useCallback(() => sources.pendingApprovals(), [sources])
  const pending = usePolled(read, options.intervalMs ?? 2000, `${String(options.trigger)}:${decided}`)

  const decide = useCallback(
    async (id: string, decision: 'approve' | 'deny') => {
      setDeciding(true)
      try {
        const result = await sources.decide(id, decision, 'decided in osmoda tui')
        setMessage({tone: 'ok', text: `${id} ${result.status} by ${result.decided_by ?? 'operator'}`})
      } catch (error) {
        const code = error instanceof OsmodaError ? `${error.code}: ` : ''
        setMessage({tone: 'error', text: `${decision} ${id} failed: ${code}${error instanceof Error ? error.message : String(error)}`})
      } finally {
        setDeciding(false)
        setDecided((n) => n + 1)
      }
    },
    [sources],
  )

  const detail = useCallback(
    async (id: string) => {
      try {
        return await sources.approvalDetail(id)
      } catch (error) {
        setMessage({tone: 'error', text: `cannot show ${id}: ${error instanceof Error ? error.message : String(error)}`})
        return null
      }
    },
    [sources],
  )

  return {pending, message, deciding, decide, detail}
}
