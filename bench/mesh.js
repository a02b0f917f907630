// Mesh channel figures (SPEC §2.5): XXhfs handshake latency on loopback (X25519 + ephemeral
// ML-KEM-768, both ends in this process, so each handshake pays both sides' CPU) and single-stream
// throughput of 1 MiB application messages, with the receiver in a worker thread so encryption
// and decryption run on separate cores as they do between two nodes.
import {once} from 'node:events'
import net from 'node:net'
import {Worker, isMainThread, parentPort, workerData} from 'node:worker_threads'
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
  for (let i = 0; i < HANDSHAKES + 10; i++) {
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
  server.close()
  times.sort((a, b) => a - b)
  report({bench: 'mesh_handshake_latency', protocol: 'Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256', handshakes: HANDSHAKES, p50_ms: round(percentile(times, 50)), p95_ms: round(percentile(times, 95)), goal_ms: 10, note: 'loopback TCP connect + 3 messages, both ends in one process'})
}

/** Worker side: one responder session that counts bytes and reports when all arrived. */
async function receiver({messages, bytes}) {
  let received = 0
  let count = 0
  const server = await listen(async (socket) => {
    const session = await secureSession(socket, options('responder'))
    session.onMessage((m) => {
      received += m.length
      if (++count === messages) {
        parentPort.postMessage({done: true, received, ms: performance.now()})
        session.close()
        server.close()
      }
    })
  })
  parentPort.postMessage({port: server.address().port, bytes})
}

async function throughput() {
  const worker = new Worker(new URL(import.meta.url), {workerData: {role: 'receiver', messages: THROUGHPUT_MESSAGES, bytes: MESSAGE_BYTES}})
  const [{port}] = await once(worker, 'message')
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const session = await secureSession(socket, options('initiator'))
  const done = once(worker, 'message')
  const message = Buffer.alloc(MESSAGE_BYTES, 0x61)
  const start = performance.now()
  for (let i = 0; i < THROUGHPUT_MESSAGES; i++) await session.send(message)
  await done
  const secs = (performance.now() - start) / 1000
  const bytes = THROUGHPUT_MESSAGES * MESSAGE_BYTES
  session.close()
  await worker.terminate()
  report({bench: 'mesh_stream_throughput', message_bytes: MESSAGE_BYTES, messages: THROUGHPUT_MESSAGES, mb_per_s: round(bytes / 1e6 / secs), goal_mb_per_s: 400, note: 'one session, sender on the main thread, receiver in a worker'})
}

/** Both mesh figures. */
export async function benchMesh() {
  await handshakeLatency()
  await throughput()
}

if (!isMainThread && workerData?.role === 'receiver') await receiver(workerData)
else if (import.meta.url === `file://${process.argv[1]}`) await benchMesh()
