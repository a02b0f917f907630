import type {Handlers} from '../../../lib/rpc/server.js'
import type {servicesApi} from './api.js'
import {readNetworkInfo, type NetworkSources} from './network.js'
import type {ServicesService} from './service.js'

/** Binds the service, journal and network routes; no logic lives here. */
export function servicesHandlers(deps: {services: ServicesService; network: () => Promise<NetworkSources>}): Handlers<typeof servicesApi> {
  return {
    serviceStatus: (input, ctx) => deps.services.status(input, ctx.signal),
    journalLogs: (input, ctx) => deps.services.journal(input, ctx.signal),
    networkInfo: async (input) => readNetworkInfo(input.detail, await deps.network()),
  }
}
