import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {OsmodaError} from '../../../lib/errors.js'

const SKILL_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/

/**
 * The body of skill `name` for `/skill <name>` (SPEC §5: the gateway prepends the body to the
 * message). The first directory holding `<name>/SKILL.md` wins; retired skills are refused.
 */
export function loadSkillBody(name: string, skillDirs: readonly string[]): string {
  if (!SKILL_NAME_RE.test(name)) throw new OsmodaError('VALIDATION_FAILED', `"${name}" is not a skill name`, {details: ['name: kebab-case, at most 64 characters']})
  for (const dir of skillDirs) {
    let text: string
    try {
      text = readFileSync(join(dir, name, 'SKILL.md'), 'utf8')
    } catch {
      continue
    }
    const {activation, body} = splitFrontMatter(text)
    if (activation === 'retired') throw new OsmodaError('CONFLICT', `skill ${name} is retired`, {details: {state: 'retired'}})
    return body
  }
  throw new OsmodaError('NOT_FOUND', `no skill named ${name}`, {hint: 'osmoda skill list shows the installed skills'})
}

function splitFrontMatter(text: string): {activation: string | null; body: string} {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text)
  if (!match) return {activation: null, body: text.trim()}
  const activation = /^activation:\s*([a-z]+)/m.exec(match[1] ?? '')?.[1] ?? null
  return {activation, body: text.slice(match[0].length).trim()}
}
