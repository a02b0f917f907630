import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'
import {ChannelsConfig} from './channels/config.js'

const FilePath = z.string().regex(/^(\/|<state>\/)[^\0]*$/, 'must be absolute or start with <state>/').max(4096)
const AbsolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path').max(4096)

/** `<config>/gateway.json`: the keys of SPEC §2.10 this release implements. */
export const GatewayConfig = z.strictObject({
  ...SharedConfig,
  listenAddress: z.string().min(1).max(255).default('127.0.0.1').describe('TCP address of the HTTP+WS listener (loopback by default)'),
  port: z.number().int().min(0).max(65535).default(18789).describe('TCP port (0 = any free port, tests)'),
  agentsFile: FilePath.default('<state>/gateway/agents.json'),
  agentsSeed: z.unknown().optional().describe('agents.json content written only when the file is absent (default: the two built-in profiles)'),
  agentsMutable: z.boolean().default(true).describe('false: config writes answer 409 CONFIG_IMMUTABLE'),
  sessionsFile: FilePath.default('<state>/gateway/sessions.json'),
  sessionScope: z.enum(['agent', 'channel_user']).default('agent'),
  sessionTtlDays: z.number().int().min(1).max(3650).default(30),
  chatWatchdogMs: z.number().int().min(100).max(86_400_000).default(900_000),
  firstSignalTimeoutMs: z.number().int().min(100).max(86_400_000).default(600_000),
  chatHardCapMs: z.number().int().min(100).max(604_800_000).default(28_800_000),
  wedgeAfterMs: z.number().int().min(100).max(86_400_000).default(300_000),
  wedgeCheckSecs: z.number().int().min(1).max(3600).default(15),
  heartbeatIntervalMs: z.number().int().min(100).max(3_600_000).default(30_000),
  autoRestart: z
    .strictObject({
      delaysSecs: z.array(z.number().int().min(0).max(86_400)).min(1).max(10).default([0, 300, 600, 1800]),
      probeTimeoutSecs: z.number().int().min(1).max(600).default(60),
      stableSecs: z.number().int().min(1).max(86_400).default(600),
    })
    .prefault({}),
  staleSupersedeMs: z.number().int().min(100).max(86_400_000).default(360_000),
  historyLimit: z.number().int().min(1).max(200).default(200),
  eventRetention: z
    .strictObject({days: z.number().int().min(1).max(365).default(7), rows: z.number().int().min(10).max(10_000_000).default(100_000), heartbeatHours: z.number().int().min(1).max(720).default(24)})
    .prefault({}),
  sse: z.strictObject({keepaliveSecs: z.number().min(0.05).max(3600).default(15), maxSecs: z.number().min(0.1).max(86_400).default(1800)}).prefault({}),
  runtimes: z
    .strictObject({
      claudeCodePath: z.string().min(1).max(4096).default('claude'),
      openclawPath: z.string().min(1).max(4096).default('openclaw'),
      runAs: z.string().max(64).nullable().default('osmoda-agent'),
      runMemoryMax: z.string().max(32).nullable().default(null),
      runTasksMax: z.number().int().min(1).max(1_000_000).nullable().default(null),
    })
    .prefault({}),
  teachInjection: z.boolean().default(true),
  credstoreKeyFile: AbsolutePath.optional().describe('32-byte key of credentials.json.enc; default $CREDENTIALS_DIRECTORY/credstore-key, else <config>/secrets/gateway.key'),
  allowPrivateBaseUrls: z.boolean().default(false).describe('true (tests, LAN proxies): credential base_urls may be http or private addresses'),
  channels: ChannelsConfig.prefault({}).describe('Channel settings (Telegram, WhatsApp), read by the channel extensions'),
})

/** The gateway's validated config. */
export type GatewayConfig = z.output<typeof GatewayConfig>
