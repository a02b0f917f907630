import type {ChildProcess} from 'node:child_process'

/** Extra wait after SIGKILL before we stop waiting for pipes held by processes outside the group. */
const PIPE_RELEASE_MS = 500

/** Stops a detached child's whole process group: SIGTERM, then SIGKILL after the grace period. */
export interface GroupKiller {
  /** Starts the SIGTERM → SIGKILL sequence (idempotent). */
  terminate(): void
  /** Cancels the pipe-release timer once the child's streams have closed. */
  dispose(): void
}

/**
 * A killer for the process group led by `child` (spawned with `detached: true`, so its pgid is its
 * pid). After SIGKILL, a process that escaped the group (setsid) may still hold our pipes; the
 * streams are then destroyed so the caller's promise always settles.
 */
export function createGroupKiller(child: ChildProcess, graceMs: number): GroupKiller {
  const pid = child.pid
  let terminating = false
  let release: NodeJS.Timeout | undefined
  const send = (signal: NodeJS.Signals): boolean => {
    if (pid === undefined) return false
    try {
      process.kill(-pid, signal)
      return true
    } catch {
      // ESRCH: the group is empty. EPERM: members we may not signal (setuid); nothing more to do.
      return false
    }
  }
  return {
    terminate() {
      if (terminating || pid === undefined) return
      terminating = true
      if (send('SIGTERM')) {
        // Unref'd: the result may be delivered before the grace ends, the SIGKILL still must follow.
        setTimeout(() => send('SIGKILL'), graceMs).unref()
      }
      release = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, graceMs + PIPE_RELEASE_MS)
    },
    dispose() {
      clearTimeout(release)
    },
  }
}
