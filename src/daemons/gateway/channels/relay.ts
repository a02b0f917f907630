import {createHash} from 'node:crypto'
import {toOsmodaError} from '../../../lib/errors.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {Logger} from '../../../lib/log.js'
import {parseCommand, runCommand, type SafetyCalls} from './commands.js'
import type {ChannelUser, ChatDispatcher, ReplyEvent, SessionRef} from './dispatch.js'
import {resolveChannelAgent} from './routing.js'
import {MAX_MESSAGE_CHARS, splitMessage} from './split.js'

/** Typing indicators repeat this often while a request runs (Telegram's expires after ~5 s). */
export const TYPING_INTERVAL_MS = 5000
/** At most one `channel.sender_rejected` per channel per minute. */
const REJECT_LEDGER_INTERVAL_MS = 60_000

/** How a channel talks back to its provider. */
export interface ChannelOutbox {
  /** Sends one plain-text message of at most MAX_MESSAGE_CHARS characters. */
  send(chatId: string, text: string): Promise<void>
  /** Shows "typing…" in the chat; optional. */
  typing?(chatId: string): Promise<void>
}

/** One text message received on a channel, after the provider's own checks. */
export interface InboundText {
  chatId: string
  user: ChannelUser
  text: string
  allowed: boolean
  operator: boolean
}

/** Dependencies of the relay. */
export interface RelayOptions {
  channel: 'telegram' | 'whatsapp'
  dispatcher: ChatDispatcher
  safety: SafetyCalls
  skillDirs: readonly string[]
  ledger: Pick<Ledger, 'append'>
  log: Logger
  outbox: ChannelOutbox
  clock?: () => number
  typingIntervalMs?: number
}

/** Turns inbound channel texts into chat requests and their events into replies. */
export interface ChannelRelay {
  /** Handles one message to the end (reply sent); never throws. */
  handle(message: InboundText): Promise<void>
}

/** The relay shared by Telegram and WhatsApp: sender check, slash commands, dispatch, replies. */
export function createChannelRelay(options: RelayOptions): ChannelRelay {
  const {channel, dispatcher, outbox, log} = options
  const clock = options.clock ?? Date.now
  let lastRejectRecordedAt = -Infinity
  let rejectedSinceRecord = 0

  const reply = async (chatId: string, text: string) => {
    for (const part of splitMessage(text, MAX_MESSAGE_CHARS)) await outbox.send(chatId, part)
  }

  const reject = (user: ChannelUser) => {
    rejectedSinceRecord += 1
    if (clock() - lastRejectRecordedAt < REJECT_LEDGER_INTERVAL_MS) return
    const senderSha256 = createHash('sha256').update(`${channel}:${user.id}`).digest('hex')
    options.ledger.append({type: 'channel.sender_rejected', actor: 'gateway', payload: {channel, sender_sha256: senderSha256, rejected_count: rejectedSinceRecord}})
    log.warn('channel sender rejected', {channel, sender_sha256: senderSha256})
    lastRejectRecordedAt = clock()
    rejectedSinceRecord = 0
  }

  const session = (user: ChannelUser): SessionRef => ({agentId: resolveChannelAgent(dispatcher.routing(), channel), channel, user})

  const converse = async (message: InboundText, text: string) => {
    const ref = session(message.user)
    const events = dispatcher.submit({agentId: ref.agentId, channel, user: message.user, text})
    const stopTyping = startTyping(message.chatId)
    try {
      await deliver(message.chatId, events)
    } finally {
      stopTyping()
    }
  }

  const startTyping = (chatId: string): (() => void) => {
    if (!outbox.typing) return () => {}
    const tick = () => void outbox.typing!(chatId).catch((error: unknown) => log.debug('typing indicator failed', {channel, error}))
    tick()
    const timer = setInterval(tick, options.typingIntervalMs ?? TYPING_INTERVAL_MS)
    return () => clearInterval(timer)
  }

  // Each finished assistant message is sent as soon as the next one starts, so a phone sees
  // "checking the disks…" before the tools run rather than everything at the end.
  const deliver = async (chatId: string, events: AsyncIterable<ReplyEvent>) => {
    const state: {current: {id: string; text: string} | null; sent: boolean} = {current: null, sent: false}
    const flush = async () => {
      const message = state.current
      state.current = null
      if (message && message.text.trim() !== '') {
        await reply(chatId, message.text)
        state.sent = true
      }
    }
    for await (const event of events) {
      if (event.type === 'text') {
        if (state.current?.id !== event.message_id) {
          await flush()
          state.current = {id: event.message_id, text: ''}
        }
        state.current.text += event.delta
      } else if (event.type === 'done') {
        await flush()
        if (!state.sent && event.reply.trim() !== '') await reply(chatId, event.reply)
        return
      } else if (event.type === 'error') {
        await flush()
        await reply(chatId, `⚠️ ${event.code}: ${event.message}`)
        return
      }
    }
    await flush()
  }

  return {
    async handle(message) {
      if (!message.allowed) return reject(message.user)
      try {
        let text = message.text
        const command = parseCommand(text)
        if (command) {
          const outcome = await runCommand(command, {
            channel,
            operator: message.operator,
            session: () => session(message.user),
            dispatcher,
            safety: options.safety,
            skillDirs: options.skillDirs,
            ledger: options.ledger,
          })
          if ('reply' in outcome) return await reply(message.chatId, outcome.reply)
          text = outcome.prompt
        }
        await converse(message, text)
      } catch (error) {
        const failure = toOsmodaError(error)
        log.warn('channel message failed', {channel, code: failure.code, error: failure.message})
        const hint = failure.code === 'SESSION_BUSY' ? 'Still working on the previous message; send /stop to cancel it.' : `⚠️ ${failure.code}: ${failure.message}`
        await reply(message.chatId, hint).catch((sendError: unknown) => log.warn('channel reply failed', {channel, error: sendError}))
      }
    },
  }
}
