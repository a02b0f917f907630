import {lookup} from 'node:dns'
import {BlockList, isIP, type LookupFunction} from 'node:net'
import {Agent, fetch} from 'undici'
import {OsmodaError} from '../../lib/errors.js'
import type {StoredCredential} from './credentials.js'

const TEST_TIMEOUT_MS = 10_000
const DEFAULT_BASE: Record<StoredCredential['provider'], string> = {anthropic: 'https://api.anthropic.com', openai: 'https://api.openai.com'}

const PRIVATE = new BlockList()
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) PRIVATE.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6')

/** True for loopback, private, link-local, CGNAT, multicast and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

// The address is checked when the socket connects, so a DNS answer cannot change between check and use.
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, {...options, all: true}, (error, addresses) => {
    if (error) return callback(error, '', 0)
    const list = addresses as unknown as {address: string; family: number}[]
    const bad = list.find((a) => isPrivateAddress(a.address))
    if (bad) return callback(Object.assign(new Error(`${hostname} resolves to the private address ${bad.address}`), {code: 'EPRIVATE'}), '', 0)
    if ((options as {all?: boolean}).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list)
    const first = list[0] as {address: string; family: number}
    callback(null, first.address, first.family)
  })
}

/** The provider's auth headers for a credential. */
function authHeaders(credential: StoredCredential): Record<string, string> {
  if (credential.provider === 'anthropic') {
    const version = {'anthropic-version': '2023-06-01'}
    return credential.type === 'oauth' ? {...version, authorization: `Bearer ${credential.secret}`, 'anthropic-beta': 'oauth-2025-04-20'} : {...version, 'x-api-key': credential.secret}
  }
  return {authorization: `Bearer ${credential.secret}`}
}

/**
 * Tests a credential by listing the provider's models (`GET <base_url>/v1/models`, 10 s). A
 * rejection by the provider is `{ok: false}`; an unreachable provider is 502, a timeout 504.
 */
export async function testCredential(credential: StoredCredential, options: {allowPrivate: boolean; timeoutMs?: number}): Promise<{ok: boolean; error: string | null; model_list: string[]}> {
  const base = (credential.base_url ?? DEFAULT_BASE[credential.provider]).replace(/\/+$/, '')
  if (!options.allowPrivate && !base.startsWith('https://')) return {ok: false, error: 'base_url must use https', model_list: []}
  const hostname = new URL(base).hostname.replace(/^\[|\]$/g, '')
  if (!options.allowPrivate && isIP(hostname) && isPrivateAddress(hostname)) return {ok: false, error: `base_url points at the private address ${hostname}`, model_list: []}
  const dispatcher = new Agent(options.allowPrivate ? {} : {connect: {lookup: publicOnlyLookup}})
  try {
    const res = await fetch(`${base}/v1/models`, {headers: authHeaders(credential), signal: AbortSignal.timeout(options.timeoutMs ?? TEST_TIMEOUT_MS), dispatcher})
    const text = await res.text()
    if (!res.ok) return {ok: false, error: `the provider answered HTTP ${res.status}${providerMessage(text)}`, model_list: []}
    let models: string[] = []
    try {
      const body = JSON.parse(text) as {data?: {id?: unknown}[]}
      models = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string').slice(0, 200)
    } catch {
      return {ok: false, error: 'the provider answered with a body that is not JSON', model_list: []}
    }
    return {ok: true, error: null, model_list: models}
  } catch (error) {
    const err = error as Error & {cause?: Error & {code?: string}}
    if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new OsmodaError('UPSTREAM_TIMEOUT', `${base} did not answer within ${(options.timeoutMs ?? TEST_TIMEOUT_MS) / 1000} s`)
    if (err.cause?.code === 'EPRIVATE') return {ok: false, error: err.cause.message, model_list: []}
    throw new OsmodaError('UPSTREAM_FAILED', `cannot reach ${base}: ${err.cause?.message ?? err.message}`, {details: {base_url: base}})
  } finally {
    await dispatcher.close()
  }
}

function providerMessage(text: string): string {
  try {
    const body = JSON.parse(text) as {error?: {message?: unknown}}
    const message = body.error?.message
    // Some providers echo part of the key ("Incorrect API key provided: sk-…"): mask key-like words.
    return typeof message === 'string' ? `: ${message.replace(/\b(sk|osm|key)[-_][A-Za-z0-9_*.-]{4,}/gi, '[redacted]').slice(0, 200)}` : ''
  } catch {
    return ''
  }
}
