/* global document, window, sessionStorage, WebSocket, fetch, location */
// The gateway's chat page: no framework, no build step. It talks to the same API as the CLI:
// GET /config/agents, GET /config/drivers, PATCH /config/agents/{id}, GET /chat-history and
// WS /chat (subprotocols osmoda.v1 + osmoda.bearer.<token>, since browsers cannot set headers).
import {addAgent, addDivider, addError, addEvent, addNotice, addTool, addUser, scrollDown} from './chat-log.js'
import {renderMarkdown} from './markdown.js'

const TOKEN_KEY = 'osmoda.operatorToken'
const AGENT_KEY = 'osmoda.agent'
const $ = (id) => document.getElementById(id)

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  agents: [],
  bindings: [],
  drivers: [],
  agentId: null,
  ws: null,
  retryMs: 500,
  pingTimer: null,
  /** request_id → {messages: Map(message_id → {el, text}), tools: [{tool, el}], replied} */
  requests: new Map(),
  /** Requests still running, newest last (the Stop button stops the newest). */
  running: [],
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function api(path, init = {}) {
  const headers = {authorization: `Bearer ${state.token}`}
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {...init, headers})
  const body = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`)
  return body
}

// ---- login ---------------------------------------------------------------------------------

function showLogin(message = '') {
  $('app').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
  $('token').focus()
}

async function login(event) {
  event.preventDefault()
  state.token = $('token').value.trim()
  try {
    await api('/config/agents')
  } catch (error) {
    state.token = null
    $('login-error').textContent = error.status === 401 ? 'That token was refused.' : `The gateway answered: ${error.message}`
    return
  }
  sessionStorage.setItem(TOKEN_KEY, state.token)
  $('token').value = ''
  await start()
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY)
  state.token = null
  closeSocket()
  showLogin()
}

// ---- agents, runtimes, models ------------------------------------------------------------------

async function loadConfig() {
  const [agents, drivers] = await Promise.all([api('/config/agents'), api('/config/drivers').catch(() => ({drivers: []}))])
  state.agents = agents.agents ?? []
  state.bindings = agents.bindings ?? []
  state.drivers = drivers.drivers ?? []
  const remembered = sessionStorage.getItem(AGENT_KEY)
  const bound = state.bindings.find((b) => b.channel === 'web')?.agent_id
  const pick = [remembered, bound, state.agents.find((a) => a.enabled && (a.channels ?? []).includes('web'))?.id, state.agents[0]?.id]
  state.agentId = pick.find((id) => id && state.agents.some((a) => a.id === id)) ?? null
  renderSelectors()
}

function option(value, label, selected) {
  const el = document.createElement('option')
  el.value = value
  el.textContent = label
  el.selected = selected
  return el
}

function renderSelectors() {
  const agent = currentAgent()
  $('agent').replaceChildren(...state.agents.map((a) => option(a.id, `${a.display_name || a.id}${a.enabled ? '' : ' (disabled)'}`, a.id === state.agentId)))
  const runtimes = state.drivers.length > 0 ? state.drivers : agent ? [{name: agent.runtime, display_name: agent.runtime, available: true, default_models: []}] : []
  $('runtime').replaceChildren(...runtimes.map((d) => option(d.name, `${d.display_name || d.name}${d.available === false ? ' (not installed)' : ''}`, d.name === agent?.runtime)))
  const driver = state.drivers.find((d) => d.name === agent?.runtime)
  const models = [...new Set([...(driver?.default_models ?? []), ...(agent?.model ? [agent.model] : [])])]
  $('model').replaceChildren(...models.map((m) => option(m, m, m === agent?.model)))
}

function currentAgent() {
  return state.agents.find((a) => a.id === state.agentId) ?? null
}

async function patchAgent(change) {
  const agent = currentAgent()
  if (!agent) return
  try {
    await api(`/config/agents/${encodeURIComponent(agent.id)}`, {method: 'PATCH', body: JSON.stringify(change)})
    await loadConfig()
    addNotice(`${agent.id}: ${Object.entries(change).map(([k, v]) => `${k} → ${v}`).join(', ')}`)
  } catch (error) {
    addError(error.code, error.message)
    renderSelectors()
  }
}

async function loadHistory() {
  $('log').replaceChildren()
  if (!state.agentId) return addNotice('No agent is configured yet.')
  let entries = []
  try {
    const page = await api(`/chat-history?session_key=${encodeURIComponent(`agent:${state.agentId}`)}&limit=200`)
    entries = page.entries ?? []
  } catch (error) {
    if (error.status === 401) return logout()
    if (error.status !== 404) addError(error.code, error.message)
  }
  for (const entry of entries) {
    if (entry.kind === 'user') addUser(entry.text ?? '')
    else if (entry.kind === 'agent') addAgent(entry.text ?? '')
    else if (entry.kind === 'tool') addTool(entry.tool ?? 'tool', entry.target, entry.ok)
    else if (entry.kind === 'error') addError('ERROR', entry.text ?? '')
    else addNotice(entry.text ?? '')
  }
  if (entries.length > 0) addDivider('history above · live below')
}

// ---- the socket --------------------------------------------------------------------------------

function setConn(stateName) {
  $('conn').dataset.state = stateName
  $('conn').textContent = stateName
}

function connect() {
  closeSocket()
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`
  const ws = new WebSocket(url, ['osmoda.v1', `osmoda.bearer.${state.token}`])
  state.ws = ws
  setConn('connecting')
  ws.onopen = () => {
    state.retryMs = 500
    setConn('open')
    state.pingTimer = window.setInterval(() => send({type: 'ping'}), 25_000)
  }
  ws.onmessage = (message) => {
    let frame
    try {
      frame = JSON.parse(message.data)
    } catch {
      return
    }
    onFrame(frame)
  }
  ws.onclose = () => {
    window.clearInterval(state.pingTimer)
    if (state.ws !== ws) return
    setConn('closed')
    // A refused token closes the socket before it opens; the next API call tells us which.
    window.setTimeout(() => state.token && state.ws === ws && reconnect(), state.retryMs)
    state.retryMs = Math.min(state.retryMs * 2, 10_000)
  }
}

async function reconnect() {
  try {
    await api('/config/agents')
  } catch (error) {
    if (error.status === 401) return logout()
  }
  connect()
}

function closeSocket() {
  const ws = state.ws
  state.ws = null
  window.clearInterval(state.pingTimer)
  if (ws) ws.close()
}

function send(frame) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false
  state.ws.send(JSON.stringify(frame))
  return true
}

function request(id) {
  let r = state.requests.get(id)
  if (!r) {
    r = {messages: new Map(), tools: [], replied: false}
    state.requests.set(id, r)
  }
  return r
}

function finish(id) {
  state.running = state.running.filter((r) => r !== id)
  $('stop').hidden = state.running.length === 0
}

function onFrame(frame) {
  switch (frame.type) {
    case 'accepted':
      request(frame.request_id)
      state.running.push(frame.request_id)
      $('stop').hidden = false
      break
    case 'text': {
      const r = request(frame.request_id)
      let message = r.messages.get(frame.message_id)
      if (!message) {
        message = {el: addAgent(''), text: ''}
        r.messages.set(frame.message_id, message)
      }
      message.text += frame.delta
      message.el.innerHTML = renderMarkdown(message.text)
      r.replied = true
      scrollDown()
      break
    }
    case 'tool_use':
      request(frame.request_id).tools.push({tool: frame.tool, el: addTool(frame.tool, frame.target)})
      break
    case 'tool_result': {
      const open = request(frame.request_id).tools.find((t) => t.tool === frame.tool && t.el.dataset.ok === undefined)
      if (open) open.el.dataset.ok = String(frame.ok)
      break
    }
    case 'done': {
      const r = request(frame.request_id)
      if (!r.replied && frame.reply) addAgent(frame.reply)
      finish(frame.request_id)
      break
    }
    case 'error':
      addError(frame.code, frame.message)
      finish(frame.request_id)
      break
    case 'event':
      addEvent(frame.event)
      break
    default:
      break
  }
}

function submit(event) {
  event.preventDefault()
  const text = $('input').value.trim()
  if (!text) return
  if (!send({type: 'chat', text, agent_id: state.agentId ?? undefined})) return addError('NOT_CONNECTED', 'the chat socket is not open yet; try again in a moment')
  addUser(text)
  $('input').value = ''
}

// ---- first credential --------------------------------------------------------------------------

/** True when a credential exists; otherwise shows the credential form and resolves once one is saved. */
async function ensureCredential() {
  let list
  try {
    list = await api('/config/credentials')
  } catch (error) {
    // A locked store or an older gateway: let the chat itself report the problem.
    if (error.status === 401) throw error
    return
  }
  if ((list.credentials ?? []).length > 0) return
  $('credential').hidden = false
  $('credential-secret').focus()
  await new Promise((resolve) => {
    $('credential-form').onsubmit = async (event) => {
      event.preventDefault()
      const secret = $('credential-secret').value.trim()
      const provider = $('credential-provider').value
      // Anthropic OAuth tokens from `claude setup-token` start with sk-ant-oat.
      const type = secret.startsWith('sk-ant-oat') ? 'oauth' : 'api_key'
      try {
        await api('/config/credentials', {method: 'POST', body: JSON.stringify({label: 'web', provider, type, secret})})
      } catch (error) {
        $('credential-error').textContent = `${error.code}: ${error.message}`
        return
      }
      $('credential-secret').value = ''
      $('credential').hidden = true
      resolve()
    }
  })
}

// ---- start -------------------------------------------------------------------------------------

async function start() {
  $('login').hidden = true
  try {
    await ensureCredential()
  } catch (error) {
    if (error.status === 401) return logout()
  }
  $('app').hidden = false
  try {
    await loadConfig()
  } catch (error) {
    if (error.status === 401) return logout()
    addError(error.code, error.message)
  }
  await loadHistory()
  connect()
  $('input').focus()
}

function wire() {
  $('login-form').addEventListener('submit', login)
  $('logout').addEventListener('click', logout)
  $('composer').addEventListener('submit', submit)
  $('input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) submit(event)
  })
  $('stop').addEventListener('click', () => {
    const id = state.running[state.running.length - 1]
    if (id) send({type: 'stop', request_id: id})
  })
  $('agent').addEventListener('change', async () => {
    state.agentId = $('agent').value
    sessionStorage.setItem(AGENT_KEY, state.agentId)
    renderSelectors()
    await loadHistory()
  })
  $('runtime').addEventListener('change', () => patchAgent({runtime: $('runtime').value}))
  $('model').addEventListener('change', () => patchAgent({model: $('model').value}))
  if (state.token) void start()
  else showLogin()
}

wire()
