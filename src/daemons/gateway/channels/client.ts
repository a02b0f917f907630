import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {loadDaemonConfig} from '../../../lib/config.js'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import type {OsmodaPaths} from '../../../lib/paths.js'
import {createFileExclusive} from '../../../lib/secure-file.js'
import {GatewayConfig} from '../config.js'
import type {TelegramConfig, WhatsappConfig} from './config.js'
import type {FetchLike} from './provider-http.js'
import {createTelegramApi} from './telegram-api.js'

/** What `osmoda channel telegram setup` did. */
export interface TelegramSetupResult {
  mode: 'webhook' | 'polling'
  url: string | null
  secret_created: boolean
  /** The mode gateway.json configures; setup does not edit the config. */
  configured_mode: 'webhook' | 'polling'
}

/** What `osmoda channel telegram status` reports. */
export interface TelegramStatusResult {
  enabled: boolean
  configured_mode: 'webhook' | 'polling'
  webhook_url: string | null
  pending_update_count: number
  last_error_message: string | null
  allowed_users: number
  operator_users: number
}

/** What `osmoda channel whatsapp status` reports (local checks only: the Cloud API has no cheap probe). */
export interface WhatsappStatusResult {
  enabled: boolean
  phone_number_id: string | null
  graph_api: string
  secrets: {access_token: boolean; app_secret: boolean; verify_token: boolean}
  allowed_numbers: number
  operator_numbers: number
  webhook_path: '/whatsapp/webhook'
}

/** The channels section of `<config>/gateway.json` (with OSMODA_GATEWAY_* overrides). */
export function readChannelsConfig(paths: OsmodaPaths, env: Record<string, string | undefined> = process.env) {
  return loadDaemonConfig('gateway', GatewayConfig, {file: paths.configFile('gateway'), env}).config.channels
}

function readSecretFile(file: string | undefined, option: string): string {
  if (!file) throw new UsageError(`${option} is not set in gateway.json`, {hint: `set channels.${option.split('.').slice(1).join('.')} to a root-only file`})
  try {
    const value = readFileSync(file, 'utf8').trim()
    if (value) return value
  } catch {
    // Reported below.
  }
  throw new UsageError(`cannot read ${option} (${file})`, {hint: 'create the file (mode 0600) with the secret on one line'})
}

/**
 * Registers the gateway's webhook with Telegram (setWebhook with the secret token the gateway
 * checks), or returns the bot to long polling (deleteWebhook). A missing webhook secret file is
 * created with 32 random bytes; an existing one is never overwritten.
 */
export async function telegramSetup(config: TelegramConfig, options: {url?: string; polling?: boolean; fetch?: FetchLike}): Promise<TelegramSetupResult> {
  const api = createTelegramApi({baseUrl: config.apiBaseUrl, botToken: readSecretFile(config.botTokenFile, 'channels.telegram.botTokenFile'), fetch: options.fetch})
  if (options.polling) {
    await api.deleteWebhook()
    return {mode: 'polling', url: null, secret_created: false, configured_mode: config.mode}
  }
  const url = options.url ?? ''
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`)
  }
  if (parsed.protocol !== 'https:') throw new UsageError('Telegram delivers webhooks only to https:// URLs', {hint: 'put a TLS reverse proxy in front of the gateway and pass its public URL'})
  if (!config.webhookSecretFile) throw new UsageError('channels.telegram.webhookSecretFile is not set in gateway.json', {hint: 'set it to a root-only path; setup creates the secret'})
  const created = createFileExclusive(config.webhookSecretFile, `${randomBytes(32).toString('base64url')}\n`, 0o600)
  const secret = readSecretFile(config.webhookSecretFile, 'channels.telegram.webhookSecretFile')
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw new OsmodaError('VALIDATION_FAILED', 'the webhook secret may hold only A-Z, a-z, 0-9, _ and - (at most 256)', {details: ['webhookSecretFile: Telegram secret_token charset']})
  await api.setWebhook({url: parsed.toString(), secretToken: secret})
  return {mode: 'webhook', url: parsed.toString(), secret_created: created, configured_mode: config.mode}
}

/** The bot's webhook state as Telegram sees it, and the local config. */
export async function telegramStatus(config: TelegramConfig, options: {fetch?: FetchLike} = {}): Promise<TelegramStatusResult> {
  const api = createTelegramApi({baseUrl: config.apiBaseUrl, botToken: readSecretFile(config.botTokenFile, 'channels.telegram.botTokenFile'), fetch: options.fetch})
  const info = await api.getWebhookInfo()
  return {
    enabled: config.enable,
    configured_mode: config.mode,
    webhook_url: info.url || null,
    pending_update_count: info.pending_update_count ?? 0,
    last_error_message: info.last_error_message ?? null,
    allowed_users: config.allowedUserIds.length,
    operator_users: config.operatorUserIds.length,
  }
}

/** The WhatsApp channel's configuration and whether its secret files are readable. */
export function whatsappStatus(config: WhatsappConfig): WhatsappStatusResult {
  const readable = (file: string | undefined) => {
    try {
      return file !== undefined && readFileSync(file, 'utf8').trim() !== ''
    } catch {
      return false
    }
  }
  return {
    enabled: config.enable,
    phone_number_id: config.phoneNumberId ?? null,
    graph_api: `${config.graphApiBaseUrl.replace(/\/+$/, '')}/${config.graphApiVersion}`,
    secrets: {access_token: readable(config.accessTokenFile), app_secret: readable(config.appSecretFile), verify_token: readable(config.verifyTokenFile)},
    allowed_numbers: config.allowedNumbers.length,
    operator_numbers: config.operatorNumbers.length,
    webhook_path: '/whatsapp/webhook',
  }
}
