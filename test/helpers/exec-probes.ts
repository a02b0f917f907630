import {lstatSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {OsmodaError} from '../../src/lib/errors.js'
import type {Gate, GateRequest} from '../../src/daemons/agentd/approvals/types.js'

/** A Gate test double: records every check and either requires an approval or allows. */
export function recordingGate(verdict: 'require' | 'allow'): Gate & {calls: GateRequest[]} {
  const calls: GateRequest[] = []
  return {
    calls,
    check(request) {
      calls.push(structuredClone(request))
      if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
      if (verdict === 'allow' && request.approvalId) return {decision: 'allow', approval_id: request.approvalId, reason: 'approved'}
      throw new OsmodaError('APPROVAL_REQUIRED', `${request.operation} needs the operator's approval`, {
        details: {approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', expires_at: '2026-11-26T03:00:00.000Z', operation: request.operation, summary: request.summary},
      })
    },
  }
}

/** Every entry under `dir` with its type, mode, size, mtime and file contents: any write shows as a difference. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (path: string) => {
    const info = lstatSync(path)
    const content = info.isFile() ? readFileSync(path, 'utf8') : info.isSymbolicLink() ? 'link' : ''
    out[path] = `${info.mode.toString(8)} ${info.size} ${info.mtimeMs} ${info.ctimeMs} ${content}`
    if (info.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name))
  }
  walk(dir)
  return out
}

/** Pids of live processes in process group `pgid` (from /proc/<pid>/stat). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields: state ppid pgrp …; a zombie is already dead and only waits for its parent.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(name))
    } catch {
      // The process ended while we looked.
    }
  }
  return members
}

/** Pids of live processes whose command line contains `needle`. */
export function processesMatching(needle: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8')
      const state = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (cmdline.includes(needle) && state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z') found.push(Number(name))
    } catch {
      // Gone.
    }
  }
  return found
}
