import {OsmodaError} from '../../../lib/errors.js'

/** The channels an agent can serve (SPEC §2.10 agents.json). */
export type ChatChannel = 'web' | 'api' | 'telegram' | 'whatsapp' | 'voice'

/** The part of agents.json that routing reads. */
export interface AgentRouting {
  agents: ReadonlyArray<{id: string; enabled: boolean; channels: readonly string[]}>
  bindings: ReadonlyArray<{channel: string; agent_id: string}>
}

/**
 * The agent that answers a channel: its binding's agent if that agent is enabled, else the first
 * enabled agent listing the channel, else 503 AGENT_DISCONNECTED (reason no_agent_for_channel).
 */
export function resolveChannelAgent(routing: AgentRouting, channel: ChatChannel): string {
  const binding = routing.bindings.find((b) => b.channel === channel)
  const bound = binding ? routing.agents.find((a) => a.id === binding.agent_id) : undefined
  if (bound?.enabled) return bound.id
  const listing = routing.agents.find((a) => a.enabled && a.channels.includes(channel))
  if (listing) return listing.id
  throw new OsmodaError('AGENT_DISCONNECTED', `no enabled agent serves the ${channel} channel`, {
    details: {reason: 'no_agent_for_channel', channel, fallback_recommendation: 'configure_agent'},
    hint: `enable an agent that lists "${channel}" in its channels (osmoda agent set <id> --enable --channel ${channel})`,
  })
}
