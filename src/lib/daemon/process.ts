import {runProcess} from '../exec/run.js'
import type {DaemonDefinition, StartOptions} from './runtime.js'
import {startDaemon} from './runtime.js'

/**
 * Runs one daemon as this process's whole job (`osmoda daemon <name>`): the only place that owns
 * signals. SIGTERM/SIGINT stop it (drain, close, remove socket), SIGHUP reloads it, and systemd
 * hears READY=1 once the socket listens.
 */
export async function runDaemonProcess(definition: DaemonDefinition, options: StartOptions): Promise<void> {
  const handle = startDaemon(definition, options)
  const stop = (signal: NodeJS.Signals) => void handle.stop(signal === 'SIGINT' ? 'interrupted' : 'signal')
  const reload = () => void handle.reload().catch(() => {})
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('SIGHUP', reload)
  try {
    await handle.ready
    if (process.env.NOTIFY_SOCKET) await notifySystemd()
    await handle.done
  } finally {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    process.off('SIGHUP', reload)
  }
}

/** Node has no AF_UNIX datagram sockets, so readiness goes through systemd-notify (SPEC §6). */
async function notifySystemd(): Promise<void> {
  await runProcess(['systemd-notify', '--ready', `--pid=${process.pid}`], {
    timeoutMs: 5000,
    env: {NOTIFY_SOCKET: process.env.NOTIFY_SOCKET ?? ''},
  })
}
