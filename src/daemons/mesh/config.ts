import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'

const Endpoint = z.string().max(260).regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):[0-9]{1,5}$/, 'expected host:port')

/** One command a peer may run here, by name (argv, no shell; SPEC §2.5 `commandAllow`). */
export const CommandAllowEntry = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a lowercase name such as uptime'),
  command: z.string().max(4096).regex(/^\//, 'must be an absolute executable path'),
  args: z.array(z.string().max(4096)).max(64).default([]),
  timeoutSecs: z.number().int().min(1).max(600).default(30),
})

/** `<config>/mesh.json` (SPEC §2.5). */
export const MeshConfig = z.strictObject({
  ...SharedConfig,
  listenAddress: z.string().min(1).max(64).default('127.0.0.1'),
  listenPort: z.number().int().min(0).max(65_535).default(18_800).describe('0 picks a free port (tests)'),
  publicEndpoint: Endpoint.nullable().default(null),
  handshakeTimeoutSecs: z.number().int().min(1).max(120).default(10),
  maxConcurrentHandshakes: z.number().int().min(1).max(4096).default(32),
  perIpPerMinute: z.number().int().min(1).max(100_000).default(10),
  heartbeatSecs: z.number().int().min(1).max(3600).default(30),
  deadAfterSecs: z.number().int().min(2).max(86_400).default(90),
  reconnect: z
    .strictObject({
      initialSecs: z.number().min(0.05).max(3600).default(1),
      factor: z.number().min(1).max(10).default(2),
      maxSecs: z.number().min(0.05).max(86_400).default(300),
      jitter: z.number().min(0).max(1).default(0.2),
      resetAfterSecs: z.number().min(1).max(86_400).default(60),
    })
    .default({initialSecs: 1, factor: 2, maxSecs: 300, jitter: 0.2, resetAfterSecs: 60}),
  rekeyEverySecs: z.number().int().min(1).max(86_400).default(600),
  rekeyEveryMessages: z.number().int().min(1).max(1_000_000_000).default(1_000_000),
  inviteDefaultTtlSecs: z.number().int().min(60).max(86_400).default(3600),
  inviteMaxTtlSecs: z.number().int().min(60).max(86_400).default(86_400),
  roomHistoryMax: z.number().int().min(1).max(1_000_000).default(10_000),
  maxMessageBytes: z.number().int().min(65_536).max(64 * 1024 * 1024).default(4_194_304),
  commandAllow: z.array(CommandAllowEntry).max(256).default([]),
  witness: z.strictObject({enable: z.boolean().default(true), everySecs: z.number().int().min(5).max(86_400).default(300)}).default({enable: true, everySecs: 300}),
})

/** mesh's validated config. */
export type MeshConfig = z.output<typeof MeshConfig>
