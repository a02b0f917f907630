import {isIP} from 'node:net'
import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'
import {AllowHost, CidrText, DEFAULT_ALLOW, DEFAULT_ALLOWED_PORTS, Port} from './api.js'

/** `<config>/egress.json` (SPEC §2.9). */
export const EgressConfig = z.strictObject({
  ...SharedConfig,
  listenAddress: z.string().refine((text) => isIP(text) !== 0, 'expected an IP address such as 127.0.0.1').default('127.0.0.1'),
  listenPort: z.number().int().min(0).max(65_535).default(19_999).describe('TCP proxy port; 0 picks a free port (tests)'),
  proxySocket: z
    .string()
    .max(107)
    .regex(/^(\/|<run>\/)/, 'must be an absolute path or start with <run>/')
    .default('<run>/egress-proxy.sock'),
  defaultAllow: z.array(AllowHost).max(256).default([...DEFAULT_ALLOW]),
  allowedPorts: z.array(Port).min(1).max(64).default([...DEFAULT_ALLOWED_PORTS]),
  allowPrivateCidrs: z.array(CidrText).max(256).default([]),
  requireSniMatch: z.boolean().default(true),
  maxTunnels: z.number().int().min(1).max(100_000).default(256),
  idleTimeoutSecs: z.number().int().min(1).max(86_400).default(120),
  maxLifetimeSecs: z.number().int().min(1).max(604_800).default(3600),
  connectTimeoutSecs: z.number().int().min(1).max(300).default(10),
  dnsTimeoutSecs: z.number().int().min(1).max(60).default(5),
})

/** egress's validated config. */
export type EgressConfig = z.output<typeof EgressConfig>
