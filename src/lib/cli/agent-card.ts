import type {z} from 'zod'
import type {AgentCardBundle, CardService} from '../../daemons/agentd/agent-card/api.js'
import {UsageError} from '../errors.js'

/** The human view of an agent card bundle: identity, interface, skills and services. */
export function renderAgentCard(bundle: z.output<typeof AgentCardBundle>): string {
  const {card, registration} = bundle
  const lines = [
    `${card.name} (version ${card.version})`,
    `  ${card.description}`,
    `  interface: ${card.supportedInterfaces.map((i) => `${i.url} ${i.protocolBinding} A2A ${i.protocolVersion}`).join('; ')}`,
    `  skills:    ${card.skills.map((s) => s.id).join(', ') || '(none)'}`,
    '  services:',
    ...registration.services.map((s) => `    ${s.name.padEnd(12)} ${s.endpoint} (${s.version})`),
    `  signed:    ${card.signatures?.length ?? 0} signature(s), EdDSA with the node key`,
  ]
  return lines.join('\n')
}

/** Parses `name=endpoint@version`; the version follows the last `@`, so endpoints may contain `@`. */
export function parseServiceFlag(text: string): z.input<typeof CardService> {
  const eq = text.indexOf('=')
  const at = text.lastIndexOf('@')
  if (eq < 1 || at <= eq + 1 || at === text.length - 1) {
    throw new UsageError(`--service ${JSON.stringify(text)} is not name=endpoint@version`, {
      code: 'USAGE',
      hint: 'e.g. --service "web=https://example.com@1" or --service "mcp=stdio:osmoda mcp@2025-11-25"',
    })
  }
  return {name: text.slice(0, eq), endpoint: text.slice(eq + 1, at), version: text.slice(at + 1)}
}
