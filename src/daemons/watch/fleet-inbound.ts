import {ConflictError, PermissionDeniedError} from '../../lib/errors.js'
import {FINAL_PHASES, type FleetMessage, type FleetProposal} from './fleet-api.js'
import {iso, SELF, type FleetMachine, type FleetServiceDeps} from './fleet-machine.js'
import type {FleetPrivate} from './fleet-store.js'

/**
 * The peer side of a fleet deploy: one message from an authenticated mesh peer (fleet_propose,
 * fleet_vote, fleet_result from participants; fleet_execute, fleet_rollback from the proposer).
 * The caller serialises it with every other transition.
 */
export function createFleetInbound(deps: FleetServiceDeps, machine: FleetMachine) {
  const {now, load, save, event, send, participant, tally, beginLocal, recordResult, reportLocal} = machine
  const log = deps.log

  return async (peerId: string, message: FleetMessage): Promise<{accepted: boolean}> => {
    if (message.sender !== undefined && message.sender !== peerId) {
      throw new PermissionDeniedError('FORBIDDEN', `message claims sender ${message.sender} but arrived from authenticated peer ${peerId}`, {
        hint: 'the sender of a fleet message is the authenticated mesh peer; no body field can claim another',
      })
    }
    if (message.type === 'fleet_propose') {
      if (deps.store.get(message.fleet_id)) throw new ConflictError(`fleet proposal ${message.fleet_id} is already known`)
      const at = now()
      // The proposer approves implicitly; this node's entry is `self`; the others are as the proposer names them.
      const p: FleetProposal = {
        id: message.fleet_id,
        plan: message.plan,
        role: 'participant',
        proposer: peerId,
        target: message.target,
        health_checks: message.health_checks,
        quorum_percent: message.quorum_percent,
        quorum_required: message.quorum_required,
        timeout_secs: message.timeout_secs,
        phase: 'voting',
        reason: null,
        participants: [
          {peer_id: peerId, vote: 'approve', voted_at: iso(at), status: 'pending', switch_id: null},
          {peer_id: SELF, vote: null, voted_at: null, status: 'pending', switch_id: null},
        ],
        created_at: iso(at),
        updated_at: iso(at),
      }
      const secret: FleetPrivate = {voting_ends_at: at + message.timeout_secs * 1000}
      deps.store.insert(p, secret)
      event('fleet.proposed', `peer:${peerId}`, {fleet_id: p.id, plan: p.plan, participants: [peerId, ...message.participants], quorum_required: p.quorum_required, role: 'participant'})
      // approve_if_healthy covers flake targets only (SPEC §2.3): a peer's `commands` or store path always waits for this node's operator.
      if (deps.settings().fleet.autoVote === 'approve_if_healthy' && p.target.type === 'nixos' && 'flake' in p.target.source && deps.localHealthy && (await deps.localHealthy(p.health_checks))) {
        const me = participant(p, SELF)!
        me.vote = 'approve'
        me.voted_at = iso(now())
        save(p, secret)
        event('fleet.voted', 'watch', {fleet_id: p.id, peer_id: SELF, approve: true, reason: 'autoVote: approve_if_healthy, local health passed'})
        await send(peerId, {type: 'fleet_vote', fleet_id: p.id, approve: true, reason: 'autoVote: local health passed'})
      }
      return {accepted: true}
    }
    const {proposal: p, secret} = load(message.fleet_id)
    if (message.type === 'fleet_vote') {
      if (p.role !== 'proposer') throw new PermissionDeniedError('FORBIDDEN', `votes for ${p.id} go to its proposer, not to this node`)
      const x = participant(p, peerId)
      if (!x || peerId === SELF) throw new PermissionDeniedError('FORBIDDEN', `peer ${peerId} is not a participant of ${p.id}`)
      if (p.phase !== 'voting' || x.vote !== null) return {accepted: false}
      x.vote = message.approve ? 'approve' : 'deny'
      x.voted_at = iso(now())
      save(p, secret)
      event('fleet.voted', `peer:${peerId}`, {fleet_id: p.id, peer_id: peerId, approve: message.approve, ...(message.reason ? {reason: message.reason} : {})})
      await tally(p, secret)
      return {accepted: true}
    }
    if (message.type === 'fleet_result') {
      if (p.role !== 'proposer') throw new PermissionDeniedError('FORBIDDEN', `results for ${p.id} go to its proposer, not to this node`)
      const x = participant(p, peerId)
      if (!x || peerId === SELF) throw new PermissionDeniedError('FORBIDDEN', `peer ${peerId} is not a participant of ${p.id}`)
      if (x.status !== 'executing') return {accepted: false}
      x.switch_id = message.switch_id
      await recordResult(p, secret, peerId, message.status, message.reason ?? message.status)
      return {accepted: true}
    }
    // fleet_execute and fleet_rollback only come from the proposer.
    if (p.role !== 'participant' || p.proposer !== peerId) throw new PermissionDeniedError('FORBIDDEN', `only the proposer of ${p.id} may send ${message.type}`)
    const me = participant(p, SELF)!
    if (message.type === 'fleet_execute') {
      if (p.phase !== 'voting' || me.vote !== 'approve') return {accepted: false}
      p.phase = 'executing'
      save(p, secret)
      event('fleet.executing', `peer:${peerId}`, {fleet_id: p.id, role: 'participant'})
      if (!(await beginLocal(p, secret, SELF))) await reportLocal(p, secret, 'failed', p.reason ?? 'local switch could not start')
      return {accepted: true}
    }
    // fleet_rollback
    if (FINAL_PHASES.includes(p.phase)) return {accepted: false}
    if (me.status === 'executing' && me.switch_id) {
      await deps.switches.rollback(me.switch_id, `fleet ${p.id} rolled back by its proposer: ${message.reason}`).catch((error: Error) => log.warn('rollback failed', {error: error.message}))
      me.status = deps.switches.status(me.switch_id) === 'rolled_back' ? 'rolled_back' : 'failed'
    }
    p.phase = p.phase === 'voting' ? 'aborted' : 'rolled_back'
    p.reason = `proposer: ${message.reason}`.slice(0, 500)
    save(p, secret)
    event(p.phase === 'aborted' ? 'fleet.aborted' : 'fleet.rolled_back', `peer:${peerId}`, {fleet_id: p.id, reason: p.reason, role: 'participant'})
    return {accepted: true}
  }
}
