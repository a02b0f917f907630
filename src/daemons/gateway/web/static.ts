import {readFileSync} from 'node:fs'
import type {ServerResponse} from 'node:http'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The page's files, by URL path. The build copies them beside this module (scripts/copy-web.js). */
export const WEB_ASSETS: Readonly<Record<string, {file: string; type: string}>> = {
  '/': {file: 'index.html', type: 'text/html; charset=utf-8'},
  '/web/app.js': {file: 'app.js', type: 'text/javascript; charset=utf-8'},
  '/web/chat-log.js': {file: 'chat-log.js', type: 'text/javascript; charset=utf-8'},
  '/web/markdown.js': {file: 'markdown.js', type: 'text/javascript; charset=utf-8'},
  '/web/style.css': {file: 'style.css', type: 'text/css; charset=utf-8'},
}

// Scripts and styles only from the gateway itself, no inline code, no framing: a reply that
// slipped past the markdown escaping still could not run.
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
}

/** The static web UI: public, read once at start. */
export interface WebUi {
  /** The URL paths it serves (all GET, public). */
  paths: string[]
  /** Answers `path` and returns true, or returns false when the path is not one of the page's. */
  serve(path: string, res: ServerResponse, method?: string): boolean
}

/** Loads the page from `dir` (default: this module's directory, src/ or dist/). */
export function createWebUi(dir: string = fileURLToPath(new URL('.', import.meta.url))): WebUi {
  const files = new Map<string, {body: Buffer; type: string} | {missing: string}>()
  for (const [path, asset] of Object.entries(WEB_ASSETS)) {
    try {
      files.set(path, {body: readFileSync(join(dir, asset.file)), type: asset.type})
    } catch {
      files.set(path, {missing: join(dir, asset.file)})
    }
  }
  return {
    paths: Object.keys(WEB_ASSETS),
    serve(path, res, method = 'GET') {
      const file = files.get(path)
      if (!file) return false
      if (method !== 'GET' && method !== 'HEAD') {
        const body = JSON.stringify({error: {code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}`}})
        res.writeHead(405, {'content-type': 'application/json', allow: 'GET, HEAD', 'content-length': Buffer.byteLength(body)})
        res.end(body)
        return true
      }
      if ('missing' in file) {
        const body = JSON.stringify({error: {code: 'NOT_FOUND', message: `the web UI file ${file.missing} is missing`, hint: 'npm run build copies the page into dist/'}})
        res.writeHead(404, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
        res.end(body)
        return true
      }
      res.writeHead(200, {...HEADERS, 'content-type': file.type, 'content-length': file.body.length})
      res.end(method === 'HEAD' ? undefined : file.body)
      return true
    },
  }
}
