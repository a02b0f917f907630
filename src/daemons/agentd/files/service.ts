import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {OsmodaPaths} from '../../../lib/paths.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {Gate} from '../approvals/types.js'
import type {DirectoryListInput, DirectoryListOutput, FileReadInput, FileReadOutput, FileWriteInput, FileWriteOutput} from './api.js'
import {listDirectory} from './list.js'
import {compilePathPolicy, type CheckedPath, type FilesPolicyConfig} from './path-policy.js'
import {readFile} from './read.js'
import {writeFile, type WriteHooks} from './write.js'

/** The `files.*` config keys (SPEC §2.1). */
export interface FilesSettings extends FilesPolicyConfig {
  maxReadBytes: number
  maxWriteBytes: number
}

/** Dependencies of the file tools. */
export interface FileServiceDeps {
  /** The current `files` config (re-read on reload). */
  settings: () => FilesSettings
  paths: Pick<OsmodaPaths, 'stateDir'>
  gate: Gate
  ledger: Pick<Ledger, 'append'>
  /** Test seams, see WriteHooks. */
  hooks?: WriteHooks & {beforeOpen?: (checked: CheckedPath) => void}
}

/** file_read, file_write and directory_list. */
export interface FileService {
  read(input: FileReadInput): FileReadOutput
  write(input: FileWriteInput, ctx: Pick<RequestContext, 'role' | 'actor'>): FileWriteOutput
  list(input: DirectoryListInput): DirectoryListOutput
}

/** Builds the file tools; the path policy is compiled per request so config reloads and new roots apply at once. */
export function createFileService(deps: FileServiceDeps): FileService {
  const policy = () => compilePathPolicy(deps.settings(), deps.paths)
  return {
    read: (input) => readFile(input, {policy: policy(), maxReadBytes: deps.settings().maxReadBytes, beforeOpen: deps.hooks?.beforeOpen}),
    write: (input, ctx) => writeFile(input, ctx, {policy: policy(), maxWriteBytes: deps.settings().maxWriteBytes, gate: deps.gate, ledger: deps.ledger, hooks: deps.hooks}),
    list: (input) => listDirectory(input, {policy: policy(), beforeOpen: deps.hooks?.beforeOpen}),
  }
}
