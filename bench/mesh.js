// Mesh channel figures (SPEC §2.5): XXhfs handshake latency on loopback (X25519 + ephemeral
// ML-KEM-768, both ends in this process, so each handshake pays both sides' CPU) and single-stream
// throughput of 1 MiB application messages, with the receiver in a child process so encryption
// and decryption run on separate cores as they do between two nodes. CPU-time figures sit next to
// wall-clock ones because the bench machine is shared: they show what one core sustains.
import {fork} from 'node:child_process'
import {once} from 'node:events'
import net from 'node:net'
import {fileURLToPath} from 'node:url'
import {DH_25519} from '../dist/lib/noise/crypto-functions.js'
import {secureSession} from '../dist/lib/noise/session.js'
import {percentile, report, round} from './lib.js'

const HANDSHAKES = 200
const MESSAGE_BYTES = 1 << 20
const THROUGHPUT_MESSAGES = 512

const options = (role) => ({
  role, staticKey: DH_25519.generateKeyPair(), timeoutMs: 10_000,
  maxMessageBytes: 4_194_304, rekeyEveryMessages: 1_000_000, rekeyEverySecs: 600, heartbeatMs: 30_000, deadAfterMs: 90_000,
  makePayload: () => Buffer.from('{"v":1}'), verifyPeer: () => undefined,
})

async function listen(onSocket) {
  const server = net.createServer(onSocket)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

/** Connect → both sessions established, sequentially, after a few warm-up rounds. */
async function handshakeLatency() {
  const accepted = []
  const server = await listen((socket) => accepted.push(secureSession(socket, options('responder'))))
  const {port} = server.address()
  const times = []
  let cpu
  for (let i = 0; i < HANDSHAKES + 10; i++) {
    if (i === 10) cpu = process.cpuUsage()
    const start = performance.now()
    const socket = net.connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const initiator = await secureSession(socket, options('initiator'))
    const responder = await accepted.shift()
    const ms = performance.now() - start
    if (i >= 10) times.push(ms)
    initiator.close()
    responder.close()
  }
  cpu = process.cpuUsage(cpu)
  server.close()
  times.sort((a, b) => a - b)
  report({
    bench: 'mesh_handshake_latency', protocol: 'Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256', handshakes: HANDSHAKES,
    p50_ms: round(percentile(times, 50)), p95_ms: round(percentile(times, 95)), goal_ms: 10,
    cpu_ms_per_handshake_both_ends: round((cpu.user + cpu.system) / 1000 / HANDSHAKES),
    note: 'loopback TCP connect + 3 messages, both ends in one process',
  })
}

/** Child side: one responder session that counts messages and reports when all arrived. */
async function receiver(messages) {
  let count = 0
  let cpu
  const server = await listen(async (socket) => {
    const session = await secureSession(socket, options('responder'))
    cpu = process.cpuUsage()
    session.onMessage(() => {
      if (++count === messages) {
        const used = process.cpuUsage(cpu)
        process.send({done: true, cpu_ms: (used.user + used.system) / 1000})
        session.close()
        server.close()
        process.disconnect()
      }
    })
  })
  process.send({port: server.address().port})
}

async function throughput() {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver', String(THROUGHPUT_MESSAGES)], {stdio: 'inherit'})
  const [{port}] = await once(child, 'message')
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const session = await secureSession(socket, options('initiator'))
  const done = once(child, 'message')
  const message = Buffer.alloc(MESSAGE_BYTES, 0x61)
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < THROUGHPUT_MESSAGES; i++) await session.send(message)
  const [{cpu_ms: receiverCpuMs}] = await done
  const secs = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  const mb = (THROUGHPUT_MESSAGES * MESSAGE_BYTES) / 1e6
  session.close()
  await once(child, 'exit')
  report({
    bench: 'mesh_stream_throughput', message_bytes: MESSAGE_BYTES, messages: THROUGHPUT_MESSAGES,
    mb_per_s: round(mb / secs), goal_mb_per_s: 400,
    sender_mb_per_cpu_s: round(mb / ((used.user + used.system) / 1e6)), receiver_mb_per_cpu_s: round(mb / (receiverCpuMs / 1000)),
    note: 'one session over loopback TCP, receiver in a child process; MB = 10^6 bytes',
  })
}

/** Both mesh figures. */
export async function benchMesh() {
  await handshakeLatency()
  await throughput()
}

if (process.argv[2] === '--receiver') await receiver(Number(process.argv[3]))
else if (import.meta.url === `file://${process.argv[1]}`) await benchMesh()
