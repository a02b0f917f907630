import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {MAX_ARGV_ITEMS} from './split-command.js'

const noNul = (text: string) => !text.includes('\0')

/** Longest deadline any shell_exec may ask for (`exec.approvedMaxTimeoutSecs` is bounded here). */
export const SHELL_EXEC_TIMEOUT_CAP_SECS = 1800

/** Client-side wait for POST /shell/exec: the route deadline (timeout + 5 s, SPEC §1.3). */
export function shellExecClientTimeoutMs(timeoutSecs: number | undefined): number {
  // Without an explicit timeout the daemon applies exec.defaultTimeoutSecs, at most maxTimeoutSecs (120 by default).
  return ((timeoutSecs ?? 120) + 5) * 1000
}

/** Input of POST /shell/exec (the `shell_exec` tool). */
export const ShellExecInput = z
  .strictObject({
    command: z
      .string()
      .min(1)
      .max(8192)
      .refine(noNul, 'must not contain NUL bytes')
      .optional()
      .describe(
        'The command line, split into words like a POSIX shell would (quotes and backslashes work) but never run by one: ' +
          '| ; & < > $( ) ` $VAR and newlines are refused unless `shell` is true. Give either command or argv.',
      ),
    argv: z
      .array(z.string().max(8192).refine(noNul, 'must not contain NUL bytes'))
      .min(1)
      .max(MAX_ARGV_ITEMS)
      .refine((argv) => argv[0] !== '', 'the program (first item) must not be empty')
      .optional()
      .describe('The program and its arguments as a list, run exactly as given (no splitting, no shell). Give either command or argv.'),
    shell: z.boolean().default(false).describe('Run `command` with /bin/sh -c (pipes, redirections, globs, variables). Not allowed with argv.'),
    mode: z
      .enum(['sandbox', 'host'])
      .default('sandbox')
      .describe(
        'sandbox (default, no approval): a read-only view of the host with no network, secrets hidden, a fresh empty /tmp; ' +
          'writes fail with "Read-only file system". host: runs as root on the host and always needs the operator\'s approval.',
      ),
    cwd: z
      .string()
      .min(1)
      .max(4096)
      .refine(noNul, 'must not contain NUL bytes')
      .refine((path) => path.startsWith('/'), 'must be an absolute path')
      .refine((path) => !path.split('/').includes('..'), 'must not contain a .. segment')
      .default('/tmp')
      .describe('Working directory: an existing absolute directory (default /tmp; in sandbox mode /tmp is empty)'),
    timeout_secs: z
      .number()
      .int()
      .min(1)
      .max(SHELL_EXEC_TIMEOUT_CAP_SECS)
      .optional()
      .describe('Deadline in seconds (default 30, at most 120; up to 1800 in host mode with an approval); the whole process group is killed at the deadline'),
    max_output_bytes: z
      .number()
      .int()
      .min(1024)
      .max(262_144)
      .optional()
      .describe('Cap on each of stdout and stderr in bytes (default 65536, 1024..262144); the rest is dropped and flagged as truncated'),
    approval_id: z
      .string()
      .regex(/^apr_[0-9A-HJKMNP-TV-Z]{26}$/, 'expected apr_ followed by a 26-character ULID')
      .optional()
      .describe('Host mode only: the approval the operator granted for exactly this request (repeat the same arguments)'),
  })
  .superRefine((input, ctx) => {
    if ((input.command === undefined) === (input.argv === undefined)) ctx.addIssue({code: 'custom', path: [], message: 'give exactly one of command or argv'})
    if (input.shell && input.argv !== undefined) ctx.addIssue({code: 'custom', path: ['shell'], message: 'shell: true runs `command`; it cannot be combined with argv'})
    if (input.approval_id !== undefined && input.mode !== 'host') ctx.addIssue({code: 'custom', path: ['approval_id'], message: 'approvals apply to mode "host" only; sandbox mode needs none'})
  })

/** The validated input of POST /shell/exec. */
export type ShellExecInput = z.output<typeof ShellExecInput>

/** Output of POST /shell/exec. */
export const ShellExecOutput = z.object({
  mode: z.enum(['sandbox', 'host']),
  argv: z.array(z.string()).describe('What was run: the split command, argv as given, or ["/bin/sh", "-c", command]'),
  exit_code: z.number().int().nullable().describe('Exit status, or null when a signal ended the process'),
  signal: z.string().nullable().describe('The signal that ended the process (e.g. SIGTERM after the deadline), or null'),
  stdout: z.string(),
  stderr: z.string(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  timed_out: z.boolean().describe('True when the deadline killed the process group'),
  duration_ms: z.number().int(),
  hint: z.string().optional().describe('What to do next, e.g. retry in host mode when the sandbox refused a write'),
  warning: z.string().optional().describe('Set when the command did not run as asked, e.g. unsandboxed in a dev setup'),
})

/** The shell_exec route. */
export const execApi = {
  shellExec: route('POST', '/shell/exec', {input: ShellExecInput, output: ShellExecOutput, roles: ['operator', 'agent']}),
} as const
