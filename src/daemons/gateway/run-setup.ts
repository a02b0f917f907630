import {mkdirSync, readFileSync, unlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {OsmodaPaths} from '../../lib/paths.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import type {AgentProfile, Channel} from './agents-file.js'

const STYLE: Record<Channel, string> = {
  web: 'Channel: web chat. Answer in detail with markdown where it helps.',
  api: 'Channel: API. Answer in detail with markdown where it helps.',
  voice: 'Channel: voice. Answer in short spoken sentences without markdown.',
  telegram: 'Channel: Telegram on a phone. Be concise: short paragraphs, no tables.',
  whatsapp: 'Channel: WhatsApp on a phone. Be concise: short paragraphs, no tables.',
}

/** The agent's workspace: its own setting, else `<state>/workspace-<id>` (0750; prepared by workspace.ts). */
export function workspaceFor(paths: OsmodaPaths, agent: AgentProfile): string {
  return agent.workspace_dir ?? join(paths.stateDir, `workspace-${agent.id}`)
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return ''
  }
}

/** SOUL.md + AGENTS.md of the workspace (or the profile's system_prompt_file) + the channel style note. */
export function systemPrompt(agent: AgentProfile, workspace: string, channel: Channel, knowledge = ''): string {
  const parts = agent.system_prompt_file ? [readOptional(agent.system_prompt_file)] : [readOptional(join(workspace, 'SOUL.md')), readOptional(join(workspace, 'AGENTS.md'))]
  parts.push(STYLE[channel])
  if (knowledge) parts.push(`Relevant knowledge:\n${knowledge}`)
  return parts.filter(Boolean).join('\n\n')
}

/** The osmoda executable runs start as `osmoda mcp` (OSMODA_BIN overrides, e.g. a wrapper). */
export function osmodaBin(env: Record<string, string | undefined> = process.env): string {
  return env.OSMODA_BIN ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'run.js')
}

/** Directory of the per-run MCP config files (SPEC §2.10 "Runs"). */
export function mcpConfigDir(paths: OsmodaPaths): string {
  return paths.mode === 'production' ? '/run/osmoda-gateway' : join(paths.runDir, 'gateway')
}

/** Writes `mcp-<request_id>.json` for one run and returns its path; `remove` deletes it after the run. */
export function writeMcpConfig(paths: OsmodaPaths, ids: {requestId: string; agentId: string; sessionId: string}, bin = osmodaBin()): {path: string; remove(): void} {
  const dir = mcpConfigDir(paths)
  mkdirSync(dir, {recursive: true, mode: 0o755})
  const path = join(dir, `mcp-${ids.requestId}.json`)
  const env: Record<string, string> = {
    OSMODA_AGENT_ID: ids.agentId,
    OSMODA_SESSION_ID: ids.sessionId,
    OSMODA_REQUEST_ID: ids.requestId,
    OSMODA_TOKEN_FILE: join(paths.tokensDir, 'agent'),
    OSMODA_RUN_DIR: paths.runDir,
  }
  // Outside production the state and config dirs are not the defaults the MCP server would guess.
  if (paths.mode !== 'production') Object.assign(env, {OSMODA_STATE_DIR: paths.stateDir, OSMODA_CONFIG_DIR: paths.configDir})
  writeFileAtomic(path, `${JSON.stringify({mcpServers: {osmoda: {command: bin, args: ['mcp'], env}}}, null, 2)}\n`, 0o640)
  return {
    path,
    remove() {
      try {
        unlinkSync(path)
      } catch {
        // Already gone.
      }
    },
  }
}
