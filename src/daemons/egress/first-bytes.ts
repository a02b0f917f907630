/**
 * What a tunnel's client sends first (SPEC §2.9 step 8): a TLS ClientHello (and its SNI), an HTTP
 * request line (a nested CONNECT or plain HTTP, refused), or something else. Parsed by hand, with
 * bounds checks on every length, because the bytes come from an untrusted sandbox.
 */
export type FirstBytes = {kind: 'need_more'} | {kind: 'tls'; sni: string | null} | {kind: 'http'; method: string} | {kind: 'other'}

/** The most bytes held back while deciding (one TLS record plus its header). */
export const MAX_INSPECT_BYTES = 16_384 + 5

const METHODS = ['CONNECT', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PRI']

/** Classifies the bytes received so far. */
export function inspectFirstBytes(buf: Buffer): FirstBytes {
  if (buf.length === 0) return {kind: 'need_more'}
  if (buf[0] === 0x16) return inspectTls(buf)
  const prefix = buf.subarray(0, 8).toString('latin1')
  for (const method of METHODS) {
    const line = `${method} `
    if (prefix.length >= line.length ? prefix.startsWith(line) : line.startsWith(prefix)) {
      return prefix.length >= line.length ? {kind: 'http', method} : {kind: 'need_more'}
    }
  }
  return {kind: 'other'}
}

function inspectTls(buf: Buffer): FirstBytes {
  if (buf.length < 5) return {kind: 'need_more'}
  const recordLength = buf.readUInt16BE(3)
  if (recordLength > 16_384 + 2048) return {kind: 'tls', sni: null}
  if (buf.length < 5 + recordLength) return buf.length >= MAX_INSPECT_BYTES ? {kind: 'tls', sni: null} : {kind: 'need_more'}
  return {kind: 'tls', sni: parseClientHelloSni(buf.subarray(5, 5 + recordLength))}
}

/**
 * The host_name of the server_name extension in a ClientHello handshake message, lowercased and
 * without a trailing dot; null when absent or when the message does not parse (a ClientHello split
 * over several records counts as absent).
 */
export function parseClientHelloSni(hs: Buffer): string | null {
  let at = 0
  const need = (n: number) => at + n <= hs.length
  if (!need(4) || hs[0] !== 0x01) return null
  const bodyLength = hs.readUIntBE(1, 3)
  at = 4
  const end = at + bodyLength
  if (end > hs.length) return null
  at += 2 + 32 // client_version, random
  if (!need(1)) return null
  at += 1 + (hs[at] as number) // session_id
  if (!need(2)) return null
  at += 2 + hs.readUInt16BE(at) // cipher_suites
  if (!need(1)) return null
  at += 1 + (hs[at] as number) // compression_methods
  if (at === end) return null // no extensions
  if (!need(2)) return null
  const extEnd = at + 2 + hs.readUInt16BE(at)
  at += 2
  if (extEnd > end) return null
  while (at + 4 <= extEnd) {
    const type = hs.readUInt16BE(at)
    const length = hs.readUInt16BE(at + 2)
    at += 4
    if (at + length > extEnd) return null
    if (type === 0x0000) return parseServerName(hs.subarray(at, at + length))
    at += length
  }
  return null
}

function parseServerName(ext: Buffer): string | null {
  if (ext.length < 2) return null
  const listEnd = 2 + ext.readUInt16BE(0)
  if (listEnd > ext.length) return null
  let at = 2
  while (at + 3 <= listEnd) {
    const nameType = ext[at] as number
    const length = ext.readUInt16BE(at + 1)
    at += 3
    if (at + length > listEnd) return null
    if (nameType === 0) {
      const name = ext.subarray(at, at + length).toString('latin1')
      if (!/^[\x21-\x7e]{1,255}$/.test(name)) return null
      return name.toLowerCase().replace(/\.$/, '')
    }
    at += length
  }
  return null
}

/** A minimal ClientHello record carrying `sni` (or none), for tests and diagnostics. */
export function buildClientHello(sni: string | null): Buffer {
  const ext: Buffer[] = []
  if (sni !== null) {
    const name = Buffer.from(sni, 'latin1')
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name])
    const list = Buffer.concat([u16(entry.length), entry])
    ext.push(Buffer.concat([u16(0), u16(list.length), list]))
  }
  const extensions = Buffer.concat(ext)
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]),
    u16(extensions.length),
    extensions,
  ])
  const hs = Buffer.concat([Buffer.from([0x01, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body])
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(hs.length), hs])
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}
