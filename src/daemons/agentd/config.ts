import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'

/** `<config>/agentd.json` (SPEC §2.1); keys of later features join as they are built. */
export const AgentdConfig = z.strictObject({
  ...SharedConfig,
  ledger: z
    .strictObject({
      checkpointEveryEvents: z.number().int().min(1).max(1_000_000).default(256),
      checkpointEverySecs: z.number().int().min(1).max(86_400).default(60),
    })
    .prefault({}),
  memory: z
    .strictObject({
      scanSecs: z.number().int().min(1).max(86_400).default(60).describe('How often the memory files are scanned for hand edits and deletions'),
    })
    .prefault({}),
})

/** agentd's validated config. */
export type AgentdConfig = z.output<typeof AgentdConfig>
