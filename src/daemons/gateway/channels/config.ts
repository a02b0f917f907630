import {z} from 'zod'

const SecretFile = z.string().regex(/^\//, 'must be an absolute path').max(4096)
const TelegramUserId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
// WhatsApp ids are E.164 numbers; the Cloud API sends them as digits without '+'.
const PhoneNumber = z.string().regex(/^\+?[0-9]{6,15}$/, 'expected an E.164 number such as +15551234567')

/** `channels.telegram` of gateway.json (SPEC §2.10). */
export const TelegramConfig = z.strictObject({
  enable: z.boolean().default(false),
  mode: z.enum(['polling', 'webhook']).default('polling'),
  botTokenFile: SecretFile.optional(),
  webhookSecretFile: SecretFile.optional(),
  apiBaseUrl: z.url({protocol: /^https?$/}).default('https://api.telegram.org'),
  allowedUserIds: z.array(TelegramUserId).max(1000).default([]),
  operatorUserIds: z.array(TelegramUserId).max(1000).default([]),
  /** Long-poll timeout of getUpdates; 30 s in production, shorter in tests. */
  pollTimeoutSecs: z.number().int().min(0).max(50).default(30),
})

/** `channels.whatsapp` of gateway.json (SPEC §2.10). */
export const WhatsappConfig = z.strictObject({
  enable: z.boolean().default(false),
  phoneNumberId: z.string().regex(/^[0-9]{1,32}$/, 'expected the numeric phone number id of the Cloud API').optional(),
  accessTokenFile: SecretFile.optional(),
  appSecretFile: SecretFile.optional(),
  verifyTokenFile: SecretFile.optional(),
  graphApiBaseUrl: z.url({protocol: /^https?$/}).default('https://graph.facebook.com'),
  graphApiVersion: z.string().regex(/^v[0-9]{1,3}\.[0-9]{1,3}$/, 'expected a version such as v21.0').default('v21.0'),
  allowedNumbers: z.array(PhoneNumber).max(1000).default([]),
  operatorNumbers: z.array(PhoneNumber).max(1000).default([]),
})

/** `channels` of gateway.json. */
export const ChannelsConfig = z.strictObject({
  telegram: TelegramConfig.default(TelegramConfig.parse({})),
  whatsapp: WhatsappConfig.default(WhatsappConfig.parse({})),
})

/** Validated Telegram channel config. */
export type TelegramConfig = z.output<typeof TelegramConfig>
/** Validated WhatsApp channel config. */
export type WhatsappConfig = z.output<typeof WhatsappConfig>
/** Validated channels config. */
export type ChannelsConfig = z.output<typeof ChannelsConfig>

/** A WhatsApp number as the Cloud API writes it: digits only. */
export function normalizeNumber(number: string): string {
  return number.replace(/[^0-9]/g, '')
}
