import type {Socket} from 'node:net'
import type {Listener} from './events.js'
import {inspectFirstBytes, MAX_INSPECT_BYTES} from './first-bytes.js'

/** One live tunnel as GET /egress/tunnels shows it. */
export interface TunnelInfo {
  id: string
  host: string
  port: number
  token_id: string | null
  listener: Listener
  opened_at: string
  bytes_up: number
  bytes_down: number
}

/** Per-tunnel limits (SPEC §2.9). */
export interface TunnelLimits {
  requireSniMatch: boolean
  idleTimeoutMs: number
  maxLifetimeMs: number
}

/** What openTunnel needs. */
export interface TunnelOptions {
  client: Socket
  upstream: Socket
  /** Client bytes received before the tunnel opened. */
  early: Buffer
  info: TunnelInfo
  /** The CONNECT host the ClientHello's SNI must name. */
  expectedSni: string
  /** IP-literal targets: TLS clients send no SNI for them (RFC 6066), so only a different SNI is refused. */
  sniOptional: boolean
  limits: TunnelLimits
  onRefused(reason: 'nested_connect' | 'sni_mismatch'): void
  onClosed(): void
}

/**
 * Relays bytes both ways after checking the client's first bytes (SPEC §2.9 step 8): a nested
 * CONNECT or HTTP request line, or with `requireSniMatch` a ClientHello whose SNI is not the
 * CONNECT host (or is missing), closes the tunnel before a byte reaches upstream. Upstream bytes
 * flow from the start (server-first protocols). Half-close is passed on in both directions; the
 * tunnel closes when idle or at its maximum lifetime.
 */
export function openTunnel(options: TunnelOptions): {close(): void} {
  const {client, upstream, info, limits} = options
  let pending: Buffer | null = options.early
  let closed = false
  let idle: NodeJS.Timeout | null = null

  const close = () => {
    if (closed) return
    closed = true
    if (idle) clearTimeout(idle)
    clearTimeout(lifetime)
    client.destroy()
    upstream.destroy()
    options.onClosed()
  }
  const touch = () => {
    if (idle) clearTimeout(idle)
    idle = setTimeout(close, limits.idleTimeoutMs)
    idle.unref()
  }
  const lifetime = setTimeout(close, limits.maxLifetimeMs)
  lifetime.unref()
  touch()

  const forward = (from: Socket, to: Socket, count: (n: number) => void) => (chunk: Buffer) => {
    count(chunk.length)
    touch()
    if (!to.write(chunk)) {
      from.pause()
      to.once('drain', () => from.resume())
    }
  }
  const up = forward(client, upstream, (n) => (info.bytes_up += n))
  const down = forward(upstream, client, (n) => (info.bytes_down += n))

  // Decides on the first client bytes; returns true once they may go upstream.
  const inspect = (chunk: Buffer): void => {
    const buf = Buffer.concat([pending ?? Buffer.alloc(0), chunk])
    const seen = inspectFirstBytes(buf)
    if (seen.kind === 'need_more' && buf.length < MAX_INSPECT_BYTES) {
      pending = buf
      touch()
      return
    }
    let refusal: 'nested_connect' | 'sni_mismatch' | null = null
    if (seen.kind === 'http') refusal = 'nested_connect'
    else if (limits.requireSniMatch) {
      const sni = seen.kind === 'tls' ? seen.sni : null
      const ok = seen.kind === 'tls' && (sni === options.expectedSni || (sni === null && options.sniOptional))
      if (!ok) refusal = 'sni_mismatch'
    }
    if (refusal) {
      options.onRefused(refusal)
      close()
      return
    }
    pending = null
    client.off('data', inspect)
    client.on('data', up)
    if (buf.length) up(buf)
  }

  client.on('data', inspect)
  client.resume()
  upstream.on('data', down)
  client.on('end', () => {
    // The client ended before its first bytes were judged: nothing of it goes upstream.
    if (pending !== null && pending.length > 0) return close()
    upstream.end()
  })
  upstream.on('end', () => client.end())
  client.on('error', close)
  upstream.on('error', close)
  // A side that closed after a clean half-close leaves the other to flush what it still holds.
  const onClose = (other: Socket) => () => {
    if (other.writableEnded && !other.writableFinished && !other.destroyed) other.once('finish', close)
    else close()
  }
  client.on('close', onClose(upstream))
  upstream.on('close', onClose(client))
  if (pending.length) {
    const first = pending
    pending = Buffer.alloc(0)
    inspect(first)
  }
  return {close}
}
