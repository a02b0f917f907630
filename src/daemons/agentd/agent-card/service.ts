import {createPublicKey, type KeyObject} from 'node:crypto'
import {mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'
import type {z} from 'zod'
import {ConflictError, OsmodaError} from '../../../lib/errors.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {DaemonName} from '../../../lib/paths.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import {writeFileAtomic} from '../../../lib/secure-file.js'
import type {Gate} from '../approvals/types.js'
import {AgentCardBundle, type AgentCardGenerateInput} from './api.js'
import {buildAgentCard, type CardFacts} from './build.js'
import {signAgentCard, verifyAgentCard} from './signature.js'

type Bundle = z.input<typeof AgentCardBundle>

/** Dependencies of the agent-card service. */
export interface AgentCardServiceDeps {
  /** `<state>/agentd/agent-card.json`. */
  file: string
  /** The node's Ed25519 key (`<state>/identity/ed25519.key`). */
  signingKey: KeyObject
  ledger: Ledger
  gate: Gate
  version: string
  /** `agentCard.*` of the current config (read per request, so a reload applies). */
  settings(): {name: string; description: string; image: string | null}
  /** The daemons enabled now (enabled-daemons.ts). */
  enabledDaemons(): Promise<DaemonName[]>
  gatewayUrl(): string
  socket(name: DaemonName): string
}

// The card is public (the gateway serves it without authentication) and holds no secret: 0644 says
// so; the 0700 agentd state dir still decides who can reach it on this host.
const CARD_FILE_MODE = 0o644
const SUMMARY_MAX = 500

/**
 * The agent card: GET answers the stored card, or one built from the config defaults and the
 * daemons enabled now; generate builds, signs and stores a new one after the approval gate.
 */
export function createAgentCardService(deps: AgentCardServiceDeps) {
  const {file, signingKey, ledger, gate} = deps
  const verifyKey = createPublicKey(signingKey)

  const build = async (overrides: {name?: string; description?: string; services?: CardFacts['services']}): Promise<Bundle> => {
    const settings = deps.settings()
    const {card, registration} = buildAgentCard({
      name: overrides.name ?? settings.name,
      description: overrides.description ?? settings.description,
      image: settings.image,
      version: deps.version,
      daemons: await deps.enabledDaemons(),
      gatewayUrl: deps.gatewayUrl(),
      socket: deps.socket,
      services: overrides.services,
    })
    // The registration is signed the same way as the card (JWS over its canonical form, node key):
    // ERC-8004 defines no signature of its own, and a registration file fetched from anywhere but
    // this node must still be attributable to it.
    return {card: signAgentCard(card, signingKey), registration: signAgentCard(registration, signingKey)}
  }

  const readStored = (): Bundle | null => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new OsmodaError('INTERNAL', `cannot read ${file}: ${(error as Error).message}`)
    }
    let parsed: z.output<typeof AgentCardBundle>
    try {
      parsed = AgentCardBundle.parse(JSON.parse(text))
    } catch (error) {
      throw new ConflictError(`${file} is not a valid agent card file: ${(error as Error).message.slice(0, 300)}`, {
        details: {state: 'unreadable'},
        hint: 'regenerate it with `osmoda agent-card generate`',
      })
    }
    // Never serve a card this node's key does not vouch for (edited by hand, or restored beside another identity).
    if (!verifyAgentCard(parsed.card, verifyKey) || !verifyAgentCard(parsed.registration, verifyKey)) {
      throw new ConflictError(`the stored agent card's signature does not verify with this node's key`, {
        details: {state: 'signature_invalid'},
        hint: 'regenerate it with `osmoda agent-card generate`',
      })
    }
    return parsed
  }

  return {
    async get(): Promise<Bundle> {
      return readStored() ?? build({})
    },

    async generate(input: z.output<typeof AgentCardGenerateInput>, ctx: Pick<RequestContext, 'role' | 'actor'>): Promise<Bundle> {
      const {approval_id: approvalId, ...body} = input
      const bundle = await build(body)
      const name = bundle.card.name
      const services = bundle.registration.services.map((s) => s.name)
      const summary = `Publish a new signed agent card "${name}" advertising ${services.join(', ') || 'no services'}`
      // The gate sees the request as sent (digest over the validated body), before anything is written.
      gate.check({
        operation: 'agent_card',
        method: 'POST',
        path: '/agent/card/generate',
        body,
        ctx,
        summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 3)}...` : summary,
        approvalId: approvalId ?? null,
      })
      const text = `${JSON.stringify(bundle, null, 2)}\n`
      mkdirSync(dirname(file), {recursive: true, mode: 0o700})
      // Ledger first: a failed append leaves the old card in place, so no change goes unrecorded.
      ledger.append({type: 'agent_card.generated', actor: ctx.actor, payload: {name, services}})
      writeFileAtomic(file, text, CARD_FILE_MODE)
      return bundle
    },
  }
}

/** The agent-card service's interface. */
export type AgentCardService = ReturnType<typeof createAgentCardService>
