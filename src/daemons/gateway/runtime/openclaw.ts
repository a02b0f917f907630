// The openclaw driver (SPEC §2.10): `openclaw agent --local` per turn, 2026.5 or newer. HOME is the
// agent's workspace, so openclaw's state (~/.openclaw) lives there: the credential is written to
// its default agent's auth-profiles.json before each run (atomic, 0600, one writer per agent), and
// the osmoda MCP server reaches it through a per-request config named by OPENCLAW_CONFIG_PATH.
import {chownSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {OsmodaError} from '../../../lib/errors.js'
import {writeFileAtomic} from '../../../lib/secure-file.js'
import {probeVersion} from './claude-code.js'
import {createOpenclawStreamParser} from './openclaw-stream.js'
import {privilegeDropPrefix, scopePrefix, resolveRunUser, resolveRuntimeBinary, runtimeEnv, runtimePath} from './spawn-env.js'
import {startSupervisedRun, type SpawnPlan} from './supervised-run.js'
import type {ProbeResult, RunCredential, RunLimits, RunOptions, RuntimeDriver} from './types.js'

/** Oldest openclaw release with the `agent` command this driver speaks. */
export const OPENCLAW_MIN_VERSION: readonly [number, number] = [2026, 5]
export const OPENCLAW_MODELS = ['anthropic/claude-opus-4-6', 'anthropic/claude-sonnet-4-6', 'openai/gpt-5']

export interface OpenclawDriverOptions {
  /** `runtimes.openclawPath` (default `openclaw`). */
  binary?: string
  /** Extra env for every child of this driver (probe and runs), below the run's own additions. */
  env?: Record<string, string>
}

/** `<workspace>/.openclaw/agents/main/agent/auth-profiles.json`: openclaw's default agent in this HOME. */
export function authProfilesPath(workspaceDir: string): string {
  return join(workspaceDir, '.openclaw', 'agents', 'main', 'agent', 'auth-profiles.json')
}

/** The argv after the binary. The message is read from stdin (never argv: /proc/<pid>/cmdline is world-readable). */
export function openclawArgs(opts: Pick<RunOptions, 'model'>, sessionId: string, credential: RunCredential, timeoutSecs: number): string[] {
  const model = opts.model.includes('/') ? opts.model : `${credential.provider}/${opts.model}`
  return ['agent', '--local', '--session-id', sessionId, '--model', model, '--message-file', '/dev/stdin', '--json', '--timeout', String(timeoutSecs)]
}

export function openclawCredentialEnv(credential: RunCredential | null): Record<string, string> {
  if (credential === null) throw new OsmodaError('NO_CREDENTIAL', 'the agent has no credential; openclaw needs an Anthropic or OpenAI API key', {hint: 'Add one with POST /config/credentials.'})
  if (credential.type !== 'api_key') throw new OsmodaError('NO_CREDENTIAL', 'openclaw takes API keys only, not OAuth tokens', {hint: 'Bind an api_key credential to the agent, or switch it to claude-code.'})
  const prefix = credential.provider === 'anthropic' ? 'ANTHROPIC' : 'OPENAI'
  const env: Record<string, string> = {[`${prefix}_API_KEY`]: credential.secret}
  if (credential.base_url) env[`${prefix}_BASE_URL`] = credential.base_url
  return env
}

/** Whether `version` (e.g. `2026.5.2`) is at least 2026.5. */
export function openclawVersionSupported(version: string | null): boolean {
  const match = version === null ? null : /^(\d{4})\.(\d+)/.exec(version)
  if (match === null) return false
  const [year, month] = [Number(match[1]), Number(match[2])]
  return year > OPENCLAW_MIN_VERSION[0] || (year === OPENCLAW_MIN_VERSION[0] && month >= OPENCLAW_MIN_VERSION[1])
}

export function createOpenclawDriver(options: OpenclawDriverOptions = {}): RuntimeDriver {
  const binary = options.binary ?? 'openclaw'
  // Serialises auth-profiles.json writes per agent (two sessions of one agent may start together).
  const authWrites = new Map<string, Promise<void>>()
  const writeAuthProfiles = (agentId: string, workspaceDir: string, credential: RunCredential, owner: {uid: number; gid: number} | null) => {
    const previous = authWrites.get(agentId) ?? Promise.resolve()
    const next = previous.then(() => {
      const file = authProfilesPath(workspaceDir)
      mkdirSync(dirname(file), {recursive: true, mode: 0o700})
      const profile = {type: 'api_key', provider: credential.provider, key: credential.secret, ...(credential.base_url ? {baseUrl: credential.base_url} : {})}
      writeFileAtomic(file, `${JSON.stringify({version: 1, profiles: {[`${credential.provider}:osmoda`]: profile}}, null, 2)}\n`, 0o600)
      if (owner !== null) chownOwnTree(join(workspaceDir, '.openclaw'), file, owner)
    })
    authWrites.set(agentId, next.catch(() => {}))
    return next
  }
  return {
    name: 'openclaw',
    display_name: 'OpenClaw',
    description: 'OpenClaw agent turns (2026.5+) with Anthropic or OpenAI API keys; the agent acts only through the osmoda MCP tools.',
    supported_providers: ['anthropic', 'openai'],
    supported_auth_types: ['api_key'],
    default_models: [...OPENCLAW_MODELS],
    async probe(): Promise<ProbeResult> {
      const result = await probeVersion(binary, 'openclaw', options.env)
      if (!result.available || openclawVersionSupported(result.version)) return result
      return {available: false, version: result.version, error: `openclaw ${result.version ?? '(unknown version)'} is too old; 2026.5 or newer is required`}
    },
    startRun(opts: RunOptions, limits: RunLimits) {
      const sessionId = opts.runtimeSessionId ?? `osmoda-${opts.requestId}`
      const prepare = async (): Promise<SpawnPlan> => {
        const env = runtimeEnv(opts.workspaceDir, {...options.env, ...openclawCredentialEnv(opts.credential), ...opts.env})
        const credential = opts.credential as RunCredential
        const file = await resolveRuntimeBinary(binary, runtimePath(env), 'openclaw')
        const prefix = [...(await scopePrefix(opts)), ...(await privilegeDropPrefix(opts.runAs))]
        const owner = resolveRunUser(opts.runAs)
        await writeAuthProfiles(opts.agentId, opts.workspaceDir, credential, owner)
        const configPath = join(dirname(opts.mcpConfigPath), `openclaw-${opts.requestId}.json`)
        writeFileAtomic(configPath, `${JSON.stringify({mcp: {servers: readMcpServers(opts.mcpConfigPath)}}, null, 2)}\n`, 0o600)
        if (owner !== null) chownSync(configPath, owner.uid, owner.gid)
        env.OPENCLAW_CONFIG_PATH = configPath
        const timeoutSecs = Math.max(1, Math.ceil(limits.chatHardCapMs / 1000))
        // openclaw takes its identity from the workspace's SOUL.md/AGENTS.md; the per-run context
        // (channel style, teachd knowledge) travels ahead of the message.
        const stdin = opts.systemPrompt.trim() === '' ? opts.text : `<osmoda-context>\n${opts.systemPrompt}\n</osmoda-context>\n\n${opts.text}`
        return {
          argv: [...prefix, file, ...openclawArgs(opts, sessionId, credential, timeoutSecs)],
          env,
          cwd: opts.cwd ?? opts.workspaceDir,
          stdin,
          cleanup: () => rmSync(configPath, {force: true}),
        }
      }
      // A new openclaw session is named by us, so its session frame comes first.
      const parser = createOpenclawStreamParser(sessionId)
      return startSupervisedRun(prepare, withSessionFirst(parser, opts.runtimeSessionId ? null : sessionId), limits, 'openclaw')
    },
  }
}

/** The `mcpServers` of the run's MCP config (the same file claude-code gets). */
function readMcpServers(path: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as {mcpServers?: Record<string, unknown>}
    return parsed.mcpServers ?? {}
  } catch (error) {
    throw new OsmodaError('RUNTIME_ERROR', `the run's MCP config ${path} could not be read: ${(error as Error).message}`)
  }
}

function chownOwnTree(root: string, file: string, owner: {uid: number; gid: number}): void {
  let dir = dirname(file)
  chownSync(file, owner.uid, owner.gid)
  while (dir.startsWith(root)) {
    chownSync(dir, owner.uid, owner.gid)
    if (dir === root) break
    dir = dirname(dir)
  }
}

function withSessionFirst(parser: ReturnType<typeof createOpenclawStreamParser>, sessionId: string | null) {
  let announced = sessionId === null
  return {
    line(text: string) {
      const frames = parser.line(text)
      if (announced) return frames
      announced = true
      return [{type: 'session' as const, runtime_session_id: sessionId as string}, ...frames]
    },
    end: () => parser.end(),
  }
}
