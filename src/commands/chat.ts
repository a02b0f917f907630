import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline'
import {resolveToken} from '../lib/tokens.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import type {ChatTurn} from '../daemons/gateway/chat-client.js'

/** Non-empty stdin lines, none lost while a turn runs (readline's iterator drops lines at EOF). */
async function* stdinLines(): AsyncGenerator<string> {
  const queue: string[] = []
  let ended = false
  let wake: (() => void) | null = null
  const rl = createInterface({input: process.stdin})
  rl.on('line', (line) => {
    if (line.trim()) queue.push(line)
    wake?.()
  })
  rl.once('close', () => {
    ended = true
    wake?.()
  })
  while (queue.length || !ended) {
    if (!queue.length) await new Promise<void>((resolve) => (wake = resolve))
    wake = null
    const next = queue.shift()
    if (next !== undefined) yield next
  }
}

export default class Chat extends OsmodaCommand<ChatTurn[]> {
  static override summary = 'Chat with an agent through the gateway: one message, or one per stdin line.'
  static override description = 'Streams the reply to stdout and tool calls to stderr. Without TEXT, every line read from stdin is a turn (Ctrl-D ends).'
  static override examples = [
    "<%= config.bin %> <%= command.id %> 'how full is the disk?'",
    "<%= config.bin %> <%= command.id %> --agent mobile --session ops:cli 'status?'",
    "echo 'list failed services' | <%= config.bin %> <%= command.id %> --json",
  ]
  static override args = {text: Args.string({description: 'The message (omit to read lines from stdin)'})}
  static override flags = {
    agent: Flags.string({description: 'Agent id (default: the agent bound to the web channel)'}),
    session: Flags.string({description: 'Session key (default: the agent\'s one conversation)'}),
    supersede: Flags.boolean({description: 'Replace a request still running on the session'}),
  }

  async run(): Promise<ChatTurn[]> {
    const {args, flags} = await this.parse(Chat)
    const {connectChat} = await import('../daemons/gateway/chat-client.js')
    const chat = await connectChat(this.paths.socket('gateway'), resolveToken(this.paths))
    const turns: ChatTurn[] = []
    const human = !this.jsonEnabled()
    const ask = async (text: string) => {
      const turn = await chat.send({text, agent_id: flags.agent, session_key: flags.session, supersede: flags.supersede || undefined}, (frame) => {
        if (!human) return
        if (frame.type === 'text') process.stdout.write(frame.delta)
        else if (frame.type === 'tool_use') this.note(`\n[${frame.tool}${frame.target ? ` ${frame.target}` : ''}]`)
        else if (frame.type === 'tool_result' && !frame.ok) this.note(`[${frame.tool} failed]`)
      })
      if (human) process.stdout.write('\n')
      turns.push(turn)
    }
    try {
      if (args.text !== undefined) await ask(args.text)
      else for await (const line of stdinLines()) await ask(line)
    } finally {
      chat.close()
    }
    return turns
  }
}
