import type {Ledger} from '../../../lib/ledger/ledger.js'
import {toOsmodaError} from '../../../lib/errors.js'
import type {ChatDispatcher, SessionRef} from './dispatch.js'
import {loadSkillBody} from './skill-prompt.js'

/** Commands any allowed user may send. */
export const USER_COMMANDS = ['status', 'stop', 'new', 'skill'] as const
/** Commands only operators may send (operator-token clients, channel users in operator* lists). */
export const OPERATOR_COMMANDS = ['restart', 'rollback', 'panic'] as const

/** An intercepted slash command. */
export type CommandName = (typeof USER_COMMANDS)[number] | (typeof OPERATOR_COMMANDS)[number]

/** agentd's safety routes, called with the operator token (never gated). */
export interface SafetyCalls {
  rollback(input: {reason: string}): Promise<{from_generation: number; to_generation: number}>
  panic(input: {reason: string}): Promise<{stopping: string[]; rollback: boolean}>
  restart(): Promise<{unit: string; delay_secs: number}>
}

/** What a command resolved to: a reply for the user, or a prompt for the runtime (`/skill`). */
export type CommandOutcome = {reply: string} | {prompt: string}

/** Everything a command needs. `session()` resolves the agent lazily (it may throw AGENT_DISCONNECTED). */
export interface CommandContext {
  channel: string
  operator: boolean
  session: () => SessionRef
  dispatcher: ChatDispatcher
  safety: SafetyCalls
  skillDirs: readonly string[]
  ledger: Pick<Ledger, 'append'>
}

const COMMANDS = new Set<string>([...USER_COMMANDS, ...OPERATOR_COMMANDS])

/** The command in a message (`/stop`, `/skill name more text`, `/status@my_bot`), or null for chat text. */
export function parseCommand(text: string): {name: CommandName; args: string} | null {
  const match = /^\/([a-z]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim())
  if (!match || !COMMANDS.has(match[1] ?? '')) return null
  return {name: match[1] as CommandName, args: (match[2] ?? '').trim()}
}

/** Runs an intercepted command; errors become a reply, never a thrown error. */
export async function runCommand(command: {name: CommandName; args: string}, ctx: CommandContext): Promise<CommandOutcome> {
  const isOperatorCommand = (OPERATOR_COMMANDS as readonly string[]).includes(command.name)
  if (isOperatorCommand && !ctx.operator) {
    record(ctx, command.name, 'denied')
    return {reply: `/${command.name} is for operators only.`}
  }
  try {
    const outcome = await execute(command, ctx)
    if (command.name !== 'status') record(ctx, command.name, 'ok')
    return outcome
  } catch (error) {
    const failure = toOsmodaError(error)
    if (command.name !== 'status') record(ctx, command.name, 'error', failure.code)
    return {reply: `/${command.name} failed: ${failure.code}: ${failure.message}${failure.hint ? ` (${failure.hint})` : ''}`}
  }
}

async function execute(command: {name: CommandName; args: string}, ctx: CommandContext): Promise<CommandOutcome> {
  const reason = `/${command.name} from ${ctx.channel}${command.args ? `: ${command.args.slice(0, 400)}` : ''}`
  switch (command.name) {
    case 'status': {
      const s = await ctx.dispatcher.status(ctx.session())
      const state = !s.enabled ? 'disabled' : s.agent_wedged ? 'wedged' : s.active_request_id ? `working (${s.active_request_id})` : 'idle'
      return {reply: `Agent ${s.agent_id}: ${state}\nRuntime ${s.runtime}, model ${s.model}\nSession ${s.session_id ?? 'none yet'}`}
    }
    case 'stop':
      return {reply: (await ctx.dispatcher.stop(ctx.session())) ? 'Stopped.' : 'Nothing is running.'}
    case 'new':
      await ctx.dispatcher.resetSession(ctx.session())
      return {reply: 'New conversation started.'}
    case 'skill': {
      const [name = '', ...rest] = command.args.split(/\s+/)
      if (name === '') return {reply: 'Usage: /skill <name> [what you want]'}
      const body = loadSkillBody(name, ctx.skillDirs)
      const extra = command.args.slice(name.length).trim()
      return {prompt: rest.length > 0 && extra !== '' ? `${body}\n\n${extra}` : body}
    }
    case 'rollback': {
      const r = await ctx.safety.rollback({reason})
      return {reply: `Rolling back from generation ${r.from_generation} to ${r.to_generation}.`}
    }
    case 'panic': {
      const r = await ctx.safety.panic({reason})
      return {reply: `Panic: stopping ${r.stopping.join(', ') || 'nothing'}${r.rollback ? ', then rolling back' : ''}.`}
    }
    case 'restart': {
      const r = await ctx.safety.restart()
      return {reply: `Restarting ${r.unit} in ${r.delay_secs} s.`}
    }
  }
}

function record(ctx: CommandContext, command: string, outcome: 'ok' | 'error' | 'denied', errorCode?: string): void {
  ctx.ledger.append({type: 'chat.command', actor: 'gateway', payload: {command, channel: ctx.channel, outcome, ...(errorCode ? {error_code: errorCode} : {})}})
}
