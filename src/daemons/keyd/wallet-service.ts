import {ConflictError, NotFoundError, OsmodaError, PermissionDeniedError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {addressOf, generateSecret} from './chain-keys.js'
import type {KeydGate, KeydGateRequest} from './gate.js'
import type {Keystore} from './keystore.js'
import {evaluatePolicy, scopeKey, type Chain, type PolicyDecision, type PolicyRequest} from './policy.js'
import type {PolicyHolder} from './policy-file.js'
import type {KeydStore, Receipt, WalletRow} from './store.js'

type Ctx = Pick<RequestContext, 'role' | 'actor'>

/** What a wallet service needs; every dependency is injected (tests pass a fake gate and clock). */
export interface KeydDeps {
  store: KeydStore
  keystore: Keystore
  policy: PolicyHolder
  ledger: Ledger
  gate: KeydGate
  log: Logger
  /** Epoch ms; the tests' controllable clock. */
  clock?: () => number
  reservationTtlSecs: () => number
  newId?: (prefix: string) => string
}

/** A policy-checked act: what the policy sees, the gate request and the receipt fields. */
export interface GuardedAct<T> {
  wallet: WalletRow
  request: PolicyRequest
  gate: Omit<KeydGateRequest, 'ctx' | 'hint' | 'approvalId'>
  approvalId: string | null | undefined
  receipt: Pick<Receipt, 'action' | 'chain_id' | 'to' | 'asset' | 'value'>
  /** Produces the signature (plaintext key only inside); its result is returned with ledger data. */
  sign(): T & {tx_hash?: string | null; digest?: string | null}
  /** The success event, given the approval id. */
  event(result: T, approvalId: string | null, ruleIds: string[]): {type: string; payload: Record<string, unknown>}
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Wallet lifecycle, receipts and the check-and-spend path every signature goes through. */
export function createKeydService(deps: KeydDeps) {
  const {store, keystore, policy, ledger} = deps
  const clock = deps.clock ?? Date.now
  const newId = deps.newId ?? createIdGenerator({clock})

  const requireWallet = (id: string): WalletRow => {
    const wallet = store.getWallet(id)
    if (!wallet) throw new NotFoundError(`wallet ${id} does not exist`, {hint: 'list wallets with osmoda wallet list'})
    return wallet
  }

  const receipt = (fields: Partial<Receipt> & Pick<Receipt, 'action' | 'decision'>): Receipt => ({
    id: newId('op'), wallet_id: null, rule_ids: [], chain: null, chain_id: null, to: null, asset: null, value: null, tx_hash: null, digest: null, ledger_seq: null, created_at: iso(clock()), ...fields,
  })

  const usage = (nowMs: number) => (rule: Parameters<typeof store.usage>[0], key: string) => store.usage(rule, key, nowMs)

  const denied = (act: GuardedAct<unknown>, decision: PolicyDecision, ctx: Ctx): never => {
    const reason = decision.reasons.join('; ')
    const event = ledger.append({type: 'wallet.denied', actor: ctx.actor, payload: {wallet_id: act.wallet.id, action: act.request.action, rule_id: decision.deny_rule, reason}})
    store.insertReceipt(receipt({...act.receipt, wallet_id: act.wallet.id, chain: act.wallet.chain, decision: 'denied', rule_ids: decision.rule_ids, ledger_seq: event.seq}))
    throw new PermissionDeniedError('POLICY_DENIED', `wallet policy denies this ${act.request.action}: ${reason}`, {
      details: {rule_id: decision.deny_rule, reason},
      hint: 'check the limits with osmoda wallet policy evaluate, or ask the operator to change the policy',
    })
  }

  /**
   * Gate, then decide and reserve in ONE `BEGIN IMMEDIATE` transaction, then sign outside it: the
   * reservation commits only when a signature exists and is released on any failure.
   */
  const guarded = async <T>(act: GuardedAct<T>, ctx: Ctx): Promise<T & {policy: {decision: 'allowed' | 'approval_required'; rule_ids: string[]}}> => {
    const dry = evaluatePolicy(policy.get().policy, act.request, usage(clock()))
    if (dry.decision === 'denied') denied(act, dry, ctx)
    let approvalId: string | null = null
    try {
      approvalId = await deps.gate.check({...act.gate, ctx, hint: dry.decision === 'approval_required' ? 'required' : 'not_required', approvalId: act.approvalId})
    } catch (error) {
      if (error instanceof OsmodaError && error.code === 'APPROVAL_REQUIRED') {
        const event = ledger.append({type: 'wallet.approval_required', actor: ctx.actor, payload: {wallet_id: act.wallet.id, action: act.request.action, rule_ids: dry.rule_ids, approval_id: (error.details as {approval_id?: string} | undefined)?.approval_id ?? null}})
        store.insertReceipt(receipt({...act.receipt, wallet_id: act.wallet.id, chain: act.wallet.chain, decision: 'approval_required', rule_ids: dry.rule_ids, ledger_seq: event.seq}))
      }
      throw error
    }
    const opId = newId('op')
    const decision = store.db
      .transaction(() => {
        const now = clock()
        const d = evaluatePolicy(policy.get().policy, act.request, usage(now))
        if (d.decision === 'denied') return d
        if (d.decision === 'approval_required' && ctx.role === 'agent' && approvalId === null) return {...d, decision: 'denied' as const, deny_rule: d.rule_ids[0] ?? null, reasons: ['policy changed: approval now required, repeat the request']}
        const expires = now + deps.reservationTtlSecs() * 1000
        for (const rule of policy.get().policy.rules) {
          if (!rule.window || !d.rule_ids.includes(rule.id)) continue
          store.reserve({op_id: opId, rule_id: rule.id, scope_key: scopeKey(rule, act.request), value: act.request.value.toString(), at_ms: now, expires_at_ms: expires})
        }
        return d
      })
      .immediate()
    if (decision.decision === 'denied') denied(act, decision, ctx)
    let result: ReturnType<GuardedAct<T>['sign']>
    try {
      result = act.sign()
    } catch (error) {
      store.releaseReservation(opId)
      throw error
    }
    store.commitReservation(opId)
    const {type, payload} = act.event(result, approvalId, decision.rule_ids)
    const event = ledger.append({type, actor: ctx.actor, payload})
    store.insertReceipt({...receipt({...act.receipt, wallet_id: act.wallet.id, chain: act.wallet.chain, decision: 'allowed', rule_ids: decision.rule_ids, tx_hash: result.tx_hash ?? null, digest: result.digest ?? null, ledger_seq: event.seq}), id: opId})
    return {...result, policy: {decision: decision.decision === 'approval_required' ? 'approval_required' : 'allowed', rule_ids: decision.rule_ids}}
  }

  return {
    requireWallet,
    guarded,
    /** Runs `use` with the wallet's decrypted key (zeroed afterwards). */
    withWalletKey: <T>(wallet: WalletRow, use: (secret: Uint8Array) => T): T => keystore.withKey({wallet_id: wallet.id, chain: wallet.chain, address: wallet.address}, use),
    createWallet(input: {chain: Chain; label: string}, ctx: Ctx): WalletRow {
      keystore.requireUnlocked()
      if (store.labelTaken(input.label)) throw new ConflictError(`a wallet labelled ${JSON.stringify(input.label)} exists`, {code: 'ALREADY_EXISTS', hint: 'choose another label'})
      const id = newId('wal')
      const secret = generateSecret(input.chain)
      let row: WalletRow
      try {
        row = {id, chain: input.chain, address: addressOf(input.chain, secret), label: input.label, created_at: iso(clock())}
        // The key file is durable before the row commits: a crash leaves an orphan file, never a keyless wallet.
        keystore.store({wallet_id: id, chain: row.chain, address: row.address}, secret)
      } finally {
        secret.fill(0)
      }
      try {
        store.insertWallet(row)
      } catch (error) {
        keystore.destroy(id)
        if ((error as {code?: string}).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ConflictError(`a wallet labelled ${JSON.stringify(input.label)} exists`, {code: 'ALREADY_EXISTS'})
        throw error
      }
      const event = ledger.append({type: 'wallet.created', actor: ctx.actor, payload: {wallet_id: id, chain: row.chain, address: row.address}})
      store.insertReceipt(receipt({wallet_id: id, action: 'create', decision: 'allowed', chain: row.chain, ledger_seq: event.seq}))
      return row
    },
    listWallets: (chain?: Chain) => ({wallets: store.listWallets(chain)}),
    async deleteWallet(input: {wallet_id: string; approval_id?: string | null}, ctx: Ctx): Promise<{deleted: string}> {
      const wallet = requireWallet(input.wallet_id)
      await deps.gate.check({operation: 'wallet_delete', path: '/wallet/delete', body: {wallet_id: wallet.id}, ctx, summary: `Delete ${wallet.chain} wallet ${wallet.label} (${wallet.address}) and destroy its key`, approvalId: input.approval_id})
      // Row first: a crash before the file is destroyed leaves an orphan file (reported), never a wallet without a key.
      store.deleteWallet(wallet.id)
      keystore.destroy(wallet.id)
      const event = ledger.append({type: 'wallet.deleted', actor: ctx.actor, payload: {wallet_id: wallet.id}})
      store.insertReceipt(receipt({wallet_id: wallet.id, action: 'delete', decision: 'allowed', chain: wallet.chain, ledger_seq: event.seq}))
      return {deleted: wallet.id}
    },
    receipts: store.listReceipts,
    /** Dry run: the decision and window usage, reserving nothing. */
    evaluate(request: PolicyRequest) {
      const d = evaluatePolicy(policy.get().policy, request, usage(clock()))
      return {decision: d.decision, rule_ids: d.rule_ids, reasons: d.reasons, window_usage: d.window_usage}
    },
    /** Drops reservations whose signing never finished (the 10 s loop). */
    expireReservations: () => store.expireReservations(clock()),
    /**
     * The start-up check: with wallets, a missing KEK or one that opens none of their key files is
     * fatal (KEYSTORE_LOCKED); single unreadable files and orphan key files are problems.
     */
    checkKeystore(): string[] {
      const wallets = store.listWallets()
      const problems: string[] = []
      const ids = new Set(wallets.map((w) => w.id))
      for (const orphan of keystore.listFiles().filter((f) => !ids.has(f))) problems.push(`orphan key file keyd/keys/${orphan}.key has no wallet: not used`)
      if (wallets.length === 0) return problems
      if (!keystore.unlocked) {
        throw new OsmodaError('KEYSTORE_LOCKED', `keystore locked: ${wallets.length} wallet(s) exist but the key-encryption key ${keystore.kekFile} is missing; keyd will not start and will not create a new key`, {
          details: {kek_file: keystore.kekFile, wallet_count: wallets.length},
          hint: `restore the KEK these wallets were created with to ${keystore.kekFile} (or the systemd credential keyd.kek)`,
        })
      }
      const bad: string[] = []
      for (const w of wallets) {
        try {
          keystore.withKey({wallet_id: w.id, chain: w.chain, address: w.address}, () => undefined)
        } catch (error) {
          bad.push(`${w.id}: ${(error as Error).message}`)
        }
      }
      if (bad.length === wallets.length) {
        throw new OsmodaError('KEYSTORE_LOCKED', `keystore locked: the key-encryption key ${keystore.kekFile} opens none of the ${wallets.length} wallet key file(s): wrong KEK, or the key files are damaged; nothing was rewritten`, {
          details: {kek_file: keystore.kekFile, wallet_count: wallets.length},
          hint: `restore the original KEK to ${keystore.kekFile} (or restore keyd/keys from a backup)`,
        })
      }
      return [...problems, ...bad.map((b) => `key file unusable: ${b}`)]
    },
  }
}

/** The keyd service. */
export type KeydService = ReturnType<typeof createKeydService>
