import {Box, Text} from 'ink'

/** Every key of the dashboard (docs/tui.md has the same table). */
export const KEYS: [key: string, what: string][] = [
  ['q / Ctrl-C', 'quit'],
  ['?', 'show or hide this help'],
  ['p or space', 'pause / resume the event log (held lines print on resume)'],
  ['t', 'filter the log by type: exact (tool.called), domain.* or a bare domain'],
  ['@', 'filter the log by actor (agentd, agent:ops, operator:alice)'],
  ['x', 'clear both filters'],
  ['↑ ↓ (k j)', 'select a pending approval'],
  ['enter', 'show the selected approval: the exact request it is bound to'],
  ['a / d', 'approve / deny the selected approval, then y to confirm (n or esc cancels)'],
  ['esc', 'close the details, the prompt or this help'],
]

/** The key list, shown instead of the panels while open. */
export function HelpOverlay() {
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="cyan" paddingX={1}>
      <Text bold>osmoda tui — keys</Text>
      {KEYS.map(([key, what]) => (
        <Text key={key}>
          <Text color="cyan">{key.padEnd(12)}</Text> {what}
        </Text>
      ))}
      <Text dimColor>Decisions use the operator token and are ledgered as approval.approved / approval.denied.</Text>
    </Box>
  )
}
