import type {Readable, Writable} from 'node:stream'
import {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js'
import {createToolCallRecorder} from './recorder.js'
import {createOsmodaMcpServer, type OsmodaMcpServerOptions} from './server.js'

const DRAIN_MS = 5000

/** Options of serveStdio: the server's, minus the recorder it builds itself. */
export interface ServeStdioOptions extends Omit<OsmodaMcpServerOptions, 'recorder'> {
  /** Print a start line and protocol errors to stderr. */
  verbose?: boolean
  stdin?: Readable
  stdout?: Writable
  /** Where log lines go (stderr by default: stdout is the protocol). */
  log?: (line: string) => void
}

/**
 * Serves the osmoda MCP server on stdin/stdout until stdin ends, the client disconnects or the
 * process gets SIGINT/SIGTERM; then flushes buffered `tool.called` records and resolves.
 */
export async function serveStdio(options: ServeStdioOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin
  const stdout = options.stdout ?? process.stdout
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const recorder = createToolCallRecorder({agentd: options.clients.agentd, log})
  const server = createOsmodaMcpServer({...options, recorder})
  const transport = new StdioServerTransport(stdin, stdout)

  let finish: (reason: string) => void = () => {}
  const stopped = new Promise<string>((resolve) => (finish = resolve))
  const onEnd = () => finish('stdin closed')
  const onSignal = (signal: NodeJS.Signals) => finish(signal)
  stdin.once('end', onEnd)
  stdin.once('close', onEnd)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  server.onclose = () => finish('transport closed')
  server.onerror = (error) => {
    if (options.verbose) log(`osmoda mcp: protocol error: ${error.message}`)
  }

  try {
    await server.connect(transport)
    if (options.verbose) log(`osmoda mcp: serving ${options.role} tools on stdio`)
    const reason = await stopped
    if (options.verbose) log(`osmoda mcp: stopping (${reason})`)
  } finally {
    stdin.off('end', onEnd)
    stdin.off('close', onEnd)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // A call still running when stdin closed must still reach the ledger.
    await server.idle(DRAIN_MS)
    await server.close()
    await recorder.close()
  }
}
