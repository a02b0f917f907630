import {Text} from 'ink'
import {describeFilter, type LogFilter} from '../format.js'
import type {TailState} from '../hooks/ledger-tail.js'

/** What is being typed into a filter prompt. */
export interface FilterPrompt {
  field: 'type' | 'actor'
  text: string
}

function connection(state: TailState) {
  if (state.kind === 'live') return <Text color="green">● live</Text>
  if (state.kind === 'connecting') return <Text color="yellow">◌ connecting to agentd</Text>
  return (
    <Text color="red">
      ◌ agentd unreachable, retry {state.attempt} in {(state.retryInMs / 1000).toFixed(1)} s
    </Text>
  )
}

/** The bottom line: stream state, pause, filter, and the filter prompt or key hints. */
export function StatusBar(props: {state: TailState; paused: boolean; held: number; filter: LogFilter; prompt: FilterPrompt | null; interactive: boolean}) {
  const {state, paused, held, filter, prompt} = props
  return (
    <Text wrap="truncate-end">
      {connection(state)}
      {paused ? <Text color="yellow" bold>{` PAUSED (${held} held)`}</Text> : null}
      <Text> · filter {describeFilter(filter)} · </Text>
      {prompt ? (
        <Text color="cyan">
          {prompt.field} filter: {prompt.text}▌ (enter apply, esc cancel)
        </Text>
      ) : props.interactive ? (
        <Text dimColor>? help · p pause · t/@ filter · a/d decide · q quit</Text>
      ) : (
        <Text dimColor>no terminal input: read-only view (Ctrl-C to stop)</Text>
      )}
    </Text>
  )
}
