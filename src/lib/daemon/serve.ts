import type {RpcServer} from '../rpc/server.js'
import type {DaemonContext} from './runtime.js'

/** The socket group of a daemon's config (the shared `socketGroup` key), if it has one. */
export function socketGroupOf(config: unknown): string | undefined {
  const group = (config as {socketGroup?: unknown} | null)?.socketGroup
  return typeof group === 'string' ? group : undefined
}

/**
 * Listens on the daemon's socket (mode and group from the shared `socketGroup` key), reports
 * readiness, waits for ctx.signal, then drains and removes the socket: the tail of every daemon's main.
 */
export async function serveUntilAborted(ctx: DaemonContext, server: RpcServer): Promise<void> {
  await server.listen(ctx.paths.socket(ctx.name), {group: socketGroupOf(ctx.config)})
  ctx.ready()
  if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), {once: true}))
  await server.close()
}
