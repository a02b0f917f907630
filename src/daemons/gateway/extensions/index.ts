import type {ExtensionFactory} from '../extension.js'

/**
 * The gateway's extensions (channels, web UI), mounted in this order before the built-in routes.
 * A registry: add one line per extension.
 */
export const GATEWAY_EXTENSIONS: readonly ExtensionFactory[] = []
