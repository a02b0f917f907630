import {chmodSync, chownSync, readFileSync} from 'node:fs'
import type {Logger} from '../log.js'

/** The group whose members may connect to the daemon sockets (SPEC §1.1). */
export const DEFAULT_SOCKET_GROUP = 'osmoda'

/** The gid of a group in /etc/group, or null when there is none. */
export function groupId(name: string, groupFile = '/etc/group'): number | null {
  let text: string
  try {
    text = readFileSync(groupFile, 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':')
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid)
  }
  return null
}

/** Who this process is, as far as handing a socket to a group goes. */
export interface ProcessIdentity {
  uid: number
  /** The primary and supplementary groups. */
  gids: readonly number[]
}

/** How a socket is left once it listens. */
export type SocketAccess = {mode: 0o660; gid: number; warning: null} | {mode: 0o600; gid: null; warning: string}

/**
 * Decides a socket's mode and group (SPEC §1.1: 0660 with group `osmoda`; the egress proxy socket
 * uses `osmoda-sandbox`). Root, or a member of the group, hands the socket to the group with 0660.
 * When the group does not exist (dev machines, tests, CI) or a non-root process is not in it, the
 * socket stays owner-only (0600): without the group, 0660 would open it to whatever group the
 * process happens to run with, and in dev mode every client runs as the same user anyway.
 */
export function decideSocketAccess(group: string, gid: number | null, who: ProcessIdentity): SocketAccess {
  if (gid === null) return {mode: 0o600, gid: null, warning: `group ${group} does not exist: the socket is owner-only (0600); create the group to let its members connect`}
  if (who.uid === 0 || who.gids.includes(gid)) return {mode: 0o660, gid, warning: null}
  return {mode: 0o600, gid: null, warning: `this process (uid ${who.uid}) is not in group ${group}: the socket is owner-only (0600)`}
}

/** This process's uid and groups. */
export function currentIdentity(): ProcessIdentity {
  return {uid: process.getuid?.() ?? 0, gids: [...new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])])]}
}

/**
 * Applies the decision to a socket that just started listening and logs its warning (once per
 * socket, at start). The group is set before the mode, so the socket is never open to a group it
 * should not have.
 */
export function secureSocket(path: string, group: string, log: Logger, options: {groupFile?: string; who?: ProcessIdentity} = {}): SocketAccess {
  const access = decideSocketAccess(group, groupId(group, options.groupFile), options.who ?? currentIdentity())
  if (access.gid !== null) chownSync(path, -1, access.gid)
  chmodSync(path, access.mode)
  if (access.warning) log.warn('socket group not applied', {socket: path, group, detail: access.warning})
  return access
}
