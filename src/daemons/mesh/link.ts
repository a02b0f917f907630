/**
 * What mesh's connection manager offers to modules that plug into the daemon (rooms, witnessing):
 * send a JCS application message to an authenticated peer, learn who is connected, and receive
 * messages routed by their `type`. The sender passed to a handler is always the authenticated
 * peer of the session the message arrived on; no message field can claim another sender.
 */
export interface PeerLink {
  /** This node's instance_id (32 lowercase hex). */
  readonly selfId: string
  /** Queues `message` on the peer's session; resolves false when the peer is not connected. */
  send(peerId: string, message: Record<string, unknown>): Promise<boolean>
  /** Ids of peers with a live session right now. */
  connectedPeerIds(): string[]
  /** The pinned keys of a known peer, or undefined for a stranger. */
  peerKeys(peerId: string): {ed25519: Buffer; noiseStatic: Buffer} | undefined
  /** Registers the handler of one application message type (one handler per type). */
  onMessage(type: string, handler: (peerId: string, message: Record<string, unknown>) => void | Promise<void>): void
  /** Called each time a session with a peer is established (also after a reconnect). */
  onPeerConnected(handler: (peerId: string) => void): void
}
