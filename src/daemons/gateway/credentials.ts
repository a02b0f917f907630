import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {readFileSync, statSync, realpathSync} from 'node:fs'
import {isAbsolute, join, relative, resolve} from 'node:path'
import {z} from 'zod'
import {ConflictError, NotFoundError, OsmodaError, UsageError} from '../../lib/errors.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {IsoTime} from '../../lib/schema/primitives.js'
import {createFileExclusive, writeFileAtomic} from '../../lib/secure-file.js'

const AAD = Buffer.from('osmoda.gateway.credentials.v1')
const MAX_CREDENTIALS = 64

export const CredentialLabel = z.string().min(1).max(60).describe('Human label')
const Provider = z.enum(['anthropic', 'openai'])
const AuthType = z.enum(['oauth', 'api_key'])
const BaseUrl = z.string().max(2048).url().refine((u) => /^https?:\/\//.test(u), 'must be http(s)')

/** POST /config/credentials body. */
export const CredentialInput = z.strictObject({
  label: CredentialLabel.optional(),
  provider: Provider,
  type: AuthType,
  secret: z.string().min(10).max(4096).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  base_url: BaseUrl.nullable().optional(),
})

const Stored = z.strictObject({
  id: z.string(),
  label: z.string(),
  provider: Provider,
  type: AuthType,
  secret: z.string(),
  base_url: z.string().nullable(),
  created_at: IsoTime,
  last_tested_at: IsoTime.nullable(),
  last_test_ok: z.boolean().nullable(),
  last_test_error: z.string().nullable(),
  last_used_at: IsoTime.nullable(),
})
const Plain = z.strictObject({version: z.literal(1), default_credential_id: z.string().nullable(), credentials: z.array(Stored).max(MAX_CREDENTIALS)})

/** A credential as responses show it: `secret_preview`, never `secret`. */
export const CredentialView = Stored.omit({secret: true}).extend({secret_preview: z.string(), is_default: z.boolean()})

export type StoredCredential = z.output<typeof Stored>
export type CredentialView = z.output<typeof CredentialView>

/** First 12 + `…` + last 4 characters (SPEC §2.10). */
export function secretPreview(secret: string): string {
  return secret.length <= 16 ? `${secret.slice(0, 4)}…` : `${secret.slice(0, 12)}…${secret.slice(-4)}`
}

/** Where the credstore key lives: config, else the systemd credential, else `<config>/secrets/gateway.key`. */
export function resolveCredstoreKeyFile(paths: OsmodaPaths, configured: string | undefined, env: Record<string, string | undefined>): string {
  if (configured) return configured
  if (env.CREDENTIALS_DIRECTORY) return join(env.CREDENTIALS_DIRECTORY, 'credstore-key')
  return join(paths.configDir, 'secrets', 'gateway.key')
}

function inside(dir: string, path: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return resolve(p)
    }
  }
  const rel = relative(real(dir), real(path))
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Reads the 32-byte key (raw or 64 hex digits). Returns null when missing; throws KEYSTORE_LOCKED
 * for a key inside the state directory (backups would carry it beside the ciphertext) or a
 * malformed one.
 */
export function readCredstoreKey(file: string, stateDir: string): Buffer | null {
  if (inside(stateDir, file)) throw new OsmodaError('KEYSTORE_LOCKED', `credstoreKeyFile ${file} is inside the state directory`, {hint: 'keep it under <config>/secrets/ or in a systemd credential'})
  let raw: Buffer
  try {
    statSync(file)
    raw = readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new OsmodaError('KEYSTORE_LOCKED', `cannot read credstoreKeyFile ${file}: ${(error as Error).message}`)
  }
  if (raw.length === 32) return raw
  const text = raw.toString('latin1').trim()
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex')
  throw new OsmodaError('KEYSTORE_LOCKED', `credstoreKeyFile ${file} is not a 32-byte key`, {hint: 'restore the original gateway.key; the gateway never replaces it'})
}

/** Creates `<config>/secrets/gateway.key` when missing and no encrypted store exists (`osmoda init`, dev start). */
export function ensureCredstoreKey(keyFile: string, encFile: string): boolean {
  try {
    statSync(encFile)
    return false
  } catch {
    // No ciphertext yet: a new key loses nothing.
  }
  const key = randomBytes(32)
  try {
    return createFileExclusive(keyFile, key, 0o600)
  } finally {
    key.fill(0)
  }
}

/** Encrypts the plaintext document as `{v:1, nonce, ct}` (AES-256-GCM, tag appended to ct). */
export function sealCredentials(key: Buffer, plain: unknown): string {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(AAD)
  const ct = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final(), cipher.getAuthTag()])
  return `${JSON.stringify({v: 1, nonce: nonce.toString('base64'), ct: ct.toString('base64')})}\n`
}

/** Decrypts credentials.json.enc; any failure is KEYSTORE_LOCKED. */
export function openCredentials(key: Buffer, text: string): z.output<typeof Plain> {
  try {
    const box = JSON.parse(text) as {v: number; nonce: string; ct: string}
    if (box.v !== 1) throw new Error('unknown version')
    const ct = Buffer.from(box.ct, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.nonce, 'base64'))
    decipher.setAAD(AAD)
    decipher.setAuthTag(ct.subarray(ct.length - 16))
    const plain = Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString('utf8')
    return Plain.parse(JSON.parse(plain))
  } catch {
    throw locked('credentials.json.enc cannot be decrypted with this key')
  }
}

function locked(message: string): OsmodaError {
  return new OsmodaError('KEYSTORE_LOCKED', message, {hint: 'restore the original <config>/secrets/gateway.key (or the credstore-key credential); the file is never overwritten'})
}

/** The encrypted credential store (single writer; every change rewrites the file atomically, 0600). */
export interface CredentialStore {
  readonly locked: boolean
  list(): {default_credential_id: string | null; credentials: CredentialView[]}
  add(input: z.output<typeof CredentialInput>): CredentialView
  rename(id: string, label: string): CredentialView
  setDefault(id: string): string
  remove(id: string, inUseBy: string[]): void
  /** The full credential for a run or a test (never returned by a route). */
  secretFor(id: string | null): StoredCredential | null
  /** Records the outcome of a test or a use. */
  note(id: string, update: Partial<Pick<StoredCredential, 'last_tested_at' | 'last_test_ok' | 'last_test_error' | 'last_used_at'>>): void
  exists(id: string): boolean | null
  count(): number | null
}

/** Opens the store: missing file = empty; a wrong key leaves it locked (503), never rewritten. */
export function openCredentialStore(options: {file: string; key: Buffer | null; clock?: () => number; newId: () => string; lockReason?: string}): CredentialStore {
  const clock = options.clock ?? Date.now
  let doc: z.output<typeof Plain> | null = null
  let lockReason: string | null = null
  if (!options.key) lockReason = options.lockReason ?? 'the credstore key is missing'
  else {
    try {
      doc = openCredentials(options.key, readFileSync(options.file, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') doc = {version: 1, default_credential_id: null, credentials: []}
      else lockReason = (error as Error).message
    }
  }
  const current = () => {
    if (!doc) throw locked(lockReason ?? 'credentials are locked')
    return doc
  }
  const save = (next: z.output<typeof Plain>) => {
    writeFileAtomic(options.file, sealCredentials(options.key as Buffer, next), 0o600)
    doc = next
  }
  const view = (c: StoredCredential): CredentialView => {
    const {secret, ...rest} = c
    return {...rest, secret_preview: secretPreview(secret), is_default: current().default_credential_id === c.id}
  }
  const find = (id: string) => {
    const found = current().credentials.find((c) => c.id === id)
    if (!found) throw new NotFoundError(`no credential ${id}`, {hint: 'osmoda credential list'})
    return found
  }
  const update = (id: string, patch: Partial<StoredCredential>) => {
    const d = current()
    save({...d, credentials: d.credentials.map((c) => (c.id === id ? {...c, ...patch} : c))})
  }
  return {
    get locked() {
      return doc === null
    },
    list() {
      const d = current()
      return {default_credential_id: d.default_credential_id, credentials: d.credentials.map(view)}
    },
    add(input) {
      const d = current()
      if (d.credentials.length >= MAX_CREDENTIALS) throw new ConflictError(`at most ${MAX_CREDENTIALS} credentials`, {details: {state: 'limit'}})
      const id = options.newId()
      const credential: StoredCredential = {
        id,
        label: input.label ?? `${input.provider} ${input.type}`,
        provider: input.provider,
        type: input.type,
        secret: input.secret,
        base_url: input.base_url ?? null,
        created_at: new Date(clock()).toISOString(),
        last_tested_at: null,
        last_test_ok: null,
        last_test_error: null,
        last_used_at: null,
      }
      save({...d, default_credential_id: d.default_credential_id ?? id, credentials: [...d.credentials, credential]})
      return view(credential)
    },
    rename(id, label) {
      find(id)
      update(id, {label})
      return view(find(id))
    },
    setDefault(id) {
      find(id)
      save({...current(), default_credential_id: id})
      return id
    },
    remove(id, inUseBy) {
      find(id)
      if (inUseBy.length) throw new ConflictError(`credential ${id} is used by ${inUseBy.join(', ')}`, {code: 'CREDENTIAL_IN_USE', details: {agent_ids: inUseBy}, hint: 'point those agents at another credential first'})
      const d = current()
      const rest = d.credentials.filter((c) => c.id !== id)
      save({...d, default_credential_id: d.default_credential_id === id ? (rest[0]?.id ?? null) : d.default_credential_id, credentials: rest})
    },
    secretFor(id) {
      if (!doc) return null
      const wanted = id ?? doc.default_credential_id
      return doc.credentials.find((c) => c.id === wanted) ?? null
    },
    note(id, patch) {
      if (doc?.credentials.some((c) => c.id === id)) update(id, patch)
    },
    exists: (id) => (doc ? doc.credentials.some((c) => c.id === id) : null),
    count: () => (doc ? doc.credentials.length : null),
  }
}

/** Validates a base_url for the configured policy (https unless private URLs are allowed). */
export function checkBaseUrl(url: string | null | undefined, allowPrivate: boolean): void {
  if (!url || allowPrivate) return
  if (!url.startsWith('https://')) throw new UsageError('base_url must use https', {details: ['base_url: must use https (allowPrivateBaseUrls is off)']})
}
