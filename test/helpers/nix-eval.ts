// Runs the offline evaluations of test/fixtures/nix (stub lib, no nixpkgs) and returns their JSON.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ROOT} from './env.js'

const FIXTURES = join(ROOT, 'test/fixtures/nix')
const NIX_FLAGS = ['--eval', '--json', '--strict', '--option', 'substituters', '']

/** Result of one nix-instantiate run: the parsed JSON on success, else the error text. */
export type NixResult<T> = {ok: true; value: T} | {ok: false; error: string}

function instantiate<T>(args: string[]): NixResult<T> {
  const res = spawnSync('nix-instantiate', [...NIX_FLAGS, ...args], {encoding: 'utf8', timeout: 60_000})
  if (res.status !== 0) return {ok: false, error: res.stderr || String(res.error)}
  return {ok: true, value: JSON.parse(res.stdout) as T}
}

/** One option of the listing: its path below services.osmoda.<daemon>, type name and effective default. */
export interface NixOption {
  path: string[]
  type: string
  default: unknown
}

/** What test/fixtures/nix/options-listing.nix returns. */
export interface NixListing {
  options: Record<string, NixOption[]>
  shared: NixOption[]
  moduleOnly: Record<string, string[][]>
  viaCredential: Record<string, string[][]>
  pendingDaemons: string[]
}

/** The option listing of nix/module.nix. */
export function nixOptionListing(): NixListing {
  const res = instantiate<NixListing>([join(FIXTURES, 'options-listing.nix')])
  if (!res.ok) throw new Error(`options-listing.nix failed:\n${res.error}`)
  return res.value
}

/** What test/fixtures/nix/eval-module.nix returns for an enabled module. */
export interface EvaluatedSystem {
  enabled: boolean
  warnings: string[]
  assertions: {assertion: boolean; message: string}[]
  etc: Record<string, Record<string, unknown>>
  users: {users: Record<string, {group: string; extraGroups: string[]}>; groups: Record<string, unknown>}
  systemd: {services: Record<string, {serviceConfig: Record<string, unknown>; after?: string[]; reloadTriggers?: unknown[]}>; timers: Record<string, unknown>}
  networking: {firewall: {allowedTCPPorts: number[]}}
}

/** Evaluates nix/module.nix with `config` as the user's configuration. */
export function evalModule(config: unknown): NixResult<EvaluatedSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-nix-'))
  try {
    const file = join(dir, 'config.json')
    writeFileSync(file, JSON.stringify(config))
    return instantiate<EvaluatedSystem>([join(FIXTURES, 'eval-module.nix'), '--argstr', 'configFile', file])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
