import {render} from 'ink'
import {TuiApp, type TuiAppProps} from './app.js'

/**
 * Renders the dashboard until `q`, Ctrl-C or the signal aborts (SIGINT/SIGTERM without a TTY).
 * The only module that pulls in Ink and React: the `tui` command imports it lazily.
 */
export async function runTui(props: TuiAppProps, signal: AbortSignal): Promise<void> {
  const instance = render(<TuiApp {...props} />, {exitOnCtrlC: true, patchConsole: false})
  const stop = () => instance.unmount()
  signal.addEventListener('abort', stop, {once: true})
  try {
    await instance.waitUntilExit()
  } finally {
    signal.removeEventListener('abort', stop)
  }
}
