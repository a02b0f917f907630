import {existsSync} from 'node:fs'
import {createHash, type KeyObject} from 'node:crypto'
import type {z} from 'zod'
import {parsePermission, verifyCapability, type VerifyFailure} from '../../../lib/capability.js'
import {DaemonUnavailableError, OsmodaError, PermissionDeniedError, UsageError} from '../../../lib/errors.js'
import {runOutputFields, runProcess} from '../../../lib/exec/run.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {SandboxExecInput, SandboxExecOutput} from './api.js'
import {buildSandboxArgv, type HelperPlan, type SandboxBind, type SandboxPlan, type SandboxUser, type SystemEntry} from './bwrap-args.js'
import {checkBind} from './bind-policy.js'
import type {SandboxProbe} from './probe.js'

/** The config the sandbox reads on every run (so a reload applies to the next one). */
export interface SandboxSettings {
  enable: boolean
  memoryMax: string
  pidsMax: number
  maxTimeoutSecs: number
  /** files.denyPaths and exec.maskedPaths, `<state>` expanded: never mounted into a sandbox. */
  denyPaths: readonly string[]
}

/** What the sandbox service depends on; the host facts are resolved by the caller (main.ts). */
export interface SandboxServiceDeps {
  ledger: Ledger
  probe: SandboxProbe
  settings: () => SandboxSettings
  user: SandboxUser | null
  system: readonly SystemEntry[]
  systemd: boolean
  /** The node public key that signs capability tokens. */
  verifyKey: KeyObject
  isRevoked: (jti: string) => boolean
  /** `<run>/egress-proxy.sock`. */
  egressSocket: string
  /** Node binary and package dir for the in-sandbox helper. */
  helper: {node: string; packageDir: string}
  now?: () => number
}

type Input = z.output<typeof SandboxExecInput>
type Output = z.input<typeof SandboxExecOutput>

const DENY_MESSAGES: Record<VerifyFailure, string> = {
  malformed: 'the capability is not a well-formed osmcap1 token',
  bad_signature: 'the capability was not signed by this node',
  expired: 'the capability has expired',
  not_yet_valid: 'the capability is not valid yet',
  wrong_audience: 'the capability is not for the sandbox (audience "sandbox")',
  revoked: 'the capability has been revoked',
}

/** Recorded argv beyond this many bytes of JSON is shortened (a ledger payload holds at most 64 KiB). */
const LEDGER_ARGV_BYTES = 16_384

/** The argv as ledgered: whole when small, else shortened with the digest of the whole. */
function ledgerArgv(argv: readonly string[]): Record<string, unknown> {
  const json = JSON.stringify(argv)
  if (Buffer.byteLength(json) <= LEDGER_ARGV_BYTES) return {argv}
  const short = argv.slice(0, 32).map((a) => (a.length > 256 ? `${a.slice(0, 256)}…` : a))
  return {argv: short, argv_truncated: true, argv_sha256: createHash('sha256').update(json).digest('hex')}
}

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`)

/** The grants of a verified tier-1 token: the binds to mount and whether it has network. */
function grantsOf(perms: readonly string[], denyPaths: readonly string[], tokenId: string): {binds: SandboxBind[]; net: boolean} {
  const binds: SandboxBind[] = []
  let net = false
  for (const text of perms) {
    const perm = parsePermission(text)
    if (perm.kind === 'net') {
      net = true
      continue
    }
    const check = checkBind(perm.path, denyPaths)
    if (!check.ok) {
      throw new PermissionDeniedError('POLICY_DENIED', `the capability grants ${perm.path}, which cannot be mounted into a sandbox (${check.reason})`, {
        details: {reason: 'out_of_scope', path: perm.path, path_reason: check.reason, token_id: tokenId},
        hint: check.reason === 'missing' ? 'Create the directory first, or mint a token for a path that exists.' : 'Mint a token for a path outside the protected ones (secrets, tokens, the ledger).',
      })
    }
    binds.push({path: check.path, source: check.source, writable: perm.access === 'write'})
  }
  // A path granted for writing wins over the same path granted for reading; deeper binds come last.
  const byPath = new Map<string, SandboxBind>()
  for (const bind of binds) if (!byPath.get(bind.path)?.writable) byPath.set(bind.path, bind)
  return {binds: [...byPath.values()].sort((a, b) => a.path.split('/').length - b.path.split('/').length), net}
}

/** What a run may use beyond tier 2: none for tier 2, the token's grants for tier 1. */
interface Grants {
  tokenId: string | null
  binds: SandboxBind[]
  helper: HelperPlan | null
  /** Data for fds 3… of the sandbox (the token, for the network helper). */
  extraInputs: string[]
}

const NO_GRANTS: Grants = {tokenId: null, binds: [], helper: null, extraInputs: []}

/** sandbox_exec: runs a command in a tier-1 or tier-2 bubblewrap sandbox (SPEC §2.1 "Sandboxes"). */
export function createSandboxService(deps: SandboxServiceDeps) {
  const now = deps.now ?? Date.now

  /** Verifies a tier-1 token (403 POLICY_DENIED with the reason) and turns its permissions into grants. */
  function authorize(token: string, denyPaths: readonly string[]): Grants {
    const verdict = verifyCapability(token, {verifyKey: deps.verifyKey, audience: 'sandbox', now: now(), isRevoked: deps.isRevoked})
    if (!verdict.valid) {
      throw new PermissionDeniedError('POLICY_DENIED', DENY_MESSAGES[verdict.reason], {
        details: {reason: verdict.reason, ...(verdict.claims ? {token_id: verdict.claims.jti} : {})},
        hint: 'Mint a fresh token with capability_mint (audience sandbox).',
      })
    }
    const tokenId = verdict.claims.jti
    const {binds, net} = grantsOf(verdict.claims.perms, denyPaths, tokenId)
    if (!net) return {tokenId, binds, helper: null, extraInputs: []}
    if (!existsSync(deps.egressSocket)) throw new DaemonUnavailableError('egress', `the egress proxy socket ${deps.egressSocket} does not exist`)
    // The token reaches the helper on fd 3, never through the command's argv or environment.
    return {tokenId, binds, helper: {...deps.helper, egressSocket: deps.egressSocket}, extraInputs: [token]}
  }

  async function exec(input: Input, ctx: Pick<RequestContext, 'actor' | 'signal'>): Promise<Output> {
    const settings = deps.settings()
    if (!settings.enable) throw new OsmodaError('FEATURE_DISABLED', 'sandboxes are disabled on this host', {details: {option: 'sandbox.enable'}, hint: 'The operator can set sandbox.enable = true in agentd.json.'})
    if (input.timeout_secs > settings.maxTimeoutSecs) {
      throw new UsageError(`timeout_secs ${input.timeout_secs} is over this host's sandbox.maxTimeoutSecs`, {details: [`timeout_secs: at most ${settings.maxTimeoutSecs}`]})
    }

    const {tokenId, binds, helper, extraInputs} = input.tier === 1 ? authorize(input.capability as string, settings.denyPaths) : NO_GRANTS
    // Inside, /tmp is a fresh empty tmpfs: the only directories are /tmp itself and the mounted grants.
    if (input.cwd !== '/tmp' && !binds.some((b) => isUnder(input.cwd, b.path))) {
      throw new UsageError(`cwd ${input.cwd} does not exist inside the sandbox`, {details: [`cwd: /tmp${input.tier === 1 ? ' or a path the capability grants' : ' (tier 2 has nothing else)'}`]})
    }

    // Bad input and bad tokens are answered as such even on a host that cannot run sandboxes.
    const availability = await deps.probe.check()
    if (!availability.available) {
      throw new OsmodaError('SANDBOX_UNAVAILABLE', `sandboxes cannot run here: ${availability.reason}`, {details: {reason: availability.reason}, hint: 'Install bubblewrap and allow unprivileged user namespaces (kernel.unprivileged_userns_clone=1).'})
    }

    const argv = input.argv ?? ['/bin/sh', '-c', input.command as string]
    const warnings: string[] = []
    if (!deps.systemd) warnings.push(`memoryMax ${settings.memoryMax} and pidsMax ${settings.pidsMax} are not enforced: systemd is not PID 1 on this host`)
    const plan: SandboxPlan = {
      user: deps.user,
      scope: deps.systemd ? {memoryMax: settings.memoryMax, pidsMax: settings.pidsMax} : null,
      system: deps.system,
      binds,
      helper,
      cwd: input.cwd,
      argv,
    }
    const result = await runProcess(buildSandboxArgv(plan), {
      // The daemon's own cwd may be closed to the sandbox user; bwrap changes into plan.cwd anyway.
      cwd: '/',
      timeoutMs: input.timeout_secs * 1000,
      input: input.stdin ?? '',
      maxOutputBytes: input.max_output_bytes,
      signal: ctx.signal,
      extraInputs,
    })
    deps.ledger.append({
      type: 'sandbox.executed',
      actor: ctx.actor,
      payload: {tier: input.tier, ...ledgerArgv(argv), exit_code: result.exitCode, timed_out: result.timedOut, token_id: tokenId},
    })
    return {
      tier: input.tier,
      ...runOutputFields(result),
      token_id: tokenId,
      warnings,
    }
  }

  return {exec}
}

/** The sandbox service. */
export type SandboxService = ReturnType<typeof createSandboxService>
