import {Flags} from '@oclif/core'
import {agentdApi} from '../daemons/agentd/api.js'
import {watchApi} from '../daemons/watch/api.js'
import {keydApi} from '../daemons/keyd/api.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import {UsageError} from '../lib/errors.js'
import {describeTool, hintLetters, type ToolListing} from '../lib/mcp/catalogue.js'
import {resolveAgentContext, roleOfToken} from '../lib/mcp/agent-context.js'
import {parseToolsets, selectTools} from '../lib/mcp/tools/index.js'
import {createClient} from '../lib/rpc/client.js'
import {routinesApi} from '../daemons/routines/api.js'
import {meshApi} from '../daemons/mesh/api.js'
import type {Role} from '../lib/rpc/route.js'
import {resolveToken} from '../lib/tokens.js'

type McpResult = {tools: ToolListing[]} | {agentd: {status: string; version: string}} | {served: true}

export default class Mcp extends OsmodaCommand<McpResult> {
  static override summary = "Serve osmoda's tools to an AI agent over MCP (stdio)."
  static override description = `Speaks the Model Context Protocol on stdin/stdout until stdin closes; logs go to stderr.
Authenticates with the agent token (OSMODA_TOKEN, OSMODA_TOKEN_FILE, then <state>/tokens/agent; never the operator
token) and sends OSMODA_AGENT_ID, OSMODA_SESSION_ID and OSMODA_REQUEST_ID to the daemons. Every call is recorded
in the ledger as tool.called.`
  static override examples = [
    'claude mcp add osmoda -- osmoda mcp',
    '<%= config.bin %> <%= command.id %> --toolsets agentd --read-only',
    '<%= config.bin %> <%= command.id %> --list',
    '<%= config.bin %> <%= command.id %> --list --json',
    '<%= config.bin %> <%= command.id %> --check',
  ]
  static override flags = {
    toolsets: Flags.string({description: 'Only these toolsets, comma-separated (agentd, keyd, watch, routines, mesh, mcpd, teachd, voice, managed)'}),
    'read-only': Flags.boolean({description: 'Only offer tools that change nothing (readOnlyHint)'}),
    list: Flags.boolean({description: 'Print the tool catalogue and exit, without connecting (--json adds the schemas)', exclusive: ['check']}),
    check: Flags.boolean({description: 'Exit 0 when agentd answers /health, 3 when it is unreachable', exclusive: ['list']}),
  }

  async run(): Promise<McpResult> {
    const {flags} = await this.parse(Mcp)
    const toolsets = flags.toolsets === undefined ? undefined : parseToolsets(flags.toolsets)
    const env = process.env
    const selection = (role: Role) => {
      const tools = selectTools({role, toolsets, readOnly: flags['read-only']})
      if (!tools.length) this.warn(`no ${flags['read-only'] ? 'read-only ' : ''}tools${toolsets ? ` in ${toolsets.join(', ')}` : ''} for the ${role} role yet`)
      return tools
    }
    if (flags.list) {
      let role = roleOfToken(undefined)
      try {
        role = roleOfToken(resolveToken(this.paths, env, {agentOnly: true}))
      } catch {
        // No token yet: list what the agent would see.
      }
      const tools = selection(role).map(describeTool)
      this.table(
        tools.map((t) => ({name: t.name, toolset: t.toolset, annotations: hintLetters(t.annotations), title: t.title})),
        ['name', 'toolset', 'annotations', 'title'],
      )
      return {tools}
    }
    if (this.jsonEnabled() && !flags.check) throw new UsageError('--json applies to --list and --check; stdout carries the MCP protocol', {code: 'USAGE'})

    const token = resolveToken(this.paths, env, {agentOnly: true})
    const agent = resolveAgentContext(env)
    for (const warning of agent.warnings) this.warn(warning)
    const agentd = createClient('agentd', agentdApi, {socketPath: this.paths.socket('agentd'), token, headers: agent.headers})
    const watch = createClient('watch', watchApi, {socketPath: this.paths.socket('watch'), token, headers: agent.headers})
    const routines = createClient('routines', routinesApi, {socketPath: this.paths.socket('routines'), token, headers: agent.headers})
    const keyd = createClient('keyd', keydApi, {socketPath: this.paths.socket('keyd'), token, headers: agent.headers})
    const mesh = createClient('mesh', meshApi, {socketPath: this.paths.socket('mesh'), token, headers: agent.headers})
    try {
      if (flags.check) {
        const health = await agentd.health()
        this.say(`agentd ${health.version} is ${health.status} at ${this.paths.socket('agentd')}`)
        return {agentd: {status: health.status, version: health.version}}
      }
      const role = roleOfToken(token)
      selection(role)
      // The MCP SDK costs ~90 ms to import: only the serving path pays for it.
      const {serveStdio} = await import('../lib/mcp/stdio.js')
      await serveStdio({
        clients: {agentd, watch, routines, keyd, mesh},
        role,
        toolsets,
        readOnly: flags['read-only'],
        sessionId: agent.sessionId,
        requestId: agent.requestId,
        verbose: flags.verbose,
      })
      return {served: true}
    } finally {
      agentd.close()
      watch.close()
      routines.close()
      keyd.close()
      mesh.close()
    }
  }
}
