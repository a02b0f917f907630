import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {domainToASCII} from 'node:url'
import {z} from 'zod'
import {parsePermission} from '../../lib/capability.js'
import {commonApi} from '../../lib/daemon/common-api.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime} from '../../lib/schema/primitives.js'
import {parseCidr} from './cidr.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** SPEC §2.9 defaults of `defaultAllow` and `allowedPorts`. */
export const DEFAULT_ALLOW: readonly string[] = ['cache.nixos.org', 'channels.nixos.org', 'github.com', 'api.anthropic.com']
export const DEFAULT_ALLOWED_PORTS: readonly number[] = [443]

/** A host allowed without a token: an exact name, `*.suffix`, or an IP literal (the `net:` host grammar, no port). */
export const AllowHost = z
  .string()
  .min(1)
  .max(253)
  .transform((text) => {
    // Unicode names are kept in their IDNA (punycode) form, the form CONNECT hosts are compared in.
    const wildcard = text.startsWith('*.')
    const ascii = text.startsWith('[') ? text.toLowerCase() : domainToASCII(text.slice(wildcard ? 2 : 0).toLowerCase().replace(/\.$/, ''))
    return ascii ? `${wildcard ? '*.' : ''}${ascii}` : text
  })
  .refine((text) => {
    try {
      return parsePermission(`net:${text}`).kind === 'net' && !/:\d+$/.test(text.replace(/^\[.*\]$/, ''))
    } catch {
      return false
    }
  }, 'expected a host name such as github.com or *.example.com (no port)')

/** A CIDR range or single address. */
export const CidrText = z
  .string()
  .min(2)
  .max(64)
  .refine((text) => {
    try {
      parseCidr(text)
      return true
    } catch {
      return false
    }
  }, 'expected a CIDR range such as 10.1.2.0/24 or fd00::/64')

export const Port = z.number().int().min(1).max(65_535)

/** `egress/allowlist.json`: the operator's allowlist, over the Nix-written config. */
export const AllowlistFile = z.strictObject({
  default_allow: z.array(AllowHost).max(256),
  allowed_ports: z.array(Port).min(1).max(64),
  allow_private_cidrs: z.array(CidrText).max(256),
})
export type AllowlistFile = z.output<typeof AllowlistFile>

/** The allowlist egress applies and where it came from. */
export const Allowlist = AllowlistFile.extend({source: z.enum(['nix', 'state']).describe('nix: the config file; state: set with PUT /egress/allowlist')})
export type Allowlist = z.output<typeof Allowlist>

/** Where egress keeps the operator's allowlist. */
export function allowlistFile(paths: Pick<OsmodaPaths, 'daemonStateDir'>): string {
  return join(paths.daemonStateDir('egress'), 'allowlist.json')
}

/**
 * The allowlist egress applies, read from disk: `<state>/egress/allowlist.json` when present, else
 * the `defaultAllow`/`allowedPorts`/`allowPrivateCidrs` of `<config>/egress.json`, else the SPEC
 * defaults. agentd uses it to decide whether minting a capability needs an approval.
 */
export function readAllowlist(paths: Pick<OsmodaPaths, 'daemonStateDir' | 'configFile'>): Allowlist {
  const stored = readJson(allowlistFile(paths))
  if (stored !== undefined) {
    const parsed = AllowlistFile.safeParse(stored)
    if (parsed.success) return {...parsed.data, source: 'state'}
  }
  const config = readJson(paths.configFile('egress')) as Record<string, unknown> | undefined
  const fromConfig = AllowlistFile.partial().safeParse({
    default_allow: config?.defaultAllow,
    allowed_ports: config?.allowedPorts,
    allow_private_cidrs: config?.allowPrivateCidrs,
  })
  const values = fromConfig.success ? fromConfig.data : {}
  return {
    default_allow: values.default_allow ?? [...DEFAULT_ALLOW],
    allowed_ports: values.allowed_ports ?? [...DEFAULT_ALLOWED_PORTS],
    allow_private_cidrs: values.allow_private_cidrs ?? [],
    source: 'nix',
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown
  } catch {
    return undefined
  }
}

/** GET /health of egress. */
export const EgressHealth = HealthBase.extend({
  tunnels_active: z.number().int(),
  allowed_total: z.number().int(),
  denied_total: z.number().int(),
  revocations_fresh: z.boolean().describe('False until agentd answered GET /capability/revoked, and after 60 s without an answer: tokens are refused meanwhile'),
  listen: z.object({address: z.string(), port: z.number().int().nullable(), proxy_socket: z.string()}),
})

/** One live tunnel. */
export const Tunnel = z.object({
  id: z.string(),
  host: z.string(),
  port: z.number().int(),
  token_id: z.string().nullable(),
  listener: z.enum(['tcp', 'unix']),
  opened_at: IsoTime,
  bytes_up: z.number().int(),
  bytes_down: z.number().int(),
})

/** Input of PUT /egress/allowlist; omitted fields keep their current value. */
export const AllowlistPutInput = z.strictObject({
  default_allow: z.array(AllowHost).max(256).describe('Hosts reachable without a token on the TCP listener: exact names or *.suffix'),
  allowed_ports: z.array(Port).min(1).max(64).optional(),
  allow_private_cidrs: z.array(CidrText).max(256).optional(),
})

/** egress's routes (the CONNECT proxy itself listens separately). */
export const egressApi = {
  health: route('GET', '/health', {output: EgressHealth, roles: OA}),
  reload: commonApi.reload,
  allowlistGet: route('GET', '/egress/allowlist', {output: Allowlist, roles: OA}),
  allowlistPut: route('PUT', '/egress/allowlist', {input: AllowlistPutInput, output: Allowlist, roles: O}),
  tunnels: route('GET', '/egress/tunnels', {output: z.object({tunnels: z.array(Tunnel)}), roles: O}),
} as const

/** The egress route table's type. */
export type EgressApi = typeof egressApi
