import type {Peer} from '../../daemons/mesh/api.js'

/** A peer as a few human lines. */
export function renderPeer(peer: Peer): string {
  const s = peer.stats
  return [
    `${peer.id}${peer.label ? ` (${peer.label})` : ''}: ${peer.state}${peer.state_reason ? ` — ${peer.state_reason}` : ''}`,
    `  endpoint ${peer.endpoint ?? '-'} · via ${peer.via} · added ${peer.added_at} · last seen ${peer.last_seen_at ?? 'never'}`,
    `  sent ${s.messages_sent} msgs / ${s.bytes_sent} B · received ${s.messages_received} msgs / ${s.bytes_received} B · reconnects ${s.reconnects}`,
  ].join('\n')
}

/** Rows for the peers table. */
export function peerRows(peers: readonly Peer[]) {
  return peers.map((p) => ({id: p.id, label: p.label ?? '', state: p.state, endpoint: p.endpoint ?? '', last_seen: p.last_seen_at ?? '', received: p.stats.messages_received}))
}

/** Asks "y/N" on a terminal; without one the caller must pass --yes. */
export async function confirmOrYes(yes: boolean, question: string): Promise<boolean> {
  if (yes) return true
  if (!process.stdin.isTTY) return false
  const {createInterface} = await import('node:readline/promises')
  const rl = createInterface({input: process.stdin, output: process.stderr})
  const answer = await rl.question(`${question} [y/N] `).finally(() => rl.close())
  return /^y(es)?$/i.test(answer.trim())
}
