import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {packageDir} from '../agentd/sandbox/host-env.js'
import {AgentProfile} from './agents-file.js'
import {systemPrompt} from './run-setup.js'
import {SKILL_MANIFEST, TEMPLATE_FILES, prepareWorkspace, renderTools} from './workspace.js'

const PKG = packageDir()
const osmoda = AgentProfile.parse({id: 'osmoda', display_name: 'osmoda', runtime: 'claude-code', model: 'claude-opus-4-6'})
const mobile = AgentProfile.parse({id: 'mobile', display_name: 'osmoda mobile', runtime: 'claude-code', model: 'claude-sonnet-4-6'})

let tmp: string
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'osmoda-workspace-'))
})
afterEach(() => rmSync(tmp, {recursive: true, force: true}))

function skill(name: string, activation: string, body = 'Steps.'): string {
  return `---\nname: ${name}\ndescription: >\n  A fixture skill used by the workspace tests only.\ntools: [system_health]\nactivation: ${activation}\nversion: 1\n---\n# ${name}\n\n${body}\n`
}

/** A package dir with the real templates and the given skills. */
function fixturePackage(skills: Record<string, string>): string {
  const pkg = join(tmp, 'pkg')
  cpSync(join(PKG, 'templates'), join(pkg, 'templates'), {recursive: true})
  for (const [name, text] of Object.entries(skills)) {
    mkdirSync(join(pkg, 'skills', name), {recursive: true})
    writeFileSync(join(pkg, 'skills', name, 'SKILL.md'), text)
  }
  return pkg
}

const fakeTools = async () => [{name: 'system_health', description: 'Reports CPU, memory and disk. More detail here.'}]

describe('prepareWorkspace templates', () => {
  it('creates the workspace 0750 with every template, TOOLS.md from the real agent catalogue', async () => {
    // Given a workspace that does not exist yet
    const dir = join(tmp, 'ws')
    // When it is prepared with the installed package (real templates, real catalogue)
    const result = await prepareWorkspace(dir, osmoda, {runtime: 'claude-code'})
    // Then the directory is 0750 and all five templates are there
    expect(statSync(dir).mode & 0o777).toBe(0o750)
    expect(result.created).toEqual([...TEMPLATE_FILES])
    expect(readFileSync(join(dir, 'SOUL.md'), 'utf8')).toBe(readFileSync(join(PKG, 'templates', 'SOUL.md'), 'utf8'))
    expect(readFileSync(join(dir, 'AGENTS.md'), 'utf8')).toContain('Never run `nixos-rebuild switch` directly')
    const tools = readFileSync(join(dir, 'TOOLS.md'), 'utf8')
    expect(tools).not.toContain('{{TOOLS}}')
    expect(tools).toMatch(/^- `system_health`: \S.*$/m)
    expect(tools).toMatch(/^- `safe_switch_begin`: /m)
    // And a tool that only the operator role may call is not offered to the agent
    expect(tools).not.toMatch(/`approval_approve`/)
  })

  it('gives the mobile profile its phone-style variants and the shared defaults for the rest', async () => {
    const dir = join(tmp, 'ws-mobile')
    await prepareWorkspace(dir, mobile, {runtime: 'claude-code', tools: fakeTools})
    expect(readFileSync(join(dir, 'AGENTS.md'), 'utf8')).toBe(readFileSync(join(PKG, 'templates', 'mobile', 'AGENTS.md'), 'utf8'))
    expect(readFileSync(join(dir, 'SOUL.md'), 'utf8')).toBe(readFileSync(join(PKG, 'templates', 'mobile', 'SOUL.md'), 'utf8'))
    expect(readFileSync(join(dir, 'USER.md'), 'utf8')).toBe(readFileSync(join(PKG, 'templates', 'USER.md'), 'utf8'))
    expect(readFileSync(join(dir, 'TOOLS.md'), 'utf8')).toContain('- `system_health`: Reports CPU, memory and disk.\n')
  })

  it('never overwrites a template the user or agent edited, and recreates only a deleted one', async () => {
    // Given a prepared workspace whose SOUL.md was edited and whose USER.md was deleted
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', tools: fakeTools})
    writeFileSync(join(dir, 'SOUL.md'), 'I am a custom soul.\n')
    rmSync(join(dir, 'USER.md'))
    // When the next run prepares it again
    const again = await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', tools: fakeTools})
    // Then the edit stays and only USER.md comes back
    expect(readFileSync(join(dir, 'SOUL.md'), 'utf8')).toBe('I am a custom soul.\n')
    expect(again.created).toEqual(['USER.md'])
  })

  it('feeds SOUL.md and AGENTS.md into the system prompt with the channel note', async () => {
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', tools: fakeTools})
    writeFileSync(join(dir, 'SOUL.md'), 'I am a custom soul.\n')
    const prompt = systemPrompt(osmoda, dir, 'telegram')
    expect(prompt.startsWith('I am a custom soul.\n\n# How you work')).toBe(true)
    expect(prompt).toContain('Diagnose before fixing')
    expect(prompt).toMatch(/Channel: Telegram on a phone\. Be concise/)
  })

  it('appends the list when a TOOLS.md template has no placeholder', () => {
    expect(renderTools('# Tools\n', [{name: 'a_b', description: 'Does a.\nMore.'}])).toBe('# Tools\n\n- `a_b`: Does a.\n')
  })
})

describe('prepareWorkspace skills', () => {
  it('installs the real package auto skills for claude-code, not manual ones', async () => {
    const dir = join(tmp, 'ws')
    const result = await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', tools: fakeTools})
    const installed = readdirSync(join(dir, '.claude', 'skills')).sort()
    expect(installed).toEqual([...result.installed].sort())
    expect(installed).toContain('self-healing')
    expect(installed).not.toContain('morning-briefing')
    expect(installed).not.toContain('scaled-swarm-predict')
    expect(readFileSync(join(dir, '.claude', 'skills', 'self-healing', 'SKILL.md'), 'utf8')).toBe(readFileSync(join(PKG, 'skills', 'self-healing', 'SKILL.md'), 'utf8'))
  })

  it('installs into skills/ for openclaw; manual, retired and malformed skills are not installed', async () => {
    const pkg = fixturePackage({'alpha-one': skill('alpha-one', 'auto'), 'beta-two': skill('beta-two', 'manual'), 'gamma-three': skill('gamma-three', 'retired'), broken: '# no front matter\n', 'wrong-name': skill('other-name', 'auto')})
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'openclaw', packageDir: pkg, tools: fakeTools})
    expect(readdirSync(join(dir, 'skills'))).toEqual(['alpha-one'])
    expect(existsSync(join(dir, '.claude'))).toBe(false)
    expect(JSON.parse(readFileSync(join(dir, SKILL_MANIFEST), 'utf8')).installed).toEqual({skills: {'alpha-one': expect.stringMatching(/^[0-9a-f]{64}$/)}})
  })

  it('adds auto skills from <state>/skills (teachd) and lets them override the package copy', async () => {
    const pkg = fixturePackage({'alpha-one': skill('alpha-one', 'auto'), 'beta-two': skill('beta-two', 'auto')})
    const state = join(tmp, 'state')
    for (const [name, text] of Object.entries({'auto-gen': skill('auto-gen', 'auto').replace('version: 1\n', 'version: 1\nauto_generated: true\n'), 'beta-two': skill('beta-two', 'retired')})) {
      mkdirSync(join(state, 'skills', name), {recursive: true})
      writeFileSync(join(state, 'skills', name, 'SKILL.md'), text)
    }
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, stateDir: state, tools: fakeTools})
    expect(readdirSync(join(dir, '.claude', 'skills')).sort()).toEqual(['alpha-one', 'auto-gen'])
  })

  it('refreshes a changed skill, removes one that became retired, and leaves user skills alone', async () => {
    // Given a workspace prepared with two auto skills and a skill the user made themselves
    const pkg = fixturePackage({'alpha-one': skill('alpha-one', 'auto'), 'beta-two': skill('beta-two', 'auto')})
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools})
    const skills = join(dir, '.claude', 'skills')
    mkdirSync(join(skills, 'my-own'))
    writeFileSync(join(skills, 'my-own', 'SKILL.md'), skill('my-own', 'auto', 'Mine.'))
    // When the package's alpha-one changes, beta-two is retired, and a package skill collides with the user's name
    writeFileSync(join(pkg, 'skills', 'alpha-one', 'SKILL.md'), skill('alpha-one', 'auto', 'New steps.'))
    writeFileSync(join(pkg, 'skills', 'beta-two', 'SKILL.md'), skill('beta-two', 'retired'))
    mkdirSync(join(pkg, 'skills', 'my-own'))
    writeFileSync(join(pkg, 'skills', 'my-own', 'SKILL.md'), skill('my-own', 'auto', 'Package version.'))
    const result = await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools})
    // Then alpha-one is refreshed, beta-two is gone, and the user's skill is untouched
    expect(result).toEqual({created: [], installed: ['alpha-one'], removed: ['beta-two']})
    expect(readFileSync(join(skills, 'alpha-one', 'SKILL.md'), 'utf8')).toContain('New steps.')
    expect(readdirSync(skills).sort()).toEqual(['alpha-one', 'my-own'])
    expect(readFileSync(join(skills, 'my-own', 'SKILL.md'), 'utf8')).toContain('Mine.')
    // And an up-to-date workspace is left as it is
    expect(await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools})).toEqual({created: [], installed: [], removed: []})
  })

  it('reinstalls an osmoda skill whose file was deleted, without claiming a same-named user dir', async () => {
    const pkg = fixturePackage({'alpha-one': skill('alpha-one', 'auto')})
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools})
    rmSync(join(dir, '.claude', 'skills', 'alpha-one', 'SKILL.md'))
    expect((await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools})).installed).toEqual(['alpha-one'])
  })
  it('hands what it writes to the run user when given one (root only)', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip()
    const pkg = fixturePackage({'alpha-one': skill('alpha-one', 'auto')})
    const dir = join(tmp, 'ws')
    await prepareWorkspace(dir, osmoda, {runtime: 'claude-code', packageDir: pkg, tools: fakeTools, owner: {uid: 65_534, gid: 65_534}})
    for (const path of [dir, join(dir, 'SOUL.md'), join(dir, '.claude'), join(dir, '.claude', 'skills', 'alpha-one', 'SKILL.md'), join(dir, SKILL_MANIFEST)]) {
      expect([path, statSync(path).uid, statSync(path).gid]).toEqual([path, 65_534, 65_534])
    }
  })
})
