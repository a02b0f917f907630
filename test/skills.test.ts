import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {TOOLS_BY_TOOLSET, selectTools} from '../src/lib/mcp/tools/index.js'
import {ROOT} from './helpers/env.js'
import {backtickedNames, parseFrontMatterBlock, parseSkillFile, type SkillFile} from './helpers/skill-file.js'

/**
 * Tools the skills use whose daemon (or route) is not built yet, with what they wait for. `osmoda
 * mcp` does not register them today; once it does, the test below fails and the entry goes.
 */
const PENDING_TOOLS: Readonly<Record<string, string>> = {
  app_deploy: 'agentd app routes (SPEC §2.1 apps)',
  app_list: 'agentd app routes (SPEC §2.1 apps)',
  app_logs: 'agentd app routes (SPEC §2.1 apps)',
  app_stop: 'agentd app routes (SPEC §2.1 apps)',
  app_restart: 'agentd app routes (SPEC §2.1 apps)',
  app_remove: 'agentd app routes (SPEC §2.1 apps)',
  teach_patterns: 'teachd',
  teach_context: 'teachd',
  teach_optimize_suggest: 'teachd',
  teach_optimize_apply: 'teachd',
  spec_kit_init: 'mcpd (spec-kit built-in)',
  spec_kit_run: 'mcpd (spec-kit built-in)',
  codegraph_search: 'mcpd (codegraph built-in, optional)',
}

const SKILLS = [
  'self-healing', 'morning-briefing', 'security-hardening', 'natural-language-config', 'predictive-resources', 'drift-detection',
  'generation-timeline', 'flight-recorder', 'nix-optimizer', 'system-monitor', 'system-packages', 'system-config', 'file-manager',
  'network-manager', 'service-explorer', 'app-deployer', 'deploy-ai-agent', 'swarm-predict', 'scaled-swarm-predict',
  'spec-driven-development',
]

const SKILLS_DIR = join(ROOT, 'skills')
// What the agent's `osmoda mcp` offers, and everything registered for any role.
const AGENT_TOOLS = new Set(selectTools({role: 'agent'}).map((tool) => tool.name))
const ALL_REGISTERED = new Set(Object.values(TOOLS_BY_TOOLSET).flatMap((tools) => tools.map((tool) => tool.name)))
const DESTRUCTIVE = new Set(Object.values(TOOLS_BY_TOOLSET).flatMap((tools) => tools.filter((t) => t.annotations.destructiveHint).map((t) => t.name)))
const KNOWN = new Set([...AGENT_TOOLS, ...Object.keys(PENDING_TOOLS)])
// Pending tools that act (SPEC §3: destructive, or gated by default), until their annotations exist.
const PENDING_ACTS = new Set(['app_deploy', 'app_stop', 'app_remove', 'teach_optimize_apply'])

function readSkill(name: string): SkillFile {
  return parseSkillFile(readFileSync(join(SKILLS_DIR, name, 'SKILL.md'), 'utf8'))
}

describe('skills/<name>/SKILL.md', () => {
  it('holds exactly the 20 system skills of SPEC §5', () => {
    const dirs = readdirSync(SKILLS_DIR, {withFileTypes: true}).filter((d) => d.isDirectory()).map((d) => d.name)
    expect(dirs.sort()).toEqual([...SKILLS].sort())
  })

  it('lists pending only tools that osmoda mcp does not register yet', () => {
    // A pending tool that is registered now must leave the pending list (and be checked for real).
    const landed = Object.keys(PENDING_TOOLS).filter((tool) => ALL_REGISTERED.has(tool))
    expect(landed, 'remove these from PENDING_TOOLS').toEqual([])
  })

  it('keeps the pending list to tools some skill uses', () => {
    const used = new Set(SKILLS.flatMap((name) => readSkill(name).frontMatter.tools))
    expect(Object.keys(PENDING_TOOLS).filter((tool) => !used.has(tool))).toEqual([])
  })

  describe.each(SKILLS)('%s', (name) => {
    it('has valid front matter whose name is its directory', () => {
      const skill = readSkill(name)
      expect(skill.frontMatter.name).toBe(name)
    })

    it('names only tools that osmoda mcp offers the agent (or pending ones)', () => {
      const unknown = readSkill(name).frontMatter.tools.filter((tool) => !KNOWN.has(tool))
      expect(unknown).toEqual([])
    })

    it('lists in its front matter every tool its workflow mentions', () => {
      const skill = readSkill(name)
      const missing = backtickedNames(skill.body).filter((word) => KNOWN.has(word) || ALL_REGISTERED.has(word)).filter((tool) => !skill.frontMatter.tools.includes(tool))
      expect(missing).toEqual([])
    })

    it('has a title, When to use, numbered Steps naming tools, and Safety', () => {
      const {body, frontMatter} = readSkill(name)
      expect(body).toMatch(/^# \S/m)
      const sections = [...body.matchAll(/^## (.+)$/gm)].map((m) => m[1])
      expect(sections.slice(0, 3)).toEqual(['When to use', 'Steps', 'Safety'])
      const steps = body.slice(body.indexOf('## Steps'), body.indexOf('## Safety'))
      expect(steps).toMatch(/^1\. /m)
      // every listed tool is used somewhere in the workflow
      const mentioned = new Set(backtickedNames(body))
      expect(frontMatter.tools.filter((tool) => !mentioned.has(tool))).toEqual([])
    })

    it('follows the safety rules: memory before and after, approvals for destructive acts, dry runs before switches', () => {
      const {body, frontMatter} = readSkill(name)
      const tools = new Set(frontMatter.tools)
      const acts = frontMatter.tools.filter((tool) => DESTRUCTIVE.has(tool) || PENDING_ACTS.has(tool))
      if (acts.length) {
        expect(tools.has('memory_recall'), 'recall before acting').toBe(true)
        expect(tools.has('memory_store'), 'store the outcome').toBe(true)
        expect(body).toContain('APPROVAL_REQUIRED')
        const steps = body.slice(body.indexOf('## Steps'))
        expect(steps.indexOf('`memory_recall`'), 'memory_recall comes before the first act').toBeLessThan(Math.min(...acts.map((t) => steps.indexOf(`\`${t}\``))))
      }
      if (tools.has('safe_switch_begin')) expect(body).toContain('dry_run')
    })
  })
})

describe('the SKILL.md front matter reader', () => {
  it('reads the subset: scalars, flow lists and folded blocks', () => {
    expect(parseFrontMatterBlock('name: a-b\ndescription: >\n  one\n  two\ntools: [x_y, z_w]\nversion: 2')).toEqual({
      name: 'a-b',
      description: 'one two',
      tools: ['x_y', 'z_w'],
      version: 2,
    })
  })

  it.each([
    ['a missing fence', 'name: x\n', 'no YAML front matter'],
    ['an unknown key', '---\nname: self-healing\ndescription: Detect failing services and fix them safely.\ntools: [system_health]\nactivation: auto\nversion: 1\nauthor: me\n---\n# T\n', 'Unrecognized key'],
    ['a duplicate key', '---\nname: a\nname: b\n---\n', 'duplicate key name'],
    ['a bad activation', '---\nname: a-b\ndescription: Detect failing services and fix them safely.\ntools: [system_health]\nactivation: sometimes\nversion: 1\n---\n', 'activation'],
    ['a quoted list item', '---\ntools: ["system_health"]\n---\n', 'not a bare word'],
    ['an empty tool list', '---\nname: a-b\ndescription: Detect failing services and fix them safely.\ntools: []\nactivation: auto\nversion: 1\n---\n', 'tools'],
    ['a nested mapping', '---\nname:\n  x: 1\n---\n', 'has no value'],
    ['a tool listed twice', '---\nname: a-b\ndescription: Detect failing services and fix them safely.\ntools: [system_health, system_health]\nactivation: auto\nversion: 1\n---\n', 'listed once'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseSkillFile(text)).toThrow(message)
  })
})
