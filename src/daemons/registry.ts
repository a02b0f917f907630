import type {DaemonDefinition} from '../lib/daemon/runtime.js'

/**
 * Daemons built into this osmoda, each loaded lazily so `osmoda daemon agentd` imports only
 * agentd's code. Daemons of later releases join this table when they exist.
 */
export const DAEMONS = {
  agentd: async (): Promise<DaemonDefinition> => (await import('./agentd/main.js')).agentd as unknown as DaemonDefinition,
  keyd: async (): Promise<DaemonDefinition> => (await import('./keyd/main.js')).keyd as unknown as DaemonDefinition,
  egress: async (): Promise<DaemonDefinition> => (await import('./egress/main.js')).egress as unknown as DaemonDefinition,
  watch: async (): Promise<DaemonDefinition> => (await import('./watch/main.js')).watch as unknown as DaemonDefinition,
  routines: async (): Promise<DaemonDefinition> => (await import('./routines/main.js')).routines as unknown as DaemonDefinition,
  gateway: async (): Promise<DaemonDefinition> => (await import('./gateway/main.js')).gateway as unknown as DaemonDefinition,
} as const

/** A daemon this build can run. */
export type AvailableDaemon = keyof typeof DAEMONS

/** The daemons this build can run, in start order (agentd first). */
export const AVAILABLE_DAEMONS = Object.keys(DAEMONS) as AvailableDaemon[]

/** True when `name` is a daemon this build can run. */
export function isAvailableDaemon(name: string): name is AvailableDaemon {
  return Object.hasOwn(DAEMONS, name)
}
