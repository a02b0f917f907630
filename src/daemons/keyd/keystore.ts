import {createCipheriv, createDecipheriv, hkdfSync, randomBytes} from 'node:crypto'
import {closeSync, constants, fsyncSync, openSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {dirname, join, relative, resolve, isAbsolute} from 'node:path'
import {OsmodaError, UsageError} from '../../lib/errors.js'
import {createFileExclusive, fsyncDir} from '../../lib/secure-file.js'
import type {OsmodaPaths} from '../../lib/paths.js'

const INFO = 'osmoda.keyd.wallet.v1'

/** What identifies a key file's owner; bound into the AAD so swapped files fail to decrypt. */
export interface KeyOwner {
  wallet_id: string
  chain: string
  address: string
}

/**
 * Where the KEK is read from (SPEC §2.2): the configured file, else the systemd credential
 * (`keyd.kek`, or `kek`), else `<config>/secrets/keyd.kek`.
 */
export function resolveKekFile(paths: OsmodaPaths, configured: string | undefined, env: Record<string, string | undefined>): string {
  if (configured) return configured
  if (env.CREDENTIALS_DIRECTORY) {
    for (const name of ['keyd.kek', 'kek']) {
      const candidate = join(env.CREDENTIALS_DIRECTORY, name)
      if (exists(candidate)) return candidate
    }
    return join(env.CREDENTIALS_DIRECTORY, 'keyd.kek')
  }
  return join(paths.configDir, 'secrets', 'keyd.kek')
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(safeReal(dir), safeReal(path))
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

function safeReal(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

/**
 * Reads the KEK: 32 raw bytes or 64 hex digits (a trailing newline allowed). Returns null when the
 * file does not exist; throws on a file inside the state directory (it would land in backups), a
 * group/world-readable file or a malformed one. Never creates a KEK.
 */
export function readKek(file: string, stateDir: string): Buffer | null {
  if (inside(stateDir, file)) {
    throw new UsageError(`kekFile ${file} is inside the state directory ${stateDir}, which backups copy`, {hint: 'keep the KEK in a systemd credential or under <config>/secrets/'})
  }
  let raw: Buffer
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new OsmodaError('KEYSTORE_LOCKED', `kekFile ${file} is readable by group or others`, {details: {kek_file: file}, hint: `chmod 600 ${file}`})
    }
    raw = readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const text = raw.toString('latin1').trim()
  if (raw.length === 32) return raw
  raw.fill(0)
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex')
  throw new OsmodaError('KEYSTORE_LOCKED', `kekFile ${file} is not a 32-byte key (32 raw bytes or 64 hex digits)`, {details: {kek_file: file}, hint: 'restore the original KEK; keyd never replaces it'})
}

/** The on-disk key file `{v:1, nonce, ct}` (base64; ct carries the 16-byte GCM tag at its end). */
interface KeyFile {
  v: 1
  nonce: string
  ct: string
}

/**
 * The wallet keystore under `keyd/keys/`: AES-256-GCM per key, a fresh 96-bit nonce, key =
 * HKDF-SHA256(KEK, salt=wallet_id), AAD = `osmoda.keyd.v1|<wallet_id>|<chain>|<address>`.
 */
export function createKeystore(options: {dir: string; kek: Buffer | null; kekFile: string}) {
  const {dir, kekFile} = options
  const kek = options.kek
  const locked = () =>
    new OsmodaError('KEYSTORE_LOCKED', `the keystore is locked: no key-encryption key at ${kekFile}`, {
      details: {kek_file: kekFile},
      hint: 'provide the KEK as the systemd credential keyd.kek or at kekFile (osmoda init creates one when no wallet exists), then restart keyd',
    })
  const fileOf = (walletId: string) => join(dir, `${walletId}.key`)
  const aad = (o: KeyOwner) => Buffer.from(`osmoda.keyd.v1|${o.wallet_id}|${o.chain}|${o.address}`)
  const derive = (walletId: string) => {
    if (!kek) throw locked()
    return Buffer.from(hkdfSync('sha256', kek, Buffer.from(walletId), Buffer.from(INFO), 32))
  }

  return {
    get unlocked(): boolean {
      return kek !== null
    },
    kekFile,
    /** Throws KEYSTORE_LOCKED unless a KEK is loaded. */
    requireUnlocked(): void {
      if (!kek) throw locked()
    },
    /** Encrypts and durably writes a new key file (0600, O_EXCL: never overwrites). */
    store(owner: KeyOwner, secret: Uint8Array): void {
      const key = derive(owner.wallet_id)
      const nonce = randomBytes(12)
      try {
        const cipher = createCipheriv('aes-256-gcm', key, nonce)
        cipher.setAAD(aad(owner))
        const ct = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()])
        const body: KeyFile = {v: 1, nonce: nonce.toString('base64'), ct: ct.toString('base64')}
        if (!createFileExclusive(fileOf(owner.wallet_id), JSON.stringify(body), 0o600)) throw new OsmodaError('INTERNAL', `key file for ${owner.wallet_id} already exists`)
      } finally {
        key.fill(0)
      }
    },
    /**
     * Decrypts a wallet's key, hands it to `use`, and zeroes it afterwards (no cache). A missing,
     * truncated, tampered or swapped file, or a wrong KEK, is KEYSTORE_LOCKED; nothing is rewritten.
     */
    withKey<T>(owner: KeyOwner, use: (secret: Uint8Array) => T): T {
      const key = derive(owner.wallet_id)
      let secret: Buffer | null = null
      try {
        secret = decryptFile(fileOf(owner.wallet_id), key, aad(owner), owner.wallet_id, kekFile)
        return use(secret)
      } finally {
        key.fill(0)
        secret?.fill(0)
      }
    },
    /** Overwrites the key file with random bytes, fsyncs and unlinks it. */
    destroy(walletId: string): void {
      const file = fileOf(walletId)
      let size: number
      try {
        size = statSync(file).size
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
        throw error
      }
      const fd = openSync(file, constants.O_WRONLY)
      try {
        writeSync(fd, randomBytes(Math.max(size, 64)), 0, Math.max(size, 64), 0)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      unlinkSync(file)
      fsyncDir(dirname(file))
    },
    /** Wallet ids of the key files on disk. */
    listFiles(): string[] {
      try {
        return readdirSync(dir).filter((f) => /^wal_[0-9A-Z]{26}\.key$/.test(f)).map((f) => f.slice(0, -4))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
    },
  }
}

/** The keystore. */
export type Keystore = ReturnType<typeof createKeystore>

function decryptFile(file: string, key: Buffer, aad: Buffer, walletId: string, kekFile: string): Buffer {
  const fail = (why: string) =>
    new OsmodaError('KEYSTORE_LOCKED', `cannot decrypt the key of wallet ${walletId}: ${why}`, {
      details: {wallet_id: walletId, kek_file: kekFile},
      hint: `check that ${kekFile} is the KEK these wallets were created with and that keyd/keys/${walletId}.key is intact (restore it from a backup); keyd rewrites nothing`,
    })
  let parsed: KeyFile
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyFile
  } catch (error) {
    throw fail((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'key file missing' : 'key file unreadable or truncated')
  }
  if (parsed?.v !== 1 || typeof parsed.nonce !== 'string' || typeof parsed.ct !== 'string') throw fail('key file malformed')
  const nonce = Buffer.from(parsed.nonce, 'base64')
  const ct = Buffer.from(parsed.ct, 'base64')
  if (nonce.length !== 12 || ct.length < 17) throw fail('key file truncated')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce)
    decipher.setAAD(aad)
    decipher.setAuthTag(ct.subarray(ct.length - 16))
    const head = decipher.update(ct.subarray(0, ct.length - 16))
    const tail = decipher.final()
    const secret = Buffer.concat([head, tail])
    head.fill(0)
    tail.fill(0)
    return secret
  } catch {
    throw fail('authentication failed (wrong KEK, or the file was tampered with or belongs to another wallet)')
  }
}
