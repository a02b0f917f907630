import {z} from 'zod'
import type {OsmodaPaths} from '../../lib/paths.js'

/**
 * Config of agentd's "hands" (SPEC §2.1): approvals, exec, files, sandbox, capabilities and the
 * agent card. Paths may start with `<state>`, expanded by `expandStatePath` when used, so the
 * defaults read exactly as the SPEC writes them and follow OSMODA_STATE_DIR.
 */

const AbsPath = z
  .string()
  .max(4096)
  .regex(/^(\/|<state>(\/|$))/, 'must be an absolute path or start with <state>/')

const Operation = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a tool name such as shell_exec')

/** One rule: `always` gates, `never` lets through, `policy` lets the daemon's own policy decide. */
export const ApprovalRule = z.enum(['always', 'never', 'policy'])
export type ApprovalRule = z.output<typeof ApprovalRule>

/** SPEC §1.6 default rules; every operation not named here is `never`. */
export const DEFAULT_APPROVAL_RULES: Readonly<Record<string, ApprovalRule>> = {
  shell_exec: 'always',
  file_write: 'policy',
  safe_switch_begin: 'always',
  watcher_add: 'policy',
  watcher_remove: 'always',
  routine_remove: 'always',
  routine_disable: 'always',
  routine_add: 'policy',
  voice_record: 'always',
  voice_listen: 'always',
  wallet_sign: 'policy',
  wallet_send: 'policy',
  wallet_build_tx: 'policy',
  wallet_delete: 'always',
  mesh_invite_create: 'always',
  mesh_invite_accept: 'always',
  mesh_peer_disconnect: 'always',
  teach_skill_promote: 'always',
  agent_card: 'always',
  safety_rollback: 'always',
  safety_panic: 'always',
  capability_mint: 'policy',
  fleet_propose: 'always',
  fleet_vote: 'always',
  app_deploy: 'always',
  app_remove: 'always',
}

const DEFAULT_MASKED_PATHS = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh/ssh_host_*_key',
  '/etc/osmoda/secrets',
  '/root',
  '/home/*/.ssh',
  '/home/*/.gnupg',
  '/nix/var/nix/daemon-socket',
  '<state>/tokens',
  '<state>/identity',
  '<state>/keyd',
  '<state>/mesh',
  '<state>/gateway',
  '<state>/agentd',
]

const WriteRoot = z.strictObject({path: AbsPath, approval: z.boolean().default(false)})

export const HandsConfig = {
  approval: z
    .strictObject({
      ttlSecs: z.number().int().min(60).max(86_400).default(600),
      useWindowSecs: z.number().int().min(10).max(86_400).default(900),
      sweepSecs: z.number().int().min(1).max(3600).default(30),
      maxPendingPerAgent: z.number().int().min(1).max(1000).default(20),
      rules: z.record(Operation, ApprovalRule).default({}).describe('Seed rules over the §1.6 defaults; operator changes persist in agentd/approval-rules.json'),
    })
    .prefault({}),
  exec: z
    .strictObject({
      defaultTimeoutSecs: z.number().int().min(1).max(1800).default(30),
      maxTimeoutSecs: z.number().int().min(1).max(1800).default(120),
      approvedMaxTimeoutSecs: z.number().int().min(1).max(86_400).default(1800),
      maxOutputBytes: z.number().int().min(1024).max(262_144).default(65_536),
      rateLimit: z
        .strictObject({calls: z.number().int().min(1).max(100_000).default(30), windowSecs: z.number().int().min(1).max(86_400).default(60)})
        .prefault({}),
      maskedPaths: z.array(AbsPath).max(256).default(DEFAULT_MASKED_PATHS),
      requireSandbox: z.boolean().default(true),
    })
    .prefault({}),
  files: z
    .strictObject({
      readRoots: z
        .array(AbsPath)
        .max(256)
        .default(['/etc', '/var/log', '/srv', '/opt', '/home', '/tmp', '/workspace', '/nix/var/nix/profiles', '<state>/workspace-*', '<state>/memory', '<state>/skills']),
      denyPaths: z
        .array(AbsPath)
        .max(256)
        .default([...DEFAULT_MASKED_PATHS, '/proc', '/sys', '/dev', '/run', '<state>/ledger.db*', '<state>/workspace-*/**/auth-profiles.json', '<state>/workspace-*/.claude/.credentials*']),
      writeRoots: z
        .array(WriteRoot)
        .max(256)
        .default([
          {path: '/tmp', approval: false},
          {path: '/workspace', approval: false},
          {path: '/srv', approval: false},
          {path: '<state>/workspace-*', approval: false},
          {path: '/etc/nixos', approval: true},
          {path: '/etc', approval: true},
          {path: '/home', approval: true},
        ]),
      maxReadBytes: z.number().int().min(1).max(1_073_741_824).default(10_485_760),
      maxWriteBytes: z.number().int().min(1).max(1_000_000).default(1_000_000),
    })
    .prefault({}),
  sandbox: z
    .strictObject({
      enable: z.boolean().default(true),
      fsRoots: z.array(AbsPath).max(256).default(['/srv', '/workspace', '<state>/sandbox', '/tmp/osmoda-sandbox']),
      memoryMax: z.string().regex(/^\d+[KMGT]?$/, 'a size such as 512M').default('512M'),
      pidsMax: z.number().int().min(1).max(100_000).default(256),
      maxTimeoutSecs: z.number().int().min(1).max(86_400).default(600),
      user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/).default('osmoda-sandbox').describe('Host user the sandbox runs as (dev mode: the invoking user)'),
    })
    .prefault({}),
  capability: z
    .strictObject({
      defaultTtlSecs: z.number().int().min(60).max(86_400).default(900),
      maxTtlSecs: z.number().int().min(60).max(86_400).default(86_400),
    })
    .prefault({}),
  agentCard: z
    .strictObject({
      name: z.string().min(1).max(100).default('osmoda'),
      description: z.string().max(1000).default('AI-native system agent with auditable safety'),
      image: z.string().url().max(2048).nullable().default(null),
    })
    .prefault({}),
}

/** Expands a leading `<state>` to the state dir. */
export function expandStatePath(path: string, paths: Pick<OsmodaPaths, 'stateDir'>): string {
  return path === '<state>' || path.startsWith('<state>/') ? paths.stateDir + path.slice('<state>'.length) : path
}
