import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {z} from 'zod'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {ROOT} from './helpers/env.js'

interface ManifestCommand {
  id: string
  summary?: string
  examples?: string[]
  flags: Record<string, {name: string; type: string; char?: string; required?: boolean; multiple?: boolean; options?: string[]}>
  args: Record<string, {name: string; required?: boolean; options?: string[]}>
  enableJsonFlag?: boolean
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const commands = Object.values(manifest.commands).sort((a, b) => a.id.localeCompare(b.id))

// Public contracts change only on purpose: a diff here is a reviewable change of the interface.
describe('public contracts', () => {
  it('every command has a summary, an example and --json', () => {
    for (const command of commands) {
      expect(command.summary, command.id).toBeTruthy()
      expect(command.examples?.length, command.id).toBeGreaterThan(0)
      expect(command.flags.json, command.id).toBeDefined()
    }
  })

  it('the command list and flags', () => {
    const shape = commands.map((c) => ({
      id: c.id,
      args: Object.values(c.args).map((a) => `${a.name}${a.required ? '*' : ''}${a.options ? `{${a.options.join(',')}}` : ''}`),
      flags: Object.values(c.flags)
        .map((f) => `--${f.name}${f.char ? `/-${f.char}` : ''}:${f.type}${f.required ? '*' : ''}${f.multiple ? '[]' : ''}${f.options ? `{${f.options.join(',')}}` : ''}`)
        .sort(),
    }))
    expect(shape).toMatchSnapshot()
  })

  it('the agentd route table', () => {
    const routes = Object.entries(agentdApi).map(([name, r]) => ({
      name,
      route: `${r.method} ${r.path}`,
      roles: r.roles,
      input: z.toJSONSchema(r.input, {io: 'input', unrepresentable: 'any'}),
    }))
    expect(routes).toMatchSnapshot()
  })
})
