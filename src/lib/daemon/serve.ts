import type {RpcServer} from '../rpc/server.js'
import type {DaemonContext} from './runtime.js'

/**
 * Listens on the daemon's socket, reports readiness, waits for ctx.signal, then drains and
 * removes the socket: the tail of every daemon's main.
 */
export async function serveUntilAborted(ctx: DaemonContext, server: RpcServer): Promise<void> {
  await server.listen(ctx.paths.socket(ctx.name))
  ctx.ready()
  if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), {once: true}))
  await server.close()
}
