import {useInput, type Key} from 'ink'
import {useCallback, useEffect, useRef, useState} from 'react'
import type {PendingDecision} from '../components/approvals-panel.js'
import type {FilterPrompt} from '../components/status-bar.js'
import type {TuiApprovalDetail} from '../sources.js'
import type {Approvals} from './use-approvals.js'
import type {LedgerTail} from './use-ledger-tail.js'

/** State whose latest value is also readable at once through a ref (set updates both). */
function useSyncedState<T>(initial: T): [T, (next: T) => void, {readonly current: T}] {
  const [value, setValue] = useState(initial)
  const ref = useRef(initial)
  const set = useCallback((next: T) => {
    ref.current = next
    setValue(next)
  }, [])
  return [value, set, ref]
}

/** What the keys have opened or selected, for the panels to render. */
export interface DashboardUi {
  help: boolean
  prompt: FilterPrompt | null
  selected: number
  confirm: PendingDecision | null
  detail: TuiApprovalDetail | null
}

/**
 * The dashboard's keys (docs/tui.md): quit, help, pause, filter prompts, approval cursor, details,
 * and approve/deny behind a y/n confirmation. Inactive without raw mode (no TTY), where Ink's
 * useInput would throw.
 */
export function useDashboardKeys(options: {tail: LedgerTail; approvals: Approvals; exit: () => void; active: boolean}): DashboardUi {
  const {tail, approvals, exit} = options
  // Keys can arrive faster than React re-renders: the handler reads the UI state from refs.
  const [help, setHelp, helpRef] = useSyncedState(false)
  const [prompt, setPrompt, promptRef] = useSyncedState<FilterPrompt | null>(null)
  const [selected, setSelected, selectedRef] = useSyncedState(0)
  const [confirm, setConfirm, confirmRef] = useSyncedState<PendingDecision | null>(null)
  const [detail, setDetail] = useState<TuiApprovalDetail | null>(null)
  const pending = approvals.pending.data ?? []
  const pendingRef = useRef(pending)
  pendingRef.current = pending

  // Keep the cursor on a row when approvals disappear (decided elsewhere, expired).
  useEffect(() => {
    if (selected > 0 && selected >= pending.length) setSelected(Math.max(0, pending.length - 1))
  }, [pending.length, selected, setSelected])

  const onPrompt = (input: string, key: Key) => {
    const prompt = promptRef.current
    if (!prompt) return
    if (key.escape) return setPrompt(null)
    if (key.return) {
      const value = prompt.text.trim() || undefined
      tail.setFilter((current) => ({...current, [prompt.field]: value}))
      return setPrompt(null)
    }
    if (key.backspace || key.delete) return setPrompt({...prompt, text: prompt.text.slice(0, -1)})
    if (input && !key.ctrl && !key.meta && /^[\x21-\x7e]+$/.test(input) && prompt.text.length < 128) setPrompt({...prompt, text: prompt.text + input})
  }

  const onKey = (input: string, key: Key) => {
    if (promptRef.current) return onPrompt(input, key)
    if (helpRef.current) {
      if (key.escape || input === '?' || input === 'q') setHelp(false)
      return
    }
    const confirm = confirmRef.current
    if (confirm) {
      if (input === 'y' || input === 'Y') {
        const {id, decision} = confirm
        setConfirm(null)
        setDetail(null)
        void approvals.decide(id, decision)
      } else if (input === 'n' || input === 'N' || key.escape) {
        setConfirm(null)
      }
      return
    }
    if (input === 'q') return exit()
    if (input === '?') return setHelp(true)
    if (key.escape) return setDetail(null)
    if (input === 'p' || input === ' ') return tail.togglePause()
    if (input === 't') return setPrompt({field: 'type', text: tail.filter.type ?? ''})
    if (input === '@') return setPrompt({field: 'actor', text: tail.filter.actor ?? ''})
    if (input === 'x') return tail.setFilter({})
    const rows = pendingRef.current
    if (key.upArrow || input === 'k') return setSelected(Math.max(0, selectedRef.current - 1))
    if (key.downArrow || input === 'j') return setSelected(Math.min(Math.max(0, rows.length - 1), selectedRef.current + 1))
    const current = rows[Math.min(selectedRef.current, rows.length - 1)]
    if (!current || approvals.deciding) return
    if (key.return) return void approvals.detail(current.id).then(setDetail)
    if (input === 'a') return setConfirm({id: current.id, decision: 'approve'})
    if (input === 'd') return setConfirm({id: current.id, decision: 'deny'})
  }

  // Without a TTY there is no raw mode: render read-only instead of crashing (Ink throws otherwise).
  useInput(onKey, {isActive: options.active})

  return {help, prompt, selected: Math.min(selected, Math.max(0, pending.length - 1)), confirm, detail}
}
