import {BugError, UsageError} from '../../errors.js'
import type {Role} from '../../rpc/route.js'
import {TOOLSETS, type AnyTool, type Toolset} from '../define-tool.js'
import {AGENTD_TOOLS} from './agentd.js'
import {KEYD_TOOLS} from './keyd.js'
import {WATCH_TOOLS} from './watch.js'
import {ROUTINES_TOOLS} from './routines.js'
import {MESH_TOOLS} from './mesh.js'
import {MESH_ROOM_TOOLS} from './mesh-rooms.js'

/** The tool registry: every toolset and its tools (empty until the daemon's tools land). */
export const TOOLS_BY_TOOLSET: Readonly<Record<Toolset, readonly AnyTool[]>> = {
  agentd: AGENTD_TOOLS,
  keyd: KEYD_TOOLS,
  watch: WATCH_TOOLS,
  routines: ROUTINES_TOOLS,
  mesh: [...MESH_TOOLS, ...MESH_ROOM_TOOLS],
  mcpd: [],
  teachd: [],
  voice: [],
  managed: [],
}

/** Which tools a server offers. */
export interface ToolSelection {
  role: Role
  /** Default: every toolset. */
  toolsets?: readonly Toolset[]
  /** Keep only tools with readOnlyHint. */
  readOnly?: boolean
}

/** The tools a role may call from the selected toolsets, in registry order, names unique. */
export function selectTools(selection: ToolSelection, registry: Readonly<Record<Toolset, readonly AnyTool[]>> = TOOLS_BY_TOOLSET): AnyTool[] {
  const wanted = new Set(selection.toolsets ?? TOOLSETS)
  const seen = new Set<string>()
  const tools: AnyTool[] = []
  for (const toolset of TOOLSETS) {
    if (!wanted.has(toolset)) continue
    for (const tool of registry[toolset]) {
      if (seen.has(tool.name)) throw new BugError(`tool ${tool.name} is registered twice`)
      seen.add(tool.name)
      if (tool.toolset !== toolset) throw new BugError(`tool ${tool.name} is registered under ${toolset} but belongs to ${tool.toolset}`)
      if (!tool.roles.includes(selection.role)) continue
      if (selection.readOnly && !tool.annotations.readOnlyHint) continue
      tools.push(tool)
    }
  }
  return tools
}

/** Parses `--toolsets a,b` into toolset names; an unknown name is a usage error. */
export function parseToolsets(text: string): Toolset[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  if (!names.length) throw new UsageError('--toolsets needs at least one toolset', {code: 'USAGE', hint: `choose from ${TOOLSETS.join(', ')}`})
  const unknown = names.filter((name) => !(TOOLSETS as readonly string[]).includes(name))
  if (unknown.length) throw new UsageError(`unknown toolset ${unknown.join(', ')}`, {code: 'USAGE', hint: `choose from ${TOOLSETS.join(', ')}`})
  return [...new Set(names)] as Toolset[]
}
