import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {chromium, type Browser, type Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {gatewayPort, op} from './helpers/gateway-kit.js'
import {requireTool} from './helpers/system-tool.js'

// The chat page in headless Chromium against the real gateway, whose runtime is the scripted
// `claude` stand-in (a real child process speaking stream-json); the scenario comes from a file.
const chromiumTool = requireTool('chromium', 'apt-get install chromium')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'scripted-runtime', 'claude')
const KEY = 'sk-ant-api03-' + 'Brow0Secret'.repeat(5)
const SESSION = 'sess-scripted-1'

let env: TestEnv
let gateway: DaemonProcess
let port: number
let browser: Browser
let page: Page
let scenarioFile: string

const scenario = (name: string) => writeFileSync(scenarioFile, name)
const bubbles = (kind: string) => page.locator(`#log .bubble.${kind}`)

async function send(text: string) {
  await page.fill('#input', text)
  await page.press('#input', 'Enter')
}

describe.skipIf(chromiumTool.skip)('the web chat page in Chromium', () => {
  beforeAll(async () => {
    env = await testEnv()
    scenarioFile = join(env.base, 'scenario')
    scenario('normal')
    const wrapper = join(env.base, 'claude-wrapper')
    writeFileSync(wrapper, `#!/bin/sh\nSCRIPTED_RUNTIME="$(cat ${scenarioFile})" exec ${process.execPath} ${FIXTURE} "$@"\n`)
    chmodSync(wrapper, 0o755)
    // A turn whose reply is markdown with a table and hostile HTML.
    const md = '## Disks\n\n| mount | used |\n|:--|--:|\n| / | **40%** |\n\n<img src=x onerror="window.__pwned=1"> `<b>code</b>`'
    const assistant = (id: string, text: string) => ({type: 'assistant', session_id: SESSION, message: {id, type: 'message', role: 'assistant', content: [{type: 'text', text}]}})
    writeFileSync(
      join(env.base, 'markdown.json'),
      JSON.stringify([{line: {type: 'system', subtype: 'init', session_id: SESSION, model: 'scripted', tools: []}}, {line: assistant('msg_md', md)}, {line: {type: 'result', subtype: 'success', is_error: false, result: md, session_id: SESSION}}]),
    )
    gateway = await env.start('gateway', {OSMODA_GATEWAY_RUNTIMES: JSON.stringify({claudeCodePath: wrapper})})
    port = await gatewayPort(env)
    browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--no-sandbox']})
    page = await browser.newPage()
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await gateway?.stopClean()
    await env?.cleanup()
  })

  it('asks for the operator token (refusing a wrong one), then for a first credential', async () => {
    await page.goto(`http://127.0.0.1:${port}/`)
    await expect.poll(() => page.isVisible('#login')).toBe(true)
    await page.fill('#token', 'osm_op_wrong')
    await page.click('#login-form button[type=submit]')
    await expect.poll(() => page.textContent('#login-error')).toBe('That token was refused.')
    await page.fill('#token', env.token('operator'))
    await page.click('#login-form button[type=submit]')
    // With no credential yet the page asks for one before the chat
    await expect.poll(() => page.isVisible('#credential')).toBe(true)
    expect(await page.isHidden('#app')).toBe(true)
    await page.fill('#credential-secret', 'short')
    await page.click('#credential-form button[type=submit]')
    await expect.poll(() => page.textContent('#credential-error')).toMatch(/^VALIDATION_FAILED: /)
    await page.fill('#credential-secret', KEY)
    await page.click('#credential-form button[type=submit]')
    await expect.poll(() => page.getAttribute('#conn', 'data-state'), {timeout: 10_000}).toBe('open')
    const credentials = (await op(env, 'GET', '/config/credentials')).body.credentials
    expect(credentials).toMatchObject([{label: 'web', provider: 'anthropic', type: 'api_key'}])
    expect(JSON.stringify(credentials)).not.toContain(KEY)
    // The agent switcher lists the agents of agents.json, the web agent selected
    expect(await page.locator('#agent option').allTextContents()).toEqual(['osmoda (full access)', 'osmoda mobile'])
    expect(await page.inputValue('#agent')).toBe('osmoda')
    expect(await page.inputValue('#runtime')).toBe('claude-code')
  })

  it('streams a reply with a tool bubble showing its target', async () => {
    await send('how is the disk?')
    await expect.poll(() => bubbles('agent').allTextContents(), {timeout: 15_000}).toEqual(['Let me check the system.', 'Disk is fine: 40% used.'])
    expect(await bubbles('user').allTextContents()).toEqual(['how is the disk?'])
    const tool = bubbles('tool').first()
    expect(await tool.locator('.tool-name').textContent()).toContain('shell_exec')
    expect(await tool.locator('.tool-target').textContent()).toBe('df -h /')
    await expect.poll(() => tool.getAttribute('data-ok')).toBe('true')
    await expect.poll(() => page.isHidden('#stop')).toBe(true)
  })

  it('renders markdown tables and keeps HTML inert', async () => {
    scenario(join(env.base, 'markdown.json'))
    await send('disks as a table')
    const reply = bubbles('agent').last()
    await expect.poll(() => reply.locator('table th').allTextContents(), {timeout: 15_000}).toEqual(['mount', 'used'])
    expect(await reply.locator('h2').textContent()).toBe('Disks')
    expect(await reply.locator('td strong').textContent()).toBe('40%')
    expect(await reply.locator('code').textContent()).toBe('<b>code</b>')
    expect(await reply.textContent()).toContain('<img src=x onerror="window.__pwned=1">')
    expect(await page.locator('#log img, #log b').count()).toBe(0)
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined()
  })

  it('stops a running turn with the Stop button', async () => {
    scenario('hang-after-first')
    await send('take your time')
    await expect.poll(() => bubbles('agent').last().textContent(), {timeout: 15_000}).toBe('Working on it')
    await expect.poll(() => page.isVisible('#stop')).toBe(true)
    await page.click('#stop')
    await expect.poll(() => bubbles('error').last().textContent(), {timeout: 10_000}).toMatch(/^STOPPED: /)
    await expect.poll(() => page.isHidden('#stop')).toBe(true)
  })

  it('replays the history after a reload, then a divider, then live turns', async () => {
    scenario('normal')
    await page.reload()
    await expect.poll(() => page.getAttribute('#conn', 'data-state'), {timeout: 10_000}).toBe('open')
    // The token survived the reload (sessionStorage); the history is replayed without deltas
    expect(await page.isHidden('#login')).toBe(true)
    expect(await bubbles('user').allTextContents()).toEqual(['how is the disk?', 'disks as a table', 'take your time'])
    const order = await page.locator('#log > *').evaluateAll((els) => els.map((el: any) => (el.classList.contains('divider') ? 'divider' : String(el.className).replace('bubble ', ''))))
    expect(order).toEqual(['user', 'agent', 'tool', 'agent', 'user', 'agent', 'user', 'agent', 'error', 'divider'])
    expect(await page.locator('#log table').count()).toBe(1)
    // A new turn appears below the divider
    await send('and now?')
    await expect.poll(async () => (await page.locator('#log > *').evaluateAll((els) => els.map((el: any) => String(el.className)))).slice(-5), {timeout: 15_000}).toEqual([
      'divider',
      'bubble user',
      'bubble agent',
      'bubble tool',
      'bubble agent',
    ])
  })

  it('switches the model of the selected agent through PATCH /config/agents', async () => {
    // The model list is the claude-code driver's models (GET /config/drivers)
    const models = await page.locator('#model option').allTextContents()
    expect(models).toEqual(expect.arrayContaining(['claude-opus-4-6', 'claude-opus-4-7', 'claude-sonnet-4-6']))
    const current = await page.inputValue('#model')
    const other = models.find((m) => m !== current)!
    await page.selectOption('#model', other)
    await expect.poll(async () => (await op(env, 'GET', '/config/agents')).body.agents.find((a: any) => a.id === 'osmoda').model, {timeout: 10_000}).toBe(other)
    // The gateway's state.changed for this agent arrives over the socket as an event bubble
    await expect.poll(() => bubbles('event').allTextContents(), {timeout: 10_000}).toContainEqual(expect.stringContaining(`state.changed · osmoda · agent_id=osmoda model=${other}`))
    await expect.poll(() => page.inputValue('#model')).toBe(other)
  })
})
