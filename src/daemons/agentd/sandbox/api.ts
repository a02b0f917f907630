import {z} from 'zod'
import {MAX_TOKEN_LENGTH} from '../../../lib/capability.js'
import {route} from '../../../lib/rpc/route.js'

const OA = ['operator', 'agent'] as const

/** Largest stdin handed to a sandboxed command, in bytes. */
export const MAX_STDIN_BYTES = 65_536

/** Default deadline of a sandbox run; clients wait this plus 5 s when the caller gives none (SPEC §1.3). */
export const SANDBOX_DEFAULT_TIMEOUT_SECS = 60

/** How long a client waits for POST /sandbox/exec with this timeout_secs (the daemon answers first). */
export const sandboxClientTimeoutMs = (timeoutSecs: number | undefined) => ((timeoutSecs ?? SANDBOX_DEFAULT_TIMEOUT_SECS) + 5) * 1000

const noNul = (s: string) => !s.includes('\0')

/** Input of POST /sandbox/exec: the `sandbox_exec` tool's parameters (SPEC §3). */
export const SandboxExecInput = z
  .strictObject({
    argv: z
      .array(z.string().min(1).max(8192).refine(noNul, 'no NUL bytes'))
      .min(1)
      .max(256)
      .optional()
      .describe('The command and its arguments, e.g. ["python3", "-c", "print(1)"]; no shell. Give argv or command, not both'),
    command: z
      .string()
      .min(1)
      .max(8192)
      .refine(noNul, 'no NUL bytes')
      .optional()
      .describe('A shell command line, run as /bin/sh -c inside the sandbox (pipes and redirects work there)'),
    tier: z
      .literal([1, 2])
      .default(2)
      .describe('2 (default): no network, no host files, only a private /tmp. 1: the files and hosts a capability token grants'),
    capability: z
      .string()
      .min(1)
      .max(MAX_TOKEN_LENGTH)
      .optional()
      .describe('Tier 1 only, required there: an osmcap1… token from capability_mint with fs:read/fs:write paths and/or net: hosts'),
    cwd: z
      .string()
      .max(4096)
      .regex(/^\//, 'must be an absolute path')
      .refine((p) => noNul(p) && !p.split('/').includes('..'), 'no NUL bytes or ".." segments')
      .default('/tmp')
      .describe('Working directory inside the sandbox: /tmp (default) or, in tier 1, a granted fs path or a directory below one'),
    stdin: z
      .string()
      .refine((s) => Buffer.byteLength(s) <= MAX_STDIN_BYTES, `at most ${MAX_STDIN_BYTES} bytes`)
      .optional()
      .describe('Text written to the command\'s stdin, which is then closed (at most 65536 bytes)'),
    timeout_secs: z.number().int().min(1).max(600).default(SANDBOX_DEFAULT_TIMEOUT_SECS).describe('Deadline in seconds (default 60, at most sandbox.maxTimeoutSecs, 600 by default); the sandbox is killed after it'),
    max_output_bytes: z.number().int().min(1024).max(262_144).default(65_536).describe('Cap per stream on stdout and stderr (default 65536); the rest is dropped and flagged truncated'),
  })
  .superRefine((input, ctx) => {
    if ((input.argv === undefined) === (input.command === undefined)) ctx.addIssue({code: 'custom', path: ['argv'], message: 'give exactly one of argv or command'})
    if (input.tier === 1 && input.capability === undefined) ctx.addIssue({code: 'custom', path: ['capability'], message: 'tier 1 needs a capability token (capability_mint)'})
    if (input.tier === 2 && input.capability !== undefined) ctx.addIssue({code: 'custom', path: ['capability'], message: 'tier 2 takes no capability; use tier 1 to use one'})
  })

/** Output of POST /sandbox/exec. */
export const SandboxExecOutput = z.object({
  tier: z.literal([1, 2]),
  exit_code: z.number().int().nullable().describe('The command\'s exit code; null when it was killed'),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  timed_out: z.boolean(),
  duration_ms: z.number().int(),
  token_id: z.string().nullable().describe('The capability token\'s id (tier 1)'),
  warnings: z.array(z.string()).describe('What this run could not enforce here, e.g. memory and process limits without systemd'),
})

/** The sandbox routes, spread into agentd's route table. */
export const sandboxApi = {
  sandboxExec: route('POST', '/sandbox/exec', {input: SandboxExecInput, output: SandboxExecOutput, roles: OA}),
} as const
