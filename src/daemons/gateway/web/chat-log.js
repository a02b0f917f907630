/* global document */
// The chat log's bubbles: user text, agent markdown, tool calls with targets, errors, notices,
// stream events and the history/live divider. Text goes in through textContent or the escaping
// markdown renderer, never as raw HTML.
import {renderMarkdown} from './markdown.js'

const log = () => document.getElementById('log')

/** Keeps the newest bubble in view. */
export function scrollDown() {
  const el = log()
  el.scrollTop = el.scrollHeight
}

function bubble(kind, {text, html} = {}) {
  const el = document.createElement('div')
  el.className = `bubble ${kind}`
  if (html !== undefined) el.innerHTML = html
  else if (text !== undefined) el.textContent = text
  log().append(el)
  scrollDown()
  return el
}

/** A message the user wrote. */
export const addUser = (text) => bubble('user', {text})
/** An assistant message, rendered from markdown. */
export const addAgent = (text) => bubble('agent', {html: renderMarkdown(text)})
/** A grey notice line. */
export const addNotice = (text) => bubble('notice', {text})
/** A failure with its stable code. */
export const addError = (code, message) => bubble('error', {text: `${code}: ${message}`})

/** A tool call: name, target (command, path or URL) and, once known, data-ok. */
export function addTool(tool, target, ok) {
  const el = bubble('tool')
  const name = document.createElement('span')
  name.className = 'tool-name'
  name.textContent = tool
  el.append(name)
  if (target) {
    const where = document.createElement('span')
    where.className = 'tool-target'
    where.textContent = target
    el.append(where)
  }
  if (ok !== undefined && ok !== null) el.dataset.ok = String(ok)
  return el
}

/** The line between replayed history and live turns. */
export function addDivider(label) {
  const el = document.createElement('div')
  el.className = 'divider'
  el.textContent = label
  log().append(el)
  scrollDown()
}

// Turn start, end and failure already show as bubbles; progress and heartbeats are noise here.
const QUIET_EVENTS = new Set(['request.accepted', 'request.progress', 'request.completed', 'request.failed', 'heartbeat.received'])

/** A stream event about this socket's requests or agents. */
export function addEvent(event) {
  if (!event || QUIET_EVENTS.has(event.type)) return
  const who = event.agent_id ? ` · ${event.agent_id}` : ''
  const data = event.data && typeof event.data === 'object' ? Object.entries(event.data).filter(([, v]) => typeof v !== 'object').slice(0, 4).map(([k, v]) => `${k}=${v}`).join(' ') : ''
  bubble('event', {text: `${event.type}${who}${data ? ` · ${data}` : ''}`})
}
