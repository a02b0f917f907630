import {readFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {z} from 'zod'
import {ConflictError, NotFoundError, OsmodaError, UsageError} from '../../lib/errors.js'
import {prefixedIdRe} from '../../lib/ids.js'
import {IsoTime} from '../../lib/schema/primitives.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import {validationError} from '../../lib/rpc/validation.js'

/** Channels an agent can serve. */
export const CHANNELS = ['web', 'api', 'telegram', 'whatsapp', 'voice'] as const
/** Agent runtimes (drivers). */
export const RUNTIMES = ['claude-code', 'openclaw'] as const

export const AgentId = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected [a-z][a-z0-9-]{0,31}').describe('Agent profile id')
export const CredentialId = z.string().regex(prefixedIdRe('cred'), 'expected cred_<ULID>')
const AbsPath = z.string().max(4096).regex(/^\/[^\0]*$/, 'must be an absolute path').refine((p) => !p.split('/').includes('..'), 'must not contain ..')
const Channel = z.enum(CHANNELS)
const ChannelList = z.array(Channel).max(CHANNELS.length).refine((list) => new Set(list).size === list.length, 'channels must be unique')

/** The editable fields of an agent profile (PATCH). */
export const AgentPatch = z.strictObject({
  display_name: z.string().min(1).max(80),
  runtime: z.enum(RUNTIMES),
  model: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and ._:/- only'),
  credential_id: CredentialId.nullable(),
  channels: ChannelList,
  enabled: z.boolean(),
  system_prompt_file: AbsPath.nullable(),
  memory_max: z.string().regex(/^[1-9][0-9]{0,5}[KMGT]?$/, 'like 512M or 2G').nullable(),
}).partial()

/** One agent profile as written in agents.json. */
export const AgentProfile = z.strictObject({
  id: AgentId,
  display_name: z.string().min(1).max(80),
  runtime: z.enum(RUNTIMES),
  model: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and ._:/- only'),
  credential_id: CredentialId.nullable().default(null),
  channels: ChannelList.default([]),
  enabled: z.boolean().default(true),
  workspace_dir: AbsPath.nullable().default(null),
  system_prompt_file: AbsPath.nullable().default(null),
  memory_max: z.string().regex(/^[1-9][0-9]{0,5}[KMGT]?$/, 'like 512M or 2G').nullable().default(null),
  updated_at: IsoTime.optional(),
})

/** A profile as a client sends it (POST): updated_at is set by the gateway. */
export const AgentInput = AgentProfile.omit({updated_at: true})

export const Binding = z.strictObject({channel: Channel, agent_id: AgentId})

const docShape = {agents: z.array(AgentProfile).min(1).max(32), bindings: z.array(Binding).max(CHANNELS.length).default([])}

/** `PUT /config/agents` body. */
export const AgentsPut = z.strictObject({agents: z.array(AgentInput).min(1).max(32), bindings: z.array(Binding).max(CHANNELS.length).default([])})

/** agents.json (SPEC §2.10) with its cross-field rules. */
export const AgentsDoc = z
  .strictObject({version: z.literal(1), ...docShape})
  .superRefine((doc, issue) => {
    const ids = new Set<string>()
    doc.agents.forEach((agent, i) => {
      if (ids.has(agent.id)) issue.addIssue({code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id ${agent.id}`})
      ids.add(agent.id)
    })
    const channels = new Set<string>()
    doc.bindings.forEach((binding, i) => {
      if (channels.has(binding.channel)) issue.addIssue({code: 'custom', path: ['bindings', i, 'channel'], message: `channel ${binding.channel} is bound twice`})
      channels.add(binding.channel)
      if (!ids.has(binding.agent_id)) issue.addIssue({code: 'custom', path: ['bindings', i, 'agent_id'], message: `no agent ${binding.agent_id}`})
    })
  })

export type AgentProfile = z.output<typeof AgentProfile>
export type AgentsFile = z.output<typeof AgentsDoc>
export type Channel = (typeof CHANNELS)[number]

/** The two built-in profiles and their bindings (SPEC §2.10). */
export function defaultAgents(models: {osmoda?: string; mobile?: string} = {}): z.input<typeof AgentsDoc> {
  return {
    version: 1,
    agents: [
      {id: 'osmoda', display_name: 'osmoda (full access)', runtime: 'claude-code', model: models.osmoda ?? 'claude-opus-4-6', channels: ['web', 'api', 'voice'], enabled: true},
      {id: 'mobile', display_name: 'osmoda mobile', runtime: 'claude-code', model: models.mobile ?? 'claude-sonnet-4-6', channels: ['telegram', 'whatsapp'], enabled: true},
    ],
    bindings: [
      {channel: 'web', agent_id: 'osmoda'},
      {channel: 'api', agent_id: 'osmoda'},
      {channel: 'voice', agent_id: 'osmoda'},
      {channel: 'telegram', agent_id: 'mobile'},
      {channel: 'whatsapp', agent_id: 'mobile'},
    ],
  }
}

/** Options of the agents.json holder. */
export interface AgentsStoreOptions {
  file: string
  mutable: boolean
  seed?: unknown
  clock?: () => number
  /** Whether a credential id exists (null when the keystore is locked: not checked then). */
  credentialExists?: (id: string) => boolean | null
}

/** agents.json: loaded at start, replaced whole on every change (validated first, written atomically 0600). */
export interface AgentsStore {
  get(): AgentsFile
  sha256(): string
  readonly mutable: boolean
  put(input: z.output<typeof AgentsPut>): AgentsFile
  add(agent: z.output<typeof AgentInput>): AgentsFile
  patch(id: string, patch: z.output<typeof AgentPatch>): AgentsFile
  remove(id: string): AgentsFile
  /** Re-reads the file (SIGHUP, POST /config/reload): true when it changed. A bad file keeps the old snapshot and throws. */
  reload(): boolean
}

function parseDoc(value: unknown, where: string): AgentsFile {
  const parsed = AgentsDoc.safeParse(value)
  if (!parsed.success) {
    const error = validationError(parsed.error)
    throw new UsageError(`${where}: ${error.message}`, {details: error.details, hint: 'fix agents.json or PUT /config/agents a valid document'})
  }
  return parsed.data
}

function readDoc(file: string): AgentsFile | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`)
  }
  return parseDoc(value, file)
}

const digest = (doc: AgentsFile) => createHash('sha256').update(JSON.stringify(doc)).digest('hex')

/** Opens agents.json, seeding it when absent. */
export function openAgentsStore(options: AgentsStoreOptions): AgentsStore {
  const clock = options.clock ?? Date.now
  const now = () => new Date(clock()).toISOString()
  let doc = readDoc(options.file)
  if (!doc) {
    const seeded = parseDoc(options.seed ?? defaultAgents(), 'agentsSeed')
    seeded.agents = seeded.agents.map((agent) => ({...agent, updated_at: agent.updated_at ?? now()}))
    writeFileAtomic(options.file, `${JSON.stringify(seeded, null, 2)}\n`, 0o600)
    doc = seeded
  }
  let current: AgentsFile = doc

  const checkCredentials = (next: AgentsFile) => {
    next.agents.forEach((agent, i) => {
      if (agent.credential_id && options.credentialExists?.(agent.credential_id) === false) {
        throw new UsageError(`agent ${agent.id}: no credential ${agent.credential_id}`, {details: [`agents.${i}.credential_id: unknown credential ${agent.credential_id}`], hint: 'osmoda credential list'})
      }
    })
  }
  const commit = (candidate: unknown): AgentsFile => {
    if (!options.mutable) throw new ConflictError('agents.json is managed by Nix (agentsMutable = false)', {code: 'CONFIG_IMMUTABLE', hint: 'change services.osmoda.gateway.agentsSeed and rebuild'})
    const next = parseDoc(candidate, 'agents.json')
    checkCredentials(next)
    writeFileAtomic(options.file, `${JSON.stringify(next, null, 2)}\n`, 0o600)
    current = next
    return current
  }
  const find = (id: string) => {
    const index = current.agents.findIndex((a) => a.id === id)
    if (index < 0) throw new NotFoundError(`no agent ${id}`, {hint: 'osmoda agent list'})
    return index
  }

  return {
    get: () => current,
    sha256: () => digest(current),
    mutable: options.mutable,
    put(input) {
      return commit({version: 1, agents: input.agents.map((a) => ({...a, updated_at: now()})), bindings: input.bindings})
    },
    add(agent) {
      if (current.agents.some((a) => a.id === agent.id)) throw new ConflictError(`agent ${agent.id} already exists`, {code: 'ALREADY_EXISTS'})
      return commit({...current, agents: [...current.agents, {...agent, updated_at: now()}]})
    },
    patch(id, patch) {
      const index = find(id)
      const agents = current.agents.slice()
      agents[index] = {...(agents[index] as AgentProfile), ...patch, updated_at: now()}
      return commit({...current, agents})
    },
    remove(id) {
      find(id)
      if (current.agents.length === 1) throw new ConflictError('the last agent cannot be removed', {details: {state: 'last_agent'}})
      return commit({...current, agents: current.agents.filter((a) => a.id !== id), bindings: current.bindings.filter((b) => b.agent_id !== id)})
    },
    reload() {
      const next = readDoc(options.file)
      if (!next) return false
      const changed = digest(next) !== digest(current)
      current = next
      return changed
    },
  }
}

/** The agent that serves a channel: its binding if enabled, else the first enabled agent listing it (SPEC §2.10). */
export function agentForChannel(doc: AgentsFile, channel: Channel): AgentProfile {
  const bound = doc.bindings.find((b) => b.channel === channel)
  const agent = bound ? doc.agents.find((a) => a.id === bound.agent_id && a.enabled) : undefined
  const found = agent ?? doc.agents.find((a) => a.enabled && a.channels.includes(channel))
  if (!found) {
    throw new OsmodaError('AGENT_DISCONNECTED', `no enabled agent serves the ${channel} channel`, {
      details: {reason: 'no_agent_for_channel', channel, fallback_recommendation: 'configure_agent'},
      hint: 'osmoda agent set <id> --enable --channel ' + channel,
    })
  }
  return found
}
