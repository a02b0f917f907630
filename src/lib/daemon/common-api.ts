import {z} from 'zod'
import {route} from '../rpc/route.js'
import {HealthBase} from '../schema/primitives.js'

/** What POST /reload answers on every daemon (SPEC §1.13). */
export const ReloadOutput = z.object({reloaded: z.boolean(), changed: z.array(z.string())})

/**
 * The two routes every daemon serves, for callers that talk to any daemon (status, reload, the
 * supervisor): the common /health fields (extra daemon fields pass through) and POST /reload.
 */
export const commonApi = {
  health: route('GET', '/health', {output: HealthBase.loose(), roles: ['operator', 'agent']}),
  reload: route('POST', '/reload', {output: ReloadOutput, roles: ['operator']}),
} as const
