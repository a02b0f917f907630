import {lookup as dnsLookup, type LookupAddress} from 'node:dns'
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {BlockList, isIP} from 'node:net'
import {OsmodaError} from '../../../lib/errors.js'
import type {Action} from '../api.js'
import type {ActionContext, ActionOutcome} from './context.js'

const PRIVATE_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4']
const PRIVATE_V6 = ['::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '::ffff:0:0/96']

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [net = '', bits = '0'] = cidr.split('/')
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4'
    if (isIP(net)) list.addSubnet(net, Number(bits), family)
  }
  return list
}

/** Whether `address` is private/loopback/link-local and not in `allowed` (webhooks may not reach it). */
export function isRefusedAddress(address: string, allowed: readonly string[]): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
  const isPrivate = blockList(family === 'ipv6' ? PRIVATE_V6 : PRIVATE_V4).check(address, family)
  return isPrivate && !blockList(allowed).check(address, family)
}

/**
 * webhook: one HTTP(S) request. The address is checked where the socket connects (a `lookup`
 * hook), so a name that resolves, or later re-resolves, to a private address is refused unless
 * `webhookAllowPrivateCidrs` allows it.
 */
export async function runWebhook(action: Extract<Action, {type: 'webhook'}>, ctx: ActionContext): Promise<ActionOutcome> {
  const url = new URL(action.url)
  const allowed = ctx.config.webhookAllowPrivateCidrs
  const literal = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(literal) && isRefusedAddress(literal, allowed)) throw refused(literal)
  const lookup = (host: string, options: object, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(host, {...options, all: true}, (error, addresses) => {
      if (error) return callback(error, '')
      const bad = addresses.find((a) => isRefusedAddress(a.address, allowed))
      if (bad) return callback(refused(bad.address), '')
      const all = (options as {all?: boolean}).all
      callback(null, all ? addresses : (addresses[0]?.address ?? ''), all ? undefined : addresses[0]?.family)
    })
  }
  const body = action.method === 'GET' ? undefined : (action.body ?? '')
  const headers: Record<string, string> = {'user-agent': 'osmoda-routines', ...ctx.headers()}
  if (body !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(body))
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  }
  const started = ctx.now()
  const {status, text} = await new Promise<{status: number; text: string}>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {method: action.method, headers, lookup: lookup as never, signal: ctx.signal}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (text.length < ctx.config.outputCapBytes) text += chunk
      })
      res.on('end', () => resolve({status: res.statusCode ?? 0, text: text.slice(0, ctx.config.outputCapBytes)}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  const output = {url: `${url.origin}${url.pathname}`, method: action.method, http_status: status, response: text, duration_ms: ctx.now() - started}
  return status >= 200 && status < 300 ? {status: 'ok', output} : {status: 'error', output, error: `HTTP ${status}`}
}

function refused(address: string): OsmodaError {
  return new OsmodaError('POLICY_DENIED', `webhook target ${address} is a private or loopback address`, {details: {rule_id: 'webhook_private_address', reason: address}, hint: 'allow the range in routines.json config key webhookAllowPrivateCidrs'})
}
