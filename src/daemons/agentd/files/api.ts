import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {Hex64, IsoTime, limit} from '../../../lib/schema/primitives.js'

const OA = ['operator', 'agent'] as const

/** An absolute path as the file tools take it: ≤ 4096 bytes, no NUL; the path policy does the rest. */
export const FilePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path (start with /)')
  .refine((p) => !p.includes('\0'), 'must not contain a NUL byte')
  .refine((p) => Buffer.byteLength(p) <= 4096, 'must be at most 4096 bytes')

const Encoding = z.enum(['utf8', 'base64'])

/** An approval id, `apr_<ULID>` (SPEC §1.9). */
const ApprovalId = z.string().regex(/^apr_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected apr_ followed by a 26-character ULID')

/** Input of POST /file/read (tool `file_read`). */
export const FileReadInput = z.strictObject({
  path: FilePath.describe('Absolute path of the file; symlinks are followed, the target must also be allowed'),
  offset_line: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1).describe('First line to return, 1-based (default 1)'),
  max_lines: limit(500, 2000).describe('How many lines to return (default 500, at most 2000; larger values are clamped)'),
  encoding: Encoding.default('utf8').describe('utf8 for text (default); base64 for binary files, same line windowing over the raw bytes'),
})
/** Validated file_read input. */
export type FileReadInput = z.output<typeof FileReadInput>

/** Output of POST /file/read. */
export const FileReadOutput = z.object({
  path: z.string(),
  resolved_path: z.string().describe('The path with symlinks resolved: the file actually read'),
  size: z.number().int().describe('Size of the whole file in bytes'),
  mtime: IsoTime,
  encoding: Encoding,
  content: z.string().describe('The requested lines, each with its newline, so consecutive pages concatenate to the file'),
  first_line: z.number().int(),
  lines_returned: z.number().int(),
  total_lines: z.number().int(),
  truncated: z.boolean().describe('True when lines follow the returned window: call again with offset_line = first_line + lines_returned'),
})
/** file_read output. */
export type FileReadOutput = z.input<typeof FileReadOutput>

/** Input of POST /file/write (tool `file_write`). */
export const FileWriteInput = z.strictObject({
  path: FilePath.describe('Absolute path of the file to write; it must lie under a write root'),
  content: z
    .string()
    .max(2 * 1024 * 1024)
    .describe('The new content (at most files.maxWriteBytes, default 1000000 bytes, after decoding)'),
  encoding: Encoding.default('utf8').describe('How `content` is encoded: utf8 text (default) or base64 bytes'),
  append: z.boolean().default(false).describe('Append to the file (created if missing) instead of replacing it atomically'),
  mode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'expected octal permission bits such as "0644" (no setuid/setgid/sticky)')
    .optional()
    .describe('Permission bits in octal, e.g. "0644" or "0600"; default: keep the existing mode, 0644 for new files'),
  create_dirs: z.boolean().default(false).describe('Create missing parent directories (mode 0755, owned like their parent)'),
  approval_id: ApprovalId.optional().describe('The approved approval for this exact write, when a first call answered APPROVAL_REQUIRED'),
})
/** Validated file_write input. */
export type FileWriteInput = z.output<typeof FileWriteInput>

/** Output of POST /file/write. */
export const FileWriteOutput = z.object({
  path: z.string(),
  bytes: z.number().int().describe('Bytes written by this call'),
  sha256: Hex64.describe('SHA-256 of the bytes written by this call'),
  created: z.boolean().describe('True when the file did not exist before'),
  mode: z.string().describe('The file\'s permission bits in octal, e.g. "0644"'),
})
/** file_write output. */
export type FileWriteOutput = z.input<typeof FileWriteOutput>

/** Input of POST /file/list (tool `directory_list`). */
export const DirectoryListInput = z.strictObject({
  path: FilePath.describe('Absolute path of the directory'),
  recursive: z.boolean().default(false).describe('Also list subdirectories (symlinks are listed, never followed)'),
  max_depth: limit(3, 10).describe('With recursive: how many levels deep (default 3, at most 10; larger values are clamped)'),
  include_hidden: z.boolean().default(true).describe('Include names starting with a dot (default true)'),
  limit: limit(500, 5000),
})
/** Validated directory_list input. */
export type DirectoryListInput = z.output<typeof DirectoryListInput>

/** One directory entry. */
export const DirectoryEntry = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'other']),
  size: z.number().int(),
  mode: z.string().describe('Permission bits in octal, e.g. "0755"'),
  mtime: IsoTime,
  target: z.string().nullable().describe('For symlinks: where the link points (not followed); else null'),
})

/** Output of POST /file/list. */
export const DirectoryListOutput = z.object({
  path: z.string(),
  entries: z.array(DirectoryEntry),
  truncated: z.boolean().describe('True when more entries exist than `limit` allowed'),
})
/** directory_list output. */
export type DirectoryListOutput = z.input<typeof DirectoryListOutput>

/** Request body limit of POST /file/write (SPEC §2.1). */
export const FILE_WRITE_MAX_BODY = 2 * 1024 * 1024

/** agentd's file routes (SPEC §2.1). */
export const filesApi = {
  fileRead: route('POST', '/file/read', {input: FileReadInput, output: FileReadOutput, roles: OA}),
  fileWrite: route('POST', '/file/write', {input: FileWriteInput, output: FileWriteOutput, roles: OA, maxBodyBytes: FILE_WRITE_MAX_BODY}),
  fileList: route('POST', '/file/list', {input: DirectoryListInput, output: DirectoryListOutput, roles: OA}),
} as const
