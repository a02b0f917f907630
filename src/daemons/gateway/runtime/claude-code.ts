import {OsmodaError} from '../../../lib/errors.js'
import {runProcess} from '../../../lib/exec/run.js'
import {createClaudeStreamParser} from './claude-stream.js'
import {privilegeDropPrefix, scopePrefix, resolveRuntimeBinary, runtimeEnv, runtimePath} from './spawn-env.js'
import {startSupervisedRun, type SpawnPlan} from './supervised-run.js'
import type {ProbeResult, RunCredential, RunLimits, RunOptions, RuntimeDriver} from './types.js'

/** The native tools claude-code must never use: the agent acts only through osmoda's MCP tools. */
export const CLAUDE_DISALLOWED_TOOLS = 'Bash,Edit,Write,Read,Glob,Grep,WebFetch,WebSearch,NotebookEdit,Task'

export const CLAUDE_MODELS = ['claude-opus-4-6', 'claude-opus-4-7', 'claude-sonnet-4-6', 'claude-haiku-4-5']

const PROBE_TIMEOUT_MS = 10_000

export interface ClaudeCodeDriverOptions {
  /** `runtimes.claudeCodePath` (default `claude`): a name looked up on PATH or an absolute path. */
  binary?: string
  /** Extra env for every child of this driver (probe and runs), below the run's own additions. */
  env?: Record<string, string>
}

/** The argv after the binary (SPEC §2.10 "Drivers"). */
export function claudeArgs(opts: Pick<RunOptions, 'model' | 'systemPrompt' | 'mcpConfigPath' | 'runtimeSessionId'>): string[] {
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--model', opts.model, '--system-prompt', opts.systemPrompt]
  args.push('--mcp-config', opts.mcpConfigPath, '--strict-mcp-config', '--allowedTools', 'mcp__osmoda__*', '--disallowedTools', CLAUDE_DISALLOWED_TOOLS)
  if (opts.runtimeSessionId) args.push('--resume', opts.runtimeSessionId)
  return args
}

/** The credential's env: an OAuth token or an API key, plus a base URL when the credential has one. */
export function claudeCredentialEnv(credential: RunCredential | null): Record<string, string> {
  if (credential === null) {
    throw new OsmodaError('NO_CREDENTIAL', 'the agent has no credential; claude-code needs an Anthropic OAuth token or API key', {hint: 'Add one with POST /config/credentials or osmoda gateway key set.'})
  }
  if (credential.provider !== 'anthropic') {
    throw new OsmodaError('NO_CREDENTIAL', `claude-code cannot use a ${credential.provider} credential; it needs an Anthropic one`, {hint: 'Bind an Anthropic credential to the agent, or switch it to openclaw.'})
  }
  const env: Record<string, string> = credential.type === 'oauth' ? {CLAUDE_CODE_OAUTH_TOKEN: credential.secret} : {ANTHROPIC_API_KEY: credential.secret}
  if (credential.base_url) env.ANTHROPIC_BASE_URL = credential.base_url
  return env
}

/** The claude-code driver: `claude -p` with stream-json output, one process per turn. */
export function createClaudeCodeDriver(options: ClaudeCodeDriverOptions = {}): RuntimeDriver {
  const binary = options.binary ?? 'claude'
  return {
    name: 'claude-code',
    display_name: 'Claude Code',
    description: 'Anthropic Claude Code in print mode; the agent acts only through the osmoda MCP tools.',
    supported_providers: ['anthropic'],
    supported_auth_types: ['oauth', 'api_key'],
    default_models: [...CLAUDE_MODELS],
    probe: () => probeVersion(binary, 'claude-code', options.env),
    startRun(opts: RunOptions, limits: RunLimits) {
      const prepare = async (): Promise<SpawnPlan> => {
        const env = runtimeEnv(opts.workspaceDir, {...options.env, ...claudeCredentialEnv(opts.credential), ...opts.env})
        const file = await resolveRuntimeBinary(binary, runtimePath(env), 'claude-code')
        const prefix = [...(await scopePrefix(opts)), ...(await privilegeDropPrefix(opts.runAs))]
        return {argv: [...prefix, file, ...claudeArgs(opts)], env, cwd: opts.cwd ?? opts.workspaceDir, stdin: opts.text}
      }
      return startSupervisedRun(prepare, createClaudeStreamParser(), limits, 'claude-code')
    },
  }
}

/** `<binary> --version` within 10 s; the first x.y.z in its output is the version. */
export async function probeVersion(binary: string, label: string, env?: Record<string, string>): Promise<ProbeResult> {
  try {
    const result = await runProcess([binary, '--version'], {timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 4096, env})
    if (result.timedOut) return {available: false, version: null, error: `${label} --version did not answer within ${PROBE_TIMEOUT_MS} ms`}
    const version = /\d+\.\d+(?:\.\d+)?(?:[-.][0-9A-Za-z.]+)?/.exec(result.stdout)?.[0] ?? null
    if (result.exitCode !== 0) return {available: false, version, error: `${label} --version exited with code ${result.exitCode}: ${result.stderr.trim().slice(0, 300)}`}
    return {available: true, version}
  } catch (error) {
    return {available: false, version: null, error: error instanceof Error ? error.message : String(error)}
  }
}
