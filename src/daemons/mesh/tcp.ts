import net from 'node:net'

/** Splits `host:port` (IPv6 in brackets). */
export function splitEndpoint(endpoint: string): {host: string; port: number} {
  const at = endpoint.lastIndexOf(':')
  return {host: endpoint.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(endpoint.slice(at + 1))}
}

/** Opens a TCP connection to `host:port`, failing after `timeoutMs`; later socket errors are swallowed (the session reports closes). */
export function connectTcp(endpoint: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const {host, port} = splitEndpoint(endpoint)
    const socket = net.connect({host, port})
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('connect timed out'))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
