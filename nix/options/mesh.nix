# Options of osmoda-mesh (SPEC §2.5): the keys of src/daemons/mesh/config.ts plus openFirewall.
{ lib, h }:

let
  inherit (lib) types;
  inherit (h) mk mkNull absPath;
  pos = types.ints.positive;
  fraction = types.addCheck types.number (x: x >= 0 && x <= 1);
in
{
  enable = mk types.bool false "Run osmoda-mesh, the post-quantum encrypted peer network.";
  openFirewall = mk types.bool false "Open listenPort in the firewall. Module only.";
  listenAddress = mk types.str "127.0.0.1" "Address of the Noise listener; a bind failure fails start.";
  listenPort = mk types.port 18800 "Port of the Noise listener.";
  publicEndpoint = mkNull types.str "host:port written into invites.";
  handshakeTimeoutSecs = mk pos 10 "Deadline of one handshake.";
  maxConcurrentHandshakes = mk pos 32 "Handshakes in flight.";
  perIpPerMinute = mk pos 10 "Accepted connections per IP and minute (token bucket).";
  heartbeatSecs = mk pos 30 "Ping a peer when idle this long.";
  deadAfterSecs = mk pos 90 "Close a silent connection after this.";
  reconnect = {
    initialSecs = mk pos 1 "First reconnect delay.";
    factor = mk types.number 2 "Growth of the reconnect delay.";
    maxSecs = mk pos 300 "Largest reconnect delay.";
    jitter = mk fraction 0.2 "Random share added to each delay.";
    resetAfterSecs = mk pos 60 "A connection up this long resets the back-off.";
  };
  rekeyEverySecs = mk pos 600 "Rekey each direction after this time …";
  rekeyEveryMessages = mk pos 1000000 "… or this many messages.";
  inviteDefaultTtlSecs = mk pos 3600 "Lifetime of an invite unless given.";
  inviteMaxTtlSecs = mk pos 86400 "Longest lifetime of an invite.";
  roomHistoryMax = mk pos 10000 "Messages kept per room.";
  maxMessageBytes = mk pos 4194304 "Largest reassembled message (larger closes the connection).";
  commandAllow = mk (types.listOf (types.submodule {
    options = {
      name = lib.mkOption { type = types.str; description = "Name a peer's command message uses."; };
      command = lib.mkOption { type = absPath; description = "Absolute program run for it."; };
      args = mk (types.listOf types.str) [ ] "Its arguments.";
      timeoutSecs = mk pos 30 "Deadline of one run.";
    };
  })) [ ] "The only command messages a peer may run here, by name.";
  witness = {
    enable = mk types.bool true "Exchange and cosign ledger checkpoints with peers.";
    everySecs = mk pos 300 "How often checkpoints are exchanged.";
  };
}
