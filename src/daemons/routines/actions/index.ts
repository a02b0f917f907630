import {OsmodaError} from '../../../lib/errors.js'
import type {Action} from '../api.js'
import {healthCheck, logScan, memoryMaintenance, networkWatch, serviceMonitor} from './checks.js'
import type {ActionContext, ActionOutcome} from './context.js'
import {generationCheck, runCommand, type HostDeps} from './host.js'
import {runWebhook} from './webhook.js'

/** Runs one action to completion (the caller enforces the deadline through ctx.signal). */
export async function runAction(action: Action, ctx: ActionContext, host: HostDeps): Promise<ActionOutcome> {
  switch (action.type) {
    case 'health_check':
      return healthCheck(action, ctx)
    case 'service_monitor':
      return serviceMonitor(action, ctx)
    case 'log_scan':
      return logScan(action, ctx)
    case 'memory_maintenance':
      return memoryMaintenance(ctx)
    case 'generation_check':
      return generationCheck(ctx, host)
    case 'network_watch':
      return networkWatch(action, ctx)
    case 'command':
      return runCommand(action, ctx, host)
    case 'webhook':
      return runWebhook(action, ctx)
    case 'agent_prompt':
      throw agentPromptUnavailable()
  }
}

/** agent_prompt needs the gateway, which this build does not have. */
export function agentPromptUnavailable(): OsmodaError {
  return new OsmodaError('FEATURE_DISABLED', 'agent_prompt actions need the gateway daemon, which this build does not include yet', {details: {option: 'gateway'}, hint: 'use a webhook or command action, or wait for the gateway release'})
}
