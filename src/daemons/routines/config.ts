import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'

const Cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'expected a CIDR range such as 10.0.0.0/8 or 127.0.0.1/32')

/** `<config>/routines.json` (SPEC §2.4). */
export const RoutinesConfig = z.strictObject({
  ...SharedConfig,
  routinesFile: z.string().regex(/^(\/|<state>\/)/, 'must be an absolute path or start with <state>/').default('<state>/routines/routines.json'),
  installDefaults: z.boolean().default(true),
  maxConcurrent: z.number().int().min(1).max(64).default(4),
  historyPerRoutine: z.number().int().min(1).max(10_000).default(100),
  outputCapBytes: z.number().int().min(256).max(1_048_576).default(8192),
  commandTimeout: z
    .strictObject({defaultSecs: z.number().int().min(1).max(86_400).default(30), maxSecs: z.number().int().min(1).max(86_400).default(600)})
    .refine((t) => t.defaultSecs <= t.maxSecs, 'defaultSecs must not exceed maxSecs')
    .default({defaultSecs: 30, maxSecs: 600}),
  webhookTimeoutSecs: z.number().int().min(1).max(300).default(15),
  webhookAllowPrivateCidrs: z.array(Cidr).max(64).default([]).describe('Private/loopback ranges webhook actions may reach (default none)'),
})

/** routines' validated config. */
export type RoutinesConfig = z.output<typeof RoutinesConfig>
