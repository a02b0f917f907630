import type {FleetProposal} from '../../daemons/watch/fleet-api.js'

/** A proposal as the CLI prints it. */
export function renderFleet(p: FleetProposal): string {
  const approvals = p.participants.filter((x) => x.vote === 'approve').length
  const target =
    p.target.type === 'commands' ? `commands: ${p.target.apply.map((s) => [s.command, ...s.args].join(' ')).join(' && ')}` : 'flake' in p.target.source ? `flake ${p.target.source.flake}` : `store path ${p.target.source.store_path}`
  const lines = [
    `${p.id}  ${p.phase}${p.reason ? ` (${p.reason})` : ''}`,
    `  plan:     ${p.plan}`,
    `  role:     ${p.role}${p.role === 'participant' ? ` (proposer ${p.proposer})` : ''}`,
    `  target:   ${target}`,
    `  quorum:   ${approvals}/${p.quorum_required} approvals (${p.quorum_percent} % of ${p.participants.length}), voting ${p.timeout_secs}s`,
    '  participants:',
    ...p.participants.map((x) => `    ${x.peer_id.padEnd(32)}  ${(x.vote ?? 'no vote').padEnd(7)}  ${x.status.padEnd(11)}  ${x.switch_id ?? ''}`.trimEnd()),
    `  created:  ${p.created_at}   updated: ${p.updated_at}`,
  ]
  return lines.join('\n')
}
