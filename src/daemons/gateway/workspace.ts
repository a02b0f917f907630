// Prepares an agent workspace before a run (SPEC §2.10 "Runs", §5): the directory (0750), the
// templates copied on first use (never overwritten), and every `activation: auto` skill installed
// into the runtime's skill dir. Only what is missing or changed is written, so a run start with an
// up-to-date workspace costs a few stats and small reads.
import {createHash} from 'node:crypto'
import {chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {dirname, join, sep} from 'node:path'
import {packageDir} from '../agentd/sandbox/host-env.js'
import {createFileExclusive, writeFileAtomic} from '../../lib/secure-file.js'
import {parseFrontMatterBlock} from '../../lib/skills/front-matter.js'
import type {AgentProfile} from './agents-file.js'
import type {RuntimeName} from './runtime/types.js'

/** The templates of SPEC §5, in the order they are written. */
export const TEMPLATE_FILES = ['SOUL.md', 'AGENTS.md', 'TOOLS.md', 'USER.md', 'HEARTBEAT.md'] as const

/**
 * Where each runtime looks for skills, relative to the workspace. claude-code reads
 * `.claude/skills/<name>/SKILL.md`; for openclaw the workspace's `skills/<name>/SKILL.md` is our choice.
 */
export const SKILL_ROOTS: Readonly<Record<RuntimeName, string>> = {'claude-code': join('.claude', 'skills'), openclaw: 'skills'}

/** The file recording which skills osmoda installed (and may therefore refresh or remove). */
export const SKILL_MANIFEST = '.osmoda-skills.json'

const SKILL_NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

/** A tool as TOOLS.md lists it. */
export interface ToolEntry {
  name: string
  description: string
}

export interface PrepareWorkspaceOptions {
  runtime: RuntimeName
  /** Holds `templates/` and `skills/` (default: the installed osmoda package). */
  packageDir?: string
  /** `<state>`: its `skills/` (linked and teachd-generated skills) is read after the package's; a later copy of a name wins. */
  stateDir?: string
  /** Owner of what is written (osmoda-agent when running as root and it exists); null leaves ownership alone. */
  owner?: {uid: number; gid: number} | null
  /** The catalogue for TOOLS.md (default: the agent role's MCP tools, loaded only when TOOLS.md is missing). */
  tools?: () => Promise<readonly ToolEntry[]>
}

/** What a preparation changed (workspace-relative paths and skill names). */
export interface PrepareResult {
  created: string[]
  installed: string[]
  removed: string[]
}

interface Manifest {
  version: 1
  /** Per skill root (e.g. `.claude/skills`): skill name → sha256 of the SKILL.md osmoda wrote. */
  installed: Record<string, Record<string, string>>
}

async function agentTools(): Promise<readonly ToolEntry[]> {
  const {selectTools} = await import('../../lib/mcp/tools/index.js')
  return selectTools({role: 'agent'})
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** The first sentence (or line) of a tool description. */
function oneLine(description: string): string {
  const line = description.trim().split('\n')[0]!.trim()
  return /^(.*?[.!?])(?:\s|$)/.exec(line)?.[1] ?? line
}

/** TOOLS.md: the template with `{{TOOLS}}` replaced by one line per tool. */
export function renderTools(template: string, tools: readonly ToolEntry[]): string {
  const list = tools.map((tool) => `- \`${tool.name}\`: ${oneLine(tool.description)}`).join('\n')
  return template.includes('{{TOOLS}}') ? template.replace('{{TOOLS}}', list) : `${template.trimEnd()}\n\n${list}\n`
}

/** The `activation: auto` skills of the source dirs (name → SKILL.md text); later dirs override earlier ones. */
export function autoSkills(sourceDirs: readonly string[]): Map<string, string> {
  const skills = new Map<string, string>()
  for (const root of sourceDirs) {
    let entries: string[]
    try {
      entries = readdirSync(root)
    } catch {
      continue
    }
    for (const name of entries.sort()) {
      const text = readOptional(join(root, name, 'SKILL.md'))
      if (text === null || !SKILL_NAME_RE.test(name)) continue
      const block = /^---\n([\s\S]*?)\n---\n/.exec(text)
      let fields: Record<string, unknown> = {}
      try {
        fields = block ? parseFrontMatterBlock(block[1]!) : {}
      } catch {
        // A malformed skill is not installed (`osmoda skill lint` names the problem).
      }
      if (fields.activation === 'auto' && fields.name === name) skills.set(name, text)
      else skills.delete(name)
    }
  }
  return skills
}

function readManifest(dir: string): Manifest {
  const text = readOptional(join(dir, SKILL_MANIFEST))
  try {
    const parsed = text === null ? null : (JSON.parse(text) as Partial<Manifest>)
    if (parsed && parsed.version === 1 && typeof parsed.installed === 'object' && parsed.installed !== null) return {version: 1, installed: parsed.installed}
  } catch {
    // A damaged manifest: start over (osmoda then only adds, it removes nothing it cannot prove it installed).
  }
  return {version: 1, installed: {}}
}

/** Chowns `path` and each directory between it and the workspace (inclusive). */
function chownUp(dir: string, path: string, owner: {uid: number; gid: number} | null): void {
  if (owner === null) return
  let current = path
  for (;;) {
    chownSync(current, owner.uid, owner.gid)
    if (current === dir || !current.startsWith(dir + sep)) break
    current = dirname(current)
  }
}

/**
 * Ensures the workspace of `agent`: the directory (0750), each template it lacks (the profile's
 * variant `templates/<agent id>/<file>` when present, e.g. `mobile`), and the auto skills in the
 * runtime's skill dir. Existing templates are never overwritten; skills osmoda installed are
 * refreshed when the source changed and removed when no longer auto; other skills are left alone.
 */
export async function prepareWorkspace(dir: string, agent: Pick<AgentProfile, 'id'>, options: PrepareWorkspaceOptions): Promise<PrepareResult> {
  const result: PrepareResult = {created: [], installed: [], removed: []}
  const owner = options.owner ?? null
  const pkg = options.packageDir ?? packageDir()
  if (mkdirSync(dir, {recursive: true, mode: 0o750}) !== undefined) chownUp(dir, dir, owner)

  const templates = join(pkg, 'templates')
  for (const file of TEMPLATE_FILES) {
    const target = join(dir, file)
    if (existsSync(target)) continue
    const variant = join(templates, agent.id, file)
    let text = readOptional(existsSync(variant) ? variant : join(templates, file))
    if (text === null) continue
    if (file === 'TOOLS.md') text = renderTools(text, await (options.tools ?? agentTools)())
    if (createFileExclusive(target, text, 0o640)) {
      chownUp(dir, target, owner)
      result.created.push(file)
    }
  }

  const rootRel = SKILL_ROOTS[options.runtime]
  const root = join(dir, rootRel)
  const wanted = autoSkills([join(pkg, 'skills'), ...(options.stateDir ? [join(options.stateDir, 'skills')] : [])])
  const manifest = readManifest(dir)
  const mine = {...manifest.installed[rootRel]}
  let changed = false
  for (const [name, text] of wanted) {
    const target = join(root, name, 'SKILL.md')
    const hash = sha256(text)
    if (readOptional(target) === text) {
      if (Object.hasOwn(mine, name) && mine[name] !== hash) {
        mine[name] = hash
        changed = true
      }
      continue
    }
    // A skill of that name the user or the runtime made: not ours to replace.
    if (!Object.hasOwn(mine, name) && existsSync(join(root, name))) continue
    mkdirSync(dirname(target), {recursive: true, mode: 0o750})
    writeFileAtomic(target, text, 0o640)
    chownUp(dir, target, owner)
    mine[name] = hash
    changed = true
    result.installed.push(name)
  }
  for (const name of Object.keys(mine)) {
    if (wanted.has(name)) continue
    rmSync(join(root, name), {recursive: true, force: true})
    delete mine[name]
    changed = true
    result.removed.push(name)
  }
  if (changed) {
    manifest.installed[rootRel] = mine
    const path = join(dir, SKILL_MANIFEST)
    writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, 0o640)
    chownUp(dir, path, owner)
  }
  return result
}
