import {Static, Text} from 'ink'
import {domainColor, payloadText} from '../format.js'
import type {LogLine} from '../hooks/use-ledger-tail.js'

const TYPE_WIDTH = 22
const ACTOR_WIDTH = 16

/** One event: seq, time, type (coloured by domain), actor and the payload cut to the width. */
export function EventLine({line, width}: {line: LogLine; width: number}) {
  if (line.kind === 'note') return <Text color={line.tone === 'warn' ? 'yellow' : 'cyan'}>{line.text}</Text>
  const {event} = line
  const head = `${String(event.seq).padStart(6)} ${event.ts.slice(11, 19)} `
  const type = event.type.padEnd(TYPE_WIDTH)
  const actor = event.actor.padEnd(ACTOR_WIDTH)
  const room = width - head.length - type.length - actor.length - 2
  return (
    <Text wrap="truncate-end">
      <Text dimColor>{head}</Text>
      <Text color={domainColor(event.type)}>{type}</Text> {actor} <Text dimColor>{payloadText(event, room)}</Text>
    </Text>
  )
}

/** The ledger log: printed once above the live panels, so the terminal's scrollback keeps it. */
export function EventLog({lines, batch, width}: {lines: LogLine[]; batch: number; width: number}) {
  return (
    <Static key={batch} items={lines}>
      {(line) => <EventLine key={line.id} line={line} width={width} />}
    </Static>
  )
}
