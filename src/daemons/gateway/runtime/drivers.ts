import {createClaudeCodeDriver} from './claude-code.js'
import {createOpenclawDriver} from './openclaw.js'
import type {RuntimeDriver, RuntimeName} from './types.js'

/** The gateway's `runtimes` config keys the drivers need. */
export interface RuntimePaths {
  claudeCodePath: string
  openclawPath: string
}

/** Registry of the runtime drivers by name (SPEC §2.10 "Drivers"). */
export function createRuntimeDrivers(paths: RuntimePaths): Map<RuntimeName, RuntimeDriver> {
  return new Map<RuntimeName, RuntimeDriver>([
    ['claude-code', createClaudeCodeDriver({binary: paths.claudeCodePath})],
    ['openclaw', createOpenclawDriver({binary: paths.openclawPath})],
  ])
}
