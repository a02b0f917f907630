# Options of keyd, watch, routines and egress: the keys of src/daemons/<name>/config.ts (SPEC §2.2–2.4, §2.9).
{ lib, h }:

let
  inherit (lib) types;
  inherit (h) mk mkNull secs between absPath statePath runPath;
  wei = types.strMatching "[0-9]{1,78}";
in
{
  keyd = {
    enable = mk types.bool false "Run osmoda-keyd: wallets whose keys never leave the daemon, policy-gated offline signing.";
    kekFile = mk absPath "/etc/osmoda/secrets/keyd.kek"
      "32-byte key-encryption key handed to keyd with LoadCredential (keyd reads it from $CREDENTIALS_DIRECTORY; the path is not written to keyd.json). Never inside /var/lib/osmoda (backups).";
    policy = mkNull types.attrs
      "Wallet policy rendered to /etc/osmoda/keyd-policy.json (authoritative when policyMutable = false) and used as policySeed when that is null. Module only.";
    policySeed = mkNull types.attrs "Policy written to keyd/policy.json only when that file is absent (null: the built-in seed).";
    policyMutable = mk types.bool true "false: /etc/osmoda/keyd-policy.json is authoritative and `osmoda wallet policy set` is refused (409 CONFIG_IMMUTABLE).";
    reservationTtlSecs = secs 5 3600 60 "An unconfirmed spend reservation is released after this.";
    solanaFeeDefaults = {
      computeUnitLimit = mk (between 1 1400000) 200000 "Solana compute unit limit used for fee estimates when chain_params omit it.";
      computeUnitPriceMicroLamports = mk types.ints.unsigned 0 "Solana compute unit price used for fee estimates when chain_params omit it.";
    };
    feeDefaults = mkNull (types.attrsOf (types.submodule {
      options = {
        maxFeePerGas = lib.mkOption { type = wei; description = "EIP-1559 max fee per gas in wei (decimal string)."; };
        maxPriorityFeePerGas = lib.mkOption { type = wei; description = "EIP-1559 priority fee in wei (decimal string)."; };
        gasLimitTransfer = mk (between 21000 30000000) 21000 "Gas limit of a plain transfer.";
        gasLimitToken = mk (between 21000 30000000) 65000 "Gas limit of an ERC-20 transfer.";
      };
    })) "EVM fee ceilings per chain id (attribute name = decimal chain id). null: keyd's built-in table (mainnet, OP, Polygon, Base, Arbitrum, Sepolia).";
  };

  watch = {
    enable = mk types.bool true "Run osmoda-watch: SafeSwitch, watchers and fleet deploys.";
    systemProfile = mk absPath "/nix/var/nix/profiles/system" "Profile whose generations are managed.";
    currentSystemLink = mk absPath "/run/current-system" "Link read as \"the running system\".";
    probation = {
      ttlSecs = secs 30 86400 300 "Default probation of a switch (ttl_secs).";
      graceSecs = secs 0 3600 30 "Checks are not counted during this grace period.";
      failureThreshold = mk (between 1 100) 3 "Consecutive failed check rounds that roll a switch back.";
      checkIntervalSecs = secs 1 300 5 "Time between check rounds.";
    };
    buildTimeoutSecs = secs 1 86400 1800 "Deadline of a build.";
    activationTimeoutSecs = secs 1 86400 600 "Deadline of an activation.";
    checkTimeouts = {
      systemd_unit = secs 1 120 10 "Timeout of a systemd_unit health check.";
      tcp_port = secs 1 120 5 "Timeout of a tcp_port health check.";
      http_get = secs 1 120 10 "Timeout of an http_get health check.";
      command = secs 1 120 30 "Timeout of a command health check.";
    };
    watcher = {
      intervalSecs = secs 5 3600 30 "Default interval of a watcher.";
      backoff = {
        initialSecs = secs 0 86400 10 "Wait before the second ladder step.";
        factor = mk (types.addCheck types.number (x: x >= 1 && x <= 10)) 2 "Growth of the wait between ladder steps (1..10).";
        maxSecs = secs 1 86400 600 "Longest wait between ladder steps.";
      };
      restartAttempts = mk (between 1 100) 3 "Restarts tried before the next ladder step.";
      stableSecs = secs 30 86400 300 "Healthy time after which a watcher counts as recovered.";
      breaker = {
        maxActions = mk (between 1 1000) 5 "Actions per window before the circuit breaker opens.";
        windowSecs = secs 1 604800 3600 "Window of the circuit breaker.";
      };
    };
    fleet = {
      quorumPercent = mk (between 1 100) 51 "Default share of yes votes a fleet proposal needs.";
      timeoutSecs = secs 30 3600 300 "Default voting time of a fleet proposal.";
      autoVote = mk (types.enum [ "none" "approve_if_healthy" ]) "none"
        "Fleet proposals from mesh peers: \"approve_if_healthy\" votes yes for flake targets when this node is healthy; commands targets always wait for the local operator.";
    };
  };

  routines = {
    enable = mk types.bool true "Run osmoda-routines: cron, interval, event and webhook automation.";
    routinesFile = mk statePath "<state>/routines/routines.json" "The routines file (humans and Nix edit it; written atomically).";
    installDefaults = mk types.bool true "Add the six default routines when their ids are missing.";
    maxConcurrent = mk (between 1 64) 4 "Routine runs at the same time.";
    historyPerRoutine = mk (between 1 10000) 100 "Runs kept per routine.";
    outputCapBytes = mk (between 256 1048576) 8192 "Output kept per run.";
    commandTimeout = {
      defaultSecs = secs 1 86400 30 "Deadline of a command action unless it sets one.";
      maxSecs = secs 1 86400 600 "Largest deadline of a command action.";
    };
    webhookTimeoutSecs = secs 1 300 15 "Deadline of a webhook action.";
    webhookAllowPrivateCidrs = mk (types.listOf types.str) [ ] "Private/loopback ranges webhook actions may reach (default none).";
  };

  egress = {
    enable = mk types.bool true "Run osmoda-egress, the capability-checked CONNECT proxy that is the only network path of sandboxes.";
    listenAddress = mk types.str "127.0.0.1" "Address of the TCP proxy listener.";
    listenPort = mk types.port 19999 "TCP port of the proxy (token optional there; the sandbox socket always needs one).";
    proxySocket = mk runPath "<run>/egress-proxy.sock" "Unix listener for sandboxes (group osmoda-sandbox).";
    defaultAllow = mk (types.listOf types.str) [ "cache.nixos.org" "channels.nixos.org" "github.com" "api.anthropic.com" ]
      "Hosts reachable without a capability token on the TCP listener: exact names or *.suffix. `osmoda egress allowlist set` overrides it at run time.";
    allowedPorts = mk (types.listOf types.port) [ 443 ] "Ports a tunnel may reach.";
    allowPrivateCidrs = mk (types.listOf types.str) [ ] "Private or special ranges opened on purpose (e.g. a LAN registry); all others are refused.";
    requireSniMatch = mk types.bool true "The TLS ClientHello SNI must equal the CONNECT host.";
    maxTunnels = mk (between 1 100000) 256 "Live tunnels at the same time.";
    idleTimeoutSecs = secs 1 86400 120 "An idle tunnel is closed after this.";
    maxLifetimeSecs = secs 1 604800 3600 "A tunnel is closed after this.";
    connectTimeoutSecs = secs 1 300 10 "Deadline of the upstream connect.";
    dnsTimeoutSecs = secs 1 60 5 "Deadline of the DNS lookup.";
  };
}
