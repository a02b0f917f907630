import type {Handlers} from '../../../lib/rpc/server.js'
import type {agentCardApi} from './api.js'
import type {AgentCardService} from './service.js'

/** Binds the agent-card routes to the service; no logic lives here. */
export function agentCardHandlers(cards: AgentCardService): Handlers<typeof agentCardApi> {
  return {
    agentCardGet: () => cards.get(),
    agentCardGenerate: (input, ctx) => cards.generate(input, ctx),
  }
}
