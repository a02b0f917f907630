import type {ExtensionFactory} from '../extension.js'
import {createWebUi} from './static.js'

/** The chat page at GET / and its assets under /web/ (public: the page holds no data, it asks for the token). */
export const webUiExtension: ExtensionFactory = () => {
  const ui = createWebUi()
  return {
    name: 'web-ui',
    routes: ui.paths.map((path) => ({
      method: 'GET' as const,
      path,
      auth: 'public' as const,
      handle: (_req, _raw, _ctx, res) => (ui.serve(path, res), 'handled' as const),
    })),
  }
}
