import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'
import {MAX_BACKUP_TIMEOUT_SECS} from './api.js'
import {HandsConfig} from './hands-config.js'

/** `<config>/agentd.json` (SPEC §2.1); keys of later features join as they are built. */
export const AgentdConfig = z.strictObject({
  ...SharedConfig,
  ledger: z
    .strictObject({
      checkpointEveryEvents: z.number().int().min(1).max(1_000_000).default(256),
      checkpointEverySecs: z.number().int().min(1).max(86_400).default(60),
    })
    .prefault({}),
  backup: z
    .strictObject({
      // Unset: /var/backups/osmoda for the production state dir, else `osmoda-backups` beside the state dir.
      dir: z.string().regex(/^\//, 'must be an absolute path').optional(),
      retentionDays: z.number().int().min(0).max(3650).default(7),
      keepMin: z.number().int().min(0).max(1000).default(3),
      timeoutSecs: z.number().int().min(1).max(MAX_BACKUP_TIMEOUT_SECS).default(600),
    })
    .prefault({}),
  memory: z
    .strictObject({
      scanSecs: z.number().int().min(1).max(86_400).default(60).describe('How often the memory files are scanned for hand edits and deletions'),
    })
    .prefault({}),
  ...HandsConfig,
})

/** agentd's validated config. */
export type AgentdConfig = z.output<typeof AgentdConfig>
