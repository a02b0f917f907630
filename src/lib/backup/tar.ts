import {VerificationError} from '../errors.js'

/**
 * A minimal POSIX ustar writer and reader for osmoda backups: regular files and directories only.
 * Backups never hold links or devices, so the reader reports any other type and the restore refuses
 * the archive; nothing here touches the filesystem.
 */

const BLOCK = 512

/** One archive member. */
export interface TarEntry {
  /** Path inside the archive as written (directories without the trailing slash). */
  name: string
  /** `file`, `dir`, or `other:<typeflag>` for anything a backup never contains. */
  type: 'file' | 'dir' | `other:${string}`
  mode: number
  uid: number
  gid: number
  mtime: number
  /** Contents of a file; empty for everything else. */
  data: Buffer
}

/** A member to write. */
export interface TarInput {
  name: string
  type: 'file' | 'dir'
  mode: number
  /** Owner, so a restore run as root gives each daemon's files back to its user (default 0). */
  uid?: number
  gid?: number
  mtime?: number
  data?: Buffer
  /** Raw ustar typeflag, to craft hostile archives in tests (e.g. '2' symlink). */
  typeflag?: string
  linkname?: string
}

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length > length) throw new RangeError(`tar field too long: ${value}`)
  bytes.copy(header, offset)
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  // length - 1 octal digits and a NUL.
  const text = Math.floor(value).toString(8).padStart(length - 1, '0')
  if (text.length > length - 1) throw new RangeError(`tar number ${value} does not fit ${length} bytes`)
  header.write(`${text}\0`, offset, 'ascii')
}

/** Splits a long name into ustar prefix (≤155) and name (≤100) at a slash. */
function splitName(name: string): {prefix: string; name: string} {
  if (Buffer.byteLength(name) <= 100) return {prefix: '', name}
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i)
    const rest = name.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return {prefix, name: rest}
  }
  throw new RangeError(`path too long for ustar: ${name}`)
}

/** The 512-byte ustar header of one member. */
export function tarHeader(input: TarInput): Buffer {
  const header = Buffer.alloc(BLOCK)
  const size = input.type === 'file' ? (input.data?.length ?? 0) : 0
  const full = input.type === 'dir' && !input.name.endsWith('/') ? `${input.name}/` : input.name
  const {prefix, name} = splitName(full)
  writeString(header, 0, 100, name)
  writeOctal(header, 100, 8, input.mode & 0o7777)
  writeOctal(header, 108, 8, input.uid ?? 0)
  writeOctal(header, 116, 8, input.gid ?? 0)
  writeOctal(header, 124, 12, size)
  writeOctal(header, 136, 12, Math.floor((input.mtime ?? 0) / 1000))
  header.write('        ', 148, 'ascii')
  header.write(input.typeflag ?? (input.type === 'dir' ? '5' : '0'), 156, 'ascii')
  writeString(header, 157, 100, input.linkname ?? '')
  header.write('ustar\0', 257, 'ascii')
  header.write('00', 263, 'ascii')
  writeString(header, 345, 155, prefix)
  let sum = 0
  for (const byte of header) sum += byte
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return header
}

/** Zero padding that completes a member's data to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK)

/** The blocks of one member: header, data and padding. */
export function tarMember(input: TarInput): Buffer[] {
  const data = input.type === 'file' ? (input.data ?? Buffer.alloc(0)) : Buffer.alloc(0)
  return [tarHeader(input), data, tarPadding(data.length)]
}

/** A whole (uncompressed) archive of the given members. */
export function buildTar(inputs: readonly TarInput[]): Buffer {
  return Buffer.concat([...inputs.flatMap(tarMember), TAR_END])
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length)
  const end = field.indexOf(0)
  return field.subarray(0, end === -1 ? length : end).toString('utf8')
}

function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = block.toString('ascii', offset, offset + length).replace(/[\0 ]+$/, '').replace(/^ +/, '')
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new VerificationError(`tar header field ${what} is not octal`)
  return parseInt(text, 8)
}

/**
 * Parses an uncompressed ustar archive. Checksums and the ustar magic are checked; a malformed or
 * truncated archive is a VerificationError. Member names are returned as written: callers check them.
 */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = []
  let offset = 0
  while (true) {
    if (offset + BLOCK > archive.length) throw new VerificationError('the archive is truncated (no end-of-archive marker)')
    const block = archive.subarray(offset, offset + BLOCK)
    if (block.every((b) => b === 0)) break
    const stored = readOctal(block, 148, 8, 'chksum')
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number)
    if (sum !== stored) throw new VerificationError(`tar header checksum mismatch at offset ${offset}`)
    if (block.toString('ascii', 257, 262) !== 'ustar') throw new VerificationError(`member at offset ${offset} is not a ustar header`)
    const prefix = readString(block, 345, 155)
    const rawName = readString(block, 0, 100)
    const name = prefix ? `${prefix}/${rawName}` : rawName
    const size = readOctal(block, 124, 12, 'size')
    const flag = block.toString('ascii', 156, 157)
    const type: TarEntry['type'] = flag === '0' || flag === '\0' ? 'file' : flag === '5' ? 'dir' : `other:${flag}`
    const start = offset + BLOCK
    const end = start + size
    if (end > archive.length) throw new VerificationError(`member ${name} is truncated`)
    entries.push({
      name: type === 'dir' ? name.replace(/\/+$/, '') : name,
      type,
      mode: readOctal(block, 100, 8, 'mode'),
      uid: readOctal(block, 108, 8, 'uid'),
      gid: readOctal(block, 116, 8, 'gid'),
      mtime: readOctal(block, 136, 12, 'mtime') * 1000,
      data: type === 'file' ? Buffer.from(archive.subarray(start, end)) : Buffer.alloc(0),
    })
    offset = start + size + ((BLOCK - (size % BLOCK)) % BLOCK)
  }
  return entries
}
