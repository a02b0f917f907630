import {readFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import type {FleetProposal} from '../../daemons/watch/fleet-api.js'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderFleet} from '../../lib/cli/fleet-view.js'
import {UsageError} from '../../lib/errors.js'

export default class FleetPropose extends OsmodaCommand<FleetProposal> {
  static override summary = 'Propose one change to this node and mesh peers: quorum vote, this node first (canary), then the approvers.'
  static override description =
    'Every peer votes (osmoda fleet vote on that node). On quorum this node runs its SafeSwitch first; when it commits, every approving ' +
    'peer runs theirs. Any rollback rolls back every node still in probation. {hostname} in a flake ref is replaced on each node.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --plan "nginx 1.27" --flake "github:acme/infra#{hostname}" --peer 3f2a…e1 --peer 9b0c…44',
    '<%= config.bin %> <%= command.id %> --plan "raise somaxconn" --commands change.json --peer 3f2a…e1 --quorum 100 --timeout 600 --json',
    '<%= config.bin %> <%= command.id %> --plan "release 42" --store-path /nix/store/…-nixos-system-web-24.11 --peer 3f2a…e1 --peer 9b0c…44',
  ]
  static override flags = {
    plan: Flags.string({description: 'What the change does and why (1..500 characters)', required: true}),
    flake: Flags.string({description: 'Build <flake ref>#<host> on every node; {hostname} is replaced per node', exclusive: ['commands', 'store-path']}),
    'store-path': Flags.string({description: 'Switch every node to this built system closure (it must already be in each node\'s store: binary cache or nix copy)', exclusive: ['commands', 'flake']}),
    commands: Flags.string({description: 'JSON file {"apply":[{"command","args"}],"revert":[…]} run on every node', exclusive: ['flake', 'store-path']}),
    peer: Flags.string({description: 'Mesh peer id taking part (repeat, 1..64)', multiple: true, required: true}),
    check: Flags.string({description: 'A health check as JSON every node runs in probation (repeatable)', multiple: true}),
    quorum: Flags.integer({description: 'Percent of participants (this node included) that must approve (1..100, default 51)'}),
    timeout: Flags.integer({description: 'Seconds voting stays open (30..3600, default 300)'}),
  }

  async run(): Promise<FleetProposal> {
    const {flags} = await this.parse(FleetPropose)
    if (!flags.flake && !flags.commands && !flags['store-path']) throw new UsageError('give the change: --flake REF#HOST, --store-path /nix/store/… or --commands FILE')
    const target = flags.flake
      ? {type: 'nixos', source: {flake: flags.flake}}
      : flags['store-path']
        ? {type: 'nixos', source: {store_path: flags['store-path']}}
        : {type: 'commands', ...(parseJson(readText(flags.commands!), '--commands') as object)}
    const proposal = await this.client('watch', watchApi).fleetPropose({
      plan: flags.plan,
      target: target as never,
      peer_ids: flags.peer,
      health_checks: (flags.check ?? []).map((text, i) => parseJson(text, `--check #${i + 1}`)) as never,
      quorum_percent: flags.quorum,
      timeout_secs: flags.timeout,
    })
    this.say(renderFleet(proposal))
    return proposal
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--commands: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}
