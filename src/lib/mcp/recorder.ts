import type {z} from 'zod'
import type {AgentdApi, ToolCallInput} from '../../daemons/agentd/api.js'
import {toOsmodaError} from '../errors.js'
import type {RpcClient} from '../rpc/client.js'

/** One MCP tool call as posted to agentd `POST /tool-calls` (ledgered as `tool.called`). */
export type ToolCallRecord = z.input<typeof ToolCallInput>

/** Where the MCP server sends its `tool.called` records. */
export interface ToolCallRecorder {
  /**
   * Records one call. Resolves once the record (and every buffered one before it) is durable in the
   * ledger, or once it is buffered because agentd is unreachable; never rejects.
   */
  record(entry: ToolCallRecord): Promise<void>
  /** Posts buffered records now, in order; resolves when the buffer is empty or agentd is still down. */
  flush(): Promise<void>
  /** Records waiting for agentd. */
  pending(): number
  /** Records dropped because the buffer was full. */
  dropped(): number
  /** Stops the retry timer after one last flush. */
  close(): Promise<void>
}

/** Options of createToolCallRecorder. */
export interface ToolCallRecorderOptions {
  /** agentd's client, carrying the agent's token and X-Osmoda-* headers (only `toolCalls` is used). */
  agentd: Pick<RpcClient<AgentdApi>, 'toolCalls'>
  /** Records kept while agentd is unreachable; the oldest are dropped first (SPEC §3: 1000). */
  capacity?: number
  /** Retry period while records are buffered. */
  retryMs?: number
  /** Deadline of one post; short, so a wedged agentd cannot stall every tool call. */
  postTimeoutMs?: number
  /** A line for the operator (stderr by default: stdout carries the MCP protocol). */
  log?: (line: string) => void
}

const DEFAULT_CAPACITY = 1000
const DEFAULT_RETRY_MS = 3000
const DEFAULT_POST_TIMEOUT_MS = 2000
/** Rejections that a retry cannot fix: the record itself is wrong, or this token may not write. */
const PERMANENT = new Set(['VALIDATION_FAILED', 'INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNAUTHENTICATED', 'FORBIDDEN'])

/**
 * Records tool calls in agentd's ledger, in call order. The server awaits `record()` before it
 * answers the agent, so every result the agent has seen is already durable in the ledger (a trail
 * that lags the actions it audits loses exactly the calls that matter, e.g. right before a crash).
 * The price is one synchronous-durable append over the socket (~0.5 ms here). Posting in the
 * background was measured too and was no faster for back-to-back calls: the record then competes
 * with the next call inside agentd. When agentd is unreachable the record is buffered instead
 * (bounded, oldest dropped first) and flushed in order on the next call or by an unref'd retry.
 */
export function createToolCallRecorder(options: ToolCallRecorderOptions): ToolCallRecorder {
  const capacity = options.capacity ?? DEFAULT_CAPACITY
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS
  const timeoutMs = options.postTimeoutMs ?? DEFAULT_POST_TIMEOUT_MS
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const queue: ToolCallRecord[] = []
  let droppedTotal = 0
  let droppedSinceReport = 0
  let draining: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let unreachableSince: string | undefined

  const startRetry = () => {
    if (timer) return
    timer = setInterval(() => void drain(), retryMs)
    timer.unref()
  }
  const stopRetry = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }

  const postAll = async (): Promise<void> => {
    while (queue.length) {
      const next = queue[0] as ToolCallRecord
      try {
        await options.agentd.toolCalls(next, {timeoutMs})
      } catch (thrown) {
        const error = toOsmodaError(thrown)
        if (!PERMANENT.has(error.code)) {
          if (!unreachableSince) {
            unreachableSince = error.code
            log(`osmoda mcp: cannot record tool calls (${error.code}: ${error.message}); buffering up to ${capacity} and retrying every ${retryMs} ms`)
          }
          startRetry()
          return
        }
        log(`osmoda mcp: agentd rejected a tool.called record for ${next.tool} (${error.code}: ${error.message}); dropped`)
      }
      // The cap may have pushed `next` out while it was in flight; only remove it if it is still first.
      if (queue[0] === next) queue.shift()
    }
    stopRetry()
    if (unreachableSince) {
      unreachableSince = undefined
      log(`osmoda mcp: agentd is back; buffered tool calls recorded${droppedSinceReport ? `, ${droppedSinceReport} dropped while it was away (buffer cap ${capacity})` : ''}`)
      droppedSinceReport = 0
    }
  }

  // One drain at a time keeps ledger order equal to call order when calls run concurrently.
  const drain = (): Promise<void> => {
    draining ??= postAll().finally(() => {
      draining = undefined
    })
    return draining
  }

  return {
    async record(entry) {
      if (queue.length >= capacity) {
        queue.shift()
        droppedTotal++
        droppedSinceReport++
        if (droppedSinceReport === 1 || droppedSinceReport % 100 === 0) {
          log(`osmoda mcp: tool.called buffer full (${capacity}); ${droppedSinceReport} oldest records dropped so far`)
        }
      }
      queue.push(entry)
      // Loop: a drain that was already finishing when the entry arrived may not have taken it.
      while (queue.includes(entry)) {
        // While agentd is known to be down, callers do not wait for the retry timer's post.
        if (unreachableSince && draining) return
        await drain()
        if (unreachableSince) return
      }
    },
    flush: () => drain(),
    pending: () => queue.length,
    dropped: () => droppedTotal,
    async close() {
      stopRetry()
      if (queue.length) await drain()
      stopRetry()
      if (queue.length) log(`osmoda mcp: exiting with ${queue.length} tool.called records that agentd never received`)
    },
  }
}
