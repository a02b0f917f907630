import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'
import {CheckTimeouts} from '../../lib/health-checks.js'

const AbsolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path').max(4096)

/** `<config>/watch.json`: the SafeSwitch and watcher keys of SPEC §2.3 and fleet keys of SPEC §2.3. */
export const WatchConfig = z.strictObject({
  ...SharedConfig,
  systemProfile: AbsolutePath.default('/nix/var/nix/profiles/system').describe('Profile whose generations are managed'),
  currentSystemLink: AbsolutePath.default('/run/current-system').describe('Link read as "the running system"'),
  probation: z
    .strictObject({
      ttlSecs: z.number().int().min(30).max(86_400).default(300),
      graceSecs: z.number().int().min(0).max(3600).default(30),
      failureThreshold: z.number().int().min(1).max(100).default(3),
      checkIntervalSecs: z.number().int().min(1).max(300).default(5),
    })
    .prefault({}),
  buildTimeoutSecs: z.number().int().min(1).max(86_400).default(1800),
  activationTimeoutSecs: z.number().int().min(1).max(86_400).default(600),
  checkTimeouts: CheckTimeouts,
  watcher: z
    .strictObject({
      intervalSecs: z.number().int().min(5).max(3600).default(30),
      backoff: z
        .strictObject({
          initialSecs: z.number().int().min(0).max(86_400).default(10),
          factor: z.number().min(1).max(10).default(2),
          maxSecs: z.number().int().min(1).max(86_400).default(600),
        })
        .prefault({}),
      restartAttempts: z.number().int().min(1).max(100).default(3),
      stableSecs: z.number().int().min(30).max(86_400).default(300),
      breaker: z
        .strictObject({
          maxActions: z.number().int().min(1).max(1000).default(5),
          windowSecs: z.number().int().min(1).max(604_800).default(3600),
        })
        .prefault({}),
    })
    .prefault({})
    .describe('Watcher defaults: timer, back-off between ladder steps, restart repeats, stability window, circuit breaker'),
  fleet: z
    .strictObject({
      quorumPercent: z.number().int().min(1).max(100).default(51),
      timeoutSecs: z.number().int().min(30).max(3600).default(300),
      autoVote: z.enum(['none', 'approve_if_healthy']).default('none'),
    })
    .prefault({})
    .describe('Fleet deploy defaults: approval share, voting time, automatic votes'),
})

/** watch's validated config. */
export type WatchConfig = z.output<typeof WatchConfig>
