import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {z} from 'zod'
import {silentLogger} from '../log.js'
import {createTokenAuth, tokenDigest} from './auth.js'
import {createClient} from './client.js'
import {route} from './route.js'
import {createRpcServer, type Handlers, type RpcServer} from './server.js'
import {ndjson} from './stream.js'

const api = {
  echo: route('POST', '/echo', {input: z.strictObject({text: z.string().max(10)}), output: z.object({text: z.string(), actor: z.string()}), roles: ['operator', 'agent']}),
  itemAny: route('GET', '/items/{id}', {input: z.strictObject({id: z.string().regex(/^i_/)}), output: z.object({id: z.string()}), roles: ['operator']}),
  itemLatest: route('GET', '/items/latest', {output: z.object({latest: z.boolean()}), roles: ['operator']}),
  item: route('GET', '/item/{id}/view', {input: z.strictObject({id: z.string(), n: z.number().int().default(1), flag: z.boolean().optional()}), output: z.object({id: z.string(), n: z.number(), flag: z.boolean().nullable()}), roles: ['agent', 'operator']}),
  admin: route('POST', '/admin', {output: z.object({ok: z.boolean()}), roles: ['operator']}),
  slow: route('POST', '/slow', {output: z.object({done: z.boolean()}), roles: ['operator']}),
  broken: route('GET', '/broken', {output: z.object({ok: z.boolean()}), roles: ['operator']}),
  ticks: route('GET', '/ticks', {input: z.strictObject({follow: z.boolean().default(false)}), output: z.object({n: z.number()}), roles: ['operator']}),
}

let dir: string
let socket: string
let server: RpcServer
const OP = 'osm_op_' + 'o'.repeat(43)
const AG = 'osm_ag_' + 'a'.repeat(43)

const handlers: Handlers<typeof api> = {
  echo: (input, ctx) => ({text: input.text, actor: ctx.actor}),
  item: (input) => ({id: input.id, n: input.n, flag: input.flag ?? null}),
  itemAny: (input) => ({id: input.id}),
  itemLatest: () => ({latest: true}),
  admin: () => ({ok: true}),
  slow: () => new Promise((resolve) => setTimeout(() => resolve({done: true}), 300)),
  broken: () => ({ok: 'yes'}) as never,
  ticks: (_input, ctx) =>
    ndjson(
      (async function* () {
        for (let n = 0; !ctx.signal.aborted; n++) {
          yield {n}
          await new Promise((r) => setTimeout(r, 10))
        }
      })(),
    ),
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-rpc-'))
  mkdirSync(join(dir, 'tokens'))
  writeFileSync(join(dir, 'tokens', 'operator.sha256'), tokenDigest(OP))
  writeFileSync(join(dir, 'tokens', 'agent.sha256'), tokenDigest(AG))
  socket = join(dir, 'test.sock')
  server = createRpcServer({daemon: 'test', version: '0.0.0', api, handlers, auth: createTokenAuth(join(dir, 'tokens')), log: silentLogger})
  await server.listen(socket)
})

afterEach(async () => {
  await server.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('rpc server and typed client', () => {
  it('derives the actor from the role and headers, never the body', async () => {
    const agent = createClient('test', api, {socketPath: socket, token: AG, headers: {'x-osmoda-agent-id': 'ops'}})
    expect(await agent.echo({text: 'hi'})).toEqual({text: 'hi', actor: 'agent:ops'})
    const operator = createClient('test', api, {socketPath: socket, token: OP, headers: {'x-osmoda-operator': 'alice'}})
    expect(await operator.echo({text: 'hi'})).toEqual({text: 'hi', actor: 'operator:alice'})
    const daemon = createClient('test', api, {socketPath: socket, token: OP, headers: {'x-osmoda-operator': 'daemon:watch'}})
    expect(await daemon.echo({text: 'hi'})).toEqual({text: 'hi', actor: 'watch'})
    for (const c of [agent, operator, daemon]) c.close()
  })

  it('fills path params and decodes typed query values', async () => {
    const client = createClient('test', api, {socketPath: socket, token: AG})
    expect(await client.item({id: 'a b/c', n: 3, flag: false})).toEqual({id: 'a b/c', n: 3, flag: false})
    expect(await client.item({id: 'x'})).toEqual({id: 'x', n: 1, flag: null})
    client.close()
  })

  it('prefers a literal path to a parameter whatever the table order', async () => {
    // Given /items/{id} listed before /items/latest
    const client = createClient('test', api, {socketPath: socket, token: OP})
    // Then "latest" reaches its own route and an id still reaches the parameter route
    expect(await client.itemLatest()).toEqual({latest: true})
    expect(await client.itemAny({id: 'i_1'})).toEqual({id: 'i_1'})
    client.close()
  })

  it('maps error envelopes to typed errors with stable codes', async () => {
    const agent = createClient('test', api, {socketPath: socket, token: AG})
    await expect(agent.admin()).rejects.toMatchObject({code: 'FORBIDDEN', exitCode: 4})
    await expect(agent.echo({text: 'x'.repeat(11)})).rejects.toMatchObject({code: 'VALIDATION_FAILED', exitCode: 2, details: [expect.stringMatching(/^text: /)]})
    const stranger = createClient('test', api, {socketPath: socket, token: 'osm_op_nope'})
    await expect(stranger.echo({text: 'x'})).rejects.toMatchObject({code: 'UNAUTHENTICATED', exitCode: 4})
    agent.close()
    stranger.close()
  })

  it('answers a handler result outside the contract with INTERNAL and a log id, not the value', async () => {
    const client = createClient('test', api, {socketPath: socket, token: OP})
    const error = await client.broken().catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'INTERNAL', details: {log_id: expect.any(String)}})
    client.close()
  })

  it('reports an unreachable socket as DAEMON_UNAVAILABLE with a hint naming the service', async () => {
    const client = createClient('keyd', api, {socketPath: join(dir, 'missing.sock'), token: OP})
    await expect(client.admin()).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE', exitCode: 3, hint: expect.stringContaining('osmoda-keyd')})
  })

  it('streams NDJSON until the client aborts', async () => {
    const client = createClient('test', api, {socketPath: socket, token: OP})
    const controller = new AbortController()
    const seen: number[] = []
    for await (const item of client.follow('ticks', {}, {signal: controller.signal})) {
      seen.push((item as {n: number}).n)
      if (seen.length === 5) controller.abort()
    }
    expect(seen).toEqual([0, 1, 2, 3, 4])
    client.close()
  })

  it('drains an in-flight request on close, then removes the socket', async () => {
    const client = createClient('test', api, {socketPath: socket, token: OP})
    const pending = client.slow()
    await new Promise((r) => setTimeout(r, 50))
    await server.close()
    expect(await pending).toEqual({done: true})
    expect(existsSync(socket)).toBe(false)
    client.close()
  })

  it('refuses to take over a socket another server still answers on, and replaces a stale one', async () => {
    const second = createRpcServer({daemon: 'test', version: '0', api, handlers, auth: createTokenAuth(join(dir, 'tokens')), log: silentLogger})
    await expect(second.listen(socket)).rejects.toMatchObject({code: 'ALREADY_EXISTS'})
    const stale = join(dir, 'stale.sock')
    writeFileSync(stale, '')
    await second.listen(stale)
    const client = createClient('test', api, {socketPath: stale, token: OP})
    expect(await client.admin()).toEqual({ok: true})
    client.close()
    await second.close()
  })
})
