import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type EventLogOutput, type LedgerEventOut} from '../daemons/agentd/api.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import {EXIT, OsmodaError} from '../lib/errors.js'
import type {RpcClient} from '../lib/rpc/client.js'

const RECONNECT_MS = 1000
const RECONNECT_CODES = new Set(['DAEMON_UNAVAILABLE', 'NOT_READY'])

type Page = z.output<typeof EventLogOutput>
type Event = z.output<typeof LedgerEventOut>

export default class Events extends OsmodaCommand<Page | undefined> {
  static override summary = 'Show ledger events, or follow them live.'
  static override description = `Without --follow prints the newest events (or those after --after, oldest first).
With --follow streams new events until Ctrl-C, reconnecting and resuming by seq if agentd restarts;
with --json each event is one JSON line (NDJSON).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --limit 20',
    '<%= config.bin %> <%= command.id %> --type "tool.*" --actor agent:ops',
    '<%= config.bin %> <%= command.id %> --follow --json | jq .type',
  ]
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'Keep streaming new events (resumes after --after, default: the current head)'}),
    type: Flags.string({char: 't', description: 'Exact type (tool.called) or prefix (switch.*)'}),
    actor: Flags.string({description: 'Only events by this actor (agentd, agent:<id>, operator:<user>)'}),
    limit: Flags.integer({char: 'n', description: 'How many events (1..1000, default 50)'}),
    after: Flags.integer({description: 'Only events with a seq above this'}),
    before: Flags.integer({description: 'Only events with a seq below this', exclusive: ['follow']}),
  }

  async run(): Promise<Page | undefined> {
    const {flags} = await this.parse(Events)
    const agentd = this.client('agentd', agentdApi)
    const filter = {type: flags.type, actor: flags.actor, limit: flags.limit, after: flags.after, before: flags.before}
    if (!flags.follow) {
      const page = await agentd.eventsLog(filter)
      if (!this.jsonEnabled()) for (const event of page.events) this.log(formatEvent(event))
      return page
    }
    const controller = new AbortController()
    const interrupt = () => controller.abort()
    process.once('SIGINT', interrupt)
    process.once('SIGTERM', interrupt)
    try {
      await this.follow(agentd, filter, controller.signal)
    } finally {
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
    }
    if (controller.signal.aborted) process.exitCode = EXIT.INTERRUPTED
    return undefined
  }

  /**
   * Streams events until interrupted. When agentd goes away (restart, upgrade) it reconnects every
   * second and resumes after the last seq it printed, so nothing is missed or printed twice.
   */
  private async follow(agentd: RpcClient<typeof agentdApi>, filter: {type?: string; actor?: string; after?: number}, signal: AbortSignal): Promise<void> {
    // Resolving "the current head" once, up front, makes a reconnect resume exactly there.
    let after = filter.after ?? (await agentd.ledgerStatus()).size
    let away = false
    while (!signal.aborted) {
      try {
        for await (const item of agentd.follow('eventsLog', {...filter, after}, {signal})) {
          if ((item as {keepalive?: boolean}).keepalive) continue
          after = (item as Event).seq
          if (away) this.note('reconnected to agentd')
          away = false
          process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(item) : formatEvent(item as Event)}\n`)
        }
      } catch (error) {
        if (signal.aborted) break
        if (!(error instanceof OsmodaError) || !RECONNECT_CODES.has(error.code)) throw error
      }
      if (signal.aborted) break
      if (!away) this.note(`agentd went away; reconnecting (resuming after seq ${after})…`)
      away = true
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECONNECT_MS)
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {once: true})
      })
    }
  }
}

function formatEvent(event: Event): string {
  const payload = JSON.stringify(event.payload)
  return `${String(event.seq).padStart(6)}  ${event.ts}  ${event.type.padEnd(22)}  ${event.actor.padEnd(16)}  ${payload.length > 120 ? `${payload.slice(0, 117)}...` : payload}`
}
