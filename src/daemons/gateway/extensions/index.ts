import {channelsExtension} from '../channels/extension.js'
import type {ExtensionFactory} from '../extension.js'
import {webUiExtension} from '../web/extension.js'

/**
 * The gateway's extensions (channels, web UI), mounted in this order before the built-in routes.
 * A registry: add one line per extension.
 */
export const GATEWAY_EXTENSIONS: readonly ExtensionFactory[] = [
  channelsExtension,
  webUiExtension,
]
