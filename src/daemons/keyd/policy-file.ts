import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {ConflictError, OsmodaError} from '../../lib/errors.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import {issueList} from '../../lib/rpc/validation.js'
import {Policy, DEFAULT_POLICY} from './policy.js'

/** The loaded policy with the digest of its file. */
export interface LoadedPolicy {
  policy: Policy
  sha256: string
}

/**
 * keyd's policy file: `keyd/policy.json` (seeded when absent) or, when `mutable` is false, the
 * Nix-managed `<config>/keyd-policy.json`. A missing (immutable) or corrupt file fails closed:
 * every policy decision answers 503 until a reload reads a valid file.
 */
export function createPolicyHolder(options: {file: string; mutable: boolean; seed: Policy | undefined}) {
  let current: LoadedPolicy | null = null
  let problem: string | null = null

  const load = (): void => {
    let text: string
    try {
      text = readFileSync(options.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.mutable) {
        text = `${JSON.stringify(options.seed ?? DEFAULT_POLICY, null, 2)}\n`
        writeFileAtomic(options.file, text, 0o600)
      } else {
        current = null
        problem = `policy ${options.file} is unreadable: ${(error as Error).message}`
        return
      }
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      current = null
      problem = `policy ${options.file} is not valid JSON: ${(error as Error).message}`
      return
    }
    const parsed = Policy.safeParse(json)
    if (!parsed.success) {
      current = null
      problem = `policy ${options.file} is invalid: ${issueList(parsed.error).join('; ')}`.slice(0, 1000)
      return
    }
    current = {policy: parsed.data, sha256: createHash('sha256').update(text).digest('hex')}
    problem = null
  }
  load()

  return {
    mutable: options.mutable,
    /** (Re-)reads the file; a bad file leaves keyd failing closed. */
    reload: load,
    /** The problem that makes the policy unusable, or null. */
    problem: () => problem,
    loaded: () => current,
    /** The policy, or 503 NOT_READY when it cannot be read (fail closed). */
    get(): LoadedPolicy {
      if (!current) throw new OsmodaError('NOT_READY', `wallet policy unavailable, every signing request is refused: ${problem ?? 'not loaded'}`, {hint: `fix ${options.file}, then osmoda daemon reload keyd`})
      return current
    },
    /** Validates, writes atomically and applies a new policy. */
    set(policy: Policy): LoadedPolicy {
      if (!options.mutable) throw new ConflictError(`the wallet policy is managed by Nix (${options.file})`, {code: 'CONFIG_IMMUTABLE', hint: 'change services.osmoda.keyd policy in your NixOS configuration'})
      const text = `${JSON.stringify(policy, null, 2)}\n`
      writeFileAtomic(options.file, text, 0o600)
      current = {policy, sha256: createHash('sha256').update(text).digest('hex')}
      problem = null
      return current
    },
  }
}

/** The policy holder. */
export type PolicyHolder = ReturnType<typeof createPolicyHolder>
