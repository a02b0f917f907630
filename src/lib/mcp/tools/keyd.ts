import {keydApi} from '../../../daemons/keyd/api.js'
import {defineTool, type AnyTool} from '../define-tool.js'

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const
const SIGNS = {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false} as const
const APPROVAL = 'On APPROVAL_REQUIRED ask the operator to approve, then repeat the identical call with approval_id. POLICY_DENIED names the rule and reason: do not retry it.'

/** wallet_create: a new key held by keyd (keyd POST /wallet/create). */
export const walletCreate = defineTool({
  name: 'wallet_create',
  title: 'Create a wallet',
  description:
    'Creates an Ethereum (secp256k1, EIP-55 address) or Solana (Ed25519, base58 address) wallet whose private key is generated and ' +
    'kept encrypted inside keyd: you only ever see the id and address. Labels are unique. Fails with KEYSTORE_LOCKED when keyd has no key-encryption key.',
  toolset: 'keyd',
  route: keydApi.walletCreate,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (w) => `created ${w.chain} wallet ${w.id} "${w.label}" at ${w.address}`,
  run: (clients, args) => clients.keyd.walletCreate(args),
})

/** wallet_list: every wallet (keyd GET /wallet/list). */
export const walletList = defineTool({
  name: 'wallet_list',
  title: 'List wallets',
  description: 'Lists the wallets keyd holds (id, chain, address, label, created_at), optionally only one chain. Keys are never shown. It changes nothing.',
  toolset: 'keyd',
  route: keydApi.walletList,
  annotations: READ_ONLY,
  summarize: (r) => `${r.wallets.length} wallets${r.wallets.length ? `: ${r.wallets.map((w) => `${w.label} (${w.chain} ${w.address})`).join(', ')}`.slice(0, 500) : ''}`,
  run: (clients, args) => clients.keyd.walletList(args),
})

/** wallet_sign: a message signature under the wallet policy (keyd POST /wallet/sign). */
export const walletSign = defineTool({
  name: 'wallet_sign',
  title: 'Sign a message',
  description:
    'Signs payload bytes (0x-hex, ≤ 64 KiB) or EIP-712 typed_data with a wallet under the wallet policy. Ethereum: eip191 (personal_sign, ' +
    'default for payload) and eip712 (default for typed_data {types, primaryType, domain, message}) return a 65-byte r‖s‖v signature; raw_digest signs a 32-byte digest and can authorise transactions, so it normally needs approval. Solana: ' +
    `solana_offchain (default: off-chain message envelope over UTF-8 text) or raw_digest (Ed25519 over the bytes); base58 signature. ${APPROVAL}`,
  toolset: 'keyd',
  route: keydApi.walletSign,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (r) => `${r.scheme} signature by ${r.wallet_id} over digest ${r.digest}: ${r.signature}`,
  run: (clients, args) => clients.keyd.walletSign(args),
})

const txLine = (r: {tx_type: string; value: string; asset: string; to: string; chain_id: number | null; tx_hash: string; estimated_fee: string; fee_unit: string}) =>
  `signed ${r.tx_type} of ${r.value} base units of ${r.asset} to ${r.to} on chain ${r.chain_id ?? '?'}: tx ${r.tx_hash}, fee ≤ ${r.estimated_fee} ${r.fee_unit}; not broadcast`

/** wallet_send: amount in whole units → signed transaction (keyd POST /wallet/send). */
export const walletSend = defineTool({
  name: 'wallet_send',
  title: 'Sign a transfer',
  description:
    'Builds and signs a transfer of `amount` in whole units (e.g. "0.05" ETH or "1.5" SOL, or ERC-20 token units with chain_params.decimals and `token`) ' +
    'under the wallet policy (per-transaction and rolling-window limits, destination allowlists). keyd is offline: Ethereum needs ' +
    'chain_params.chain_id and nonce (EIP-1559, hex result), Solana chain_params.recent_blockhash (base64 result). The transaction is NOT broadcast. ' +
    `SPL tokens are not supported yet. ${APPROVAL}`,
  toolset: 'keyd',
  route: keydApi.walletSend,
  annotations: SIGNS,
  summarize: txLine,
  run: (clients, args) => clients.keyd.walletSend(args),
})

/** wallet_build_tx: a transaction in base units (keyd POST /wallet/build-tx). */
export const walletBuildTx = defineTool({
  name: 'wallet_build_tx',
  title: 'Build and sign a transaction',
  description:
    'Builds and signs an EIP-1559 transaction in base units: transfer (native value to `to`), token_transfer (ERC-20 transfer(to, ' +
    'value) sent to the `token` contract) or contract_call (`data` to `to`, matched by selector in the policy). Requires ' +
    'chain_params.chain_id and nonce; fees default per chain. Solana wallets: native transfer only, with chain_params.recent_blockhash. ' +
    `Returns the raw signed transaction and hash; nothing is broadcast. ${APPROVAL}`,
  toolset: 'keyd',
  route: keydApi.walletBuildTx,
  annotations: SIGNS,
  summarize: txLine,
  run: (clients, args) => clients.keyd.walletBuildTx(args),
})

/** wallet_delete: destroy a wallet and its key (keyd POST /wallet/delete). */
export const walletDelete = defineTool({
  name: 'wallet_delete',
  title: 'Delete a wallet',
  description: `Deletes a wallet and irreversibly destroys its private key (the key file is overwritten and removed); funds left at its address become unreachable. Always needs the operator's approval. ${APPROVAL}`,
  toolset: 'keyd',
  route: keydApi.walletDelete,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false},
  summarize: (r) => `deleted wallet ${r.deleted} and destroyed its key`,
  run: (clients, args) => clients.keyd.walletDelete(args),
})

/** wallet_receipt: what keyd decided and signed (keyd GET /wallet/receipts). */
export const walletReceipt = defineTool({
  name: 'wallet_receipt',
  title: 'Wallet receipts',
  description:
    'Receipts of wallet operations, newest first: action, decision (allowed / denied / approval_required), the policy rules that ' +
    'decided, chain, destination, asset, value, transaction hash or digest, and the ledger seq. Filter by wallet or action; page with cursor. It changes nothing.',
  toolset: 'keyd',
  route: keydApi.walletReceipts,
  annotations: READ_ONLY,
  summarize: (r) => `${r.receipts.length} receipts${r.receipts.length ? `: ${r.receipts.slice(0, 5).map((x) => `${x.action} ${x.decision}`).join(', ')}` : ''}${r.next_cursor ? '; more with cursor' : ''}`,
  run: (clients, args) => clients.keyd.walletReceipts(args),
})

/** keyd's tools in SPEC §3 order. */
export const KEYD_TOOLS: readonly AnyTool[] = [walletCreate, walletList, walletSign, walletSend, walletDelete, walletReceipt, walletBuildTx]
