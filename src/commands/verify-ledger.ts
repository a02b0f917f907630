import {Flags} from '@oclif/core'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {OsmodaCommand} from '../lib/cli/command.js'
import {VerificationError} from '../lib/errors.js'
import {auditLedger, readPublicKey, type AuditReport} from '../lib/ledger/audit.js'
import {loadNodePublicKey} from '../lib/identity.js'
import type {ReportedHead, WitnessFinding} from '../lib/ledger/witness-check.js'

type Report = AuditReport & {witnesses?: WitnessFinding[]}

export default class VerifyLedger extends OsmodaCommand<Report> {
  static override summary = 'Verify the hash-chained ledger and signed checkpoints (works with agentd stopped).'
  static override description = `Opens the ledger read-only and checks every row: seqs contiguous from 1, each prev_hash links to
the row before, each hash recomputes. Every break is reported, not only the first. Each --checkpoint is a signed
note kept off-host (\`osmoda ledger checkpoint --out FILE\`): its signature is checked with the node key and its
Merkle root against the rows, which catches a deleted tail or a re-chained table. --witnesses also checks what
mesh peers witnessed: the cosignatures stored beside the checkpoints and the newest head each connected peer holds
for this ledger (mesh GET /witness/heads), each cosignature with the key mesh pinned for that peer, each head's root
against the rows. A head a peer cosigned that the rows no longer produce means a truncated or rewritten ledger.
Exit 0 when intact, 5 on any failure.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --checkpoint ~/checkpoints/ledger-1024.note',
    '<%= config.bin %> <%= command.id %> --db /backup/ledger.db --pubkey /backup/ed25519.pub --checkpoint cp.note --json',
    '<%= config.bin %> <%= command.id %> --witnesses',
  ]
  static override flags = {
    db: Flags.string({description: 'Ledger database (default <state>/ledger.db)'}),
    checkpoint: Flags.string({description: 'Signed checkpoint note to check against (repeatable)', multiple: true}),
    pubkey: Flags.string({description: 'Node Ed25519 public key PEM (default <state>/identity/ed25519.pub)'}),
    from: Flags.integer({description: 'First seq to check', min: 1}),
    to: Flags.integer({description: 'Last seq to check', min: 1}),
    witnesses: Flags.boolean({description: "Also check the heads mesh peers witnessed and the stored cosignatures (asks mesh)"}),
  }

  async run(): Promise<Report> {
    const {flags} = await this.parse(VerifyLedger)
    const checkpointFiles = flags.checkpoint ?? []
    let publicKey = flags.pubkey ? readPublicKey(flags.pubkey) : undefined
    let keyName: string | undefined
    if (!publicKey && checkpointFiles.length && existsSync(join(this.paths.identityDir, 'ed25519.pub'))) {
      const node = loadNodePublicKey(this.paths)
      publicKey = node.verifyKey
      keyName = node.identity.ledger_origin
    }
    const db = flags.db ?? this.paths.ledgerDb
    const report: Report = await auditLedger({db, checkpointFiles, publicKey, keyName, from: flags.from, to: flags.to})
    if (flags.witnesses) {
      report.witnesses = await this.checkWitnesses(db)
      if (report.witnesses.some((w) => w.status === 'failed')) report.ok = false
    }
    if (!report.ok) {
      throw new VerificationError(describeFailure(report), {details: report, hint: 'the ledger was altered or truncated; keep this report and restore from a backup'})
    }
    this.say(`ledger intact: ${report.size} events, head seq ${report.head_seq ?? 0} ${report.head_hash ?? ''}, ${report.checkpoints.length} checkpoint(s) match (${report.duration_ms} ms)`)
    if (report.witnesses) this.say(`witnessed: ${report.witnesses.filter((w) => w.status === 'ok').length} head(s)/cosignature(s) match, ${report.witnesses.filter((w) => w.status === 'unverified').length} unverified`)
    return report
  }

  /** Pinned keys and heads come from mesh; without mesh only what can be checked is, with a warning. */
  private async checkWitnesses(db: string): Promise<WitnessFinding[]> {
    const [{meshApi}, {auditWitnesses}] = await Promise.all([import('../daemons/mesh/api.js'), import('../lib/ledger/witness-check.js')])
    const origin = loadNodePublicKey(this.paths).identity.ledger_origin
    const mesh = this.client('mesh', meshApi)
    const pinned = new Map<string, Buffer>()
    let heads: ReportedHead[] = []
    try {
      for (const p of (await mesh.peers({})).peers) pinned.set(p.id, Buffer.from(p.ed25519_pubkey, 'hex'))
      heads = (await mesh.witnessHeads({})).heads
    } catch (error) {
      this.warn(`mesh did not answer (${error instanceof Error ? error.message : String(error)}): ${pinned.size ? 'no witnessed heads were checked' : 'cosignatures stay unverified and no heads were checked'}`)
    }
    return auditWitnesses(db, {origin, heads, pinnedKey: (id) => pinned.get(id)})
  }
}

function describeFailure(report: Report): string {
  const lines = [`ledger verification FAILED: ${report.bad_count} bad row(s), first bad seq ${report.first_bad_seq ?? '-'}; head seq ${report.head_seq ?? 0} ${report.head_hash ?? ''}`]
  for (const b of report.breaks.slice(0, 20)) lines.push(`  seq ${b.seq}: ${b.reason}${b.detail ? ` (${b.detail})` : ''}`)
  if (report.breaks.length > 20) lines.push(`  … ${report.breaks.length - 20} more`)
  for (const c of report.checkpoints.filter((c) => !c.ok)) lines.push(`  checkpoint ${c.file} (size ${c.size ?? '?'}): ${c.reason}`)
  for (const w of report.witnesses?.filter((w) => w.status === 'failed') ?? []) lines.push(`  ${w.source === 'peer_head' ? 'head witnessed by' : 'cosignature by'} ${w.peer_id ?? w.witness} (size ${w.size}): ${w.reason}${w.detail ? ` (${w.detail})` : ''}`)
  return lines.join('\n')
}
