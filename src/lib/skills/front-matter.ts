// A strict reader for SKILL.md (SPEC §5): YAML front matter between `---` lines in the small subset
// the skills use — `key: scalar`, `key: [a, b]` flow lists of bare words, and `key: >` folded
// blocks of indented lines — checked with zod; anything else is an error naming the line.
import {z} from 'zod'

/** Names of tools: the `<domain>_<verb>` pattern of the SPEC §3 catalogue. */
export const TOOL_NAME_RE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/

/** The front matter of a system skill (teachd's auto_generated keys are not allowed here). */
export const SkillFrontMatter = z.strictObject({
  name: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'kebab-case').max(64),
  description: z.string().min(20).max(1024),
  tools: z
    .array(z.string().regex(TOOL_NAME_RE, 'a tool name such as system_health'))
    .min(1)
    .refine((tools) => new Set(tools).size === tools.length, 'tools are listed once'),
  activation: z.enum(['auto', 'manual', 'retired']),
  version: z.number().int().min(1),
})

/** A parsed SKILL.md. */
export interface SkillFile {
  frontMatter: z.output<typeof SkillFrontMatter>
  body: string
}

type Raw = string | number | string[]

function scalar(text: string, line: number): string | number {
  if (/^-?\d+$/.test(text)) return Number(text)
  if (/^["'[{&*!|>%@`#]/.test(text) || text.includes(': ') || text.endsWith(':')) throw new Error(`line ${line}: unsupported YAML value ${text}`)
  return text
}

function flowList(text: string, line: number): string[] {
  const inner = text.slice(1, -1).trim()
  if (!inner) return []
  return inner.split(',').map((item) => {
    const word = item.trim()
    if (!/^[A-Za-z0-9_.-]+$/.test(word)) throw new Error(`line ${line}: list item ${JSON.stringify(word)} is not a bare word`)
    return word
  })
}

/** Parses the front matter subset into raw values (no schema yet). */
export function parseFrontMatterBlock(block: string): Record<string, Raw> {
  const lines = block.split('\n')
  const out: Record<string, Raw> = {}
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') continue
    const pair = /^([a-z_]+):(?: (.*))?$/.exec(line)
    if (!pair) throw new Error(`line ${i + 2}: expected "key: value", got ${JSON.stringify(line.slice(0, 60))}`)
    const [, key, rawValue = ''] = pair
    if (Object.hasOwn(out, key!)) throw new Error(`line ${i + 2}: duplicate key ${key}`)
    const value = rawValue.trim()
    if (value === '>') {
      const folded: string[] = []
      while (i + 1 < lines.length && /^ {2}\S/.test(lines[i + 1]!)) folded.push(lines[++i]!.trim())
      if (!folded.length) throw new Error(`line ${i + 2}: folded block of ${key} is empty`)
      out[key!] = folded.join(' ')
    } else if (value.startsWith('[') && value.endsWith(']')) {
      out[key!] = flowList(value, i + 2)
    } else if (value === '') {
      throw new Error(`line ${i + 2}: ${key} has no value`)
    } else {
      out[key!] = scalar(value, i + 2)
    }
  }
  return out
}

/** Reads a SKILL.md text; throws with the reason when it is not a valid system skill. */
export function parseSkillFile(text: string): SkillFile {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text)
  if (!match) throw new Error('no YAML front matter between --- lines at the top')
  const parsed = SkillFrontMatter.safeParse(parseFrontMatterBlock(match[1]!))
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '))
  return {frontMatter: parsed.data, body: match[2]!}
}

/** Tool names written in backticks in a markdown body (`system_health`, `safe_switch_begin` …). */
export function backtickedNames(body: string): string[] {
  return [...new Set([...body.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]!).filter((name) => TOOL_NAME_RE.test(name)))]
}
