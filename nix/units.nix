# Per-daemon unit settings of SPEC §6: user, ordering and the hardening each daemon can live with.
# Why each one is what it is sits beside it; module.nix adds what every unit shares.
{ cfg }:

let
  strict = { ProtectSystem = "strict"; ReadWritePaths = [ "/run/osmoda" "/var/lib/osmoda" ]; };
  common = { LockPersonality = true; RestrictRealtime = true; };
  noCaps = { CapabilityBoundingSet = ""; NoNewPrivileges = true; };
  operatorToken = "operator-token:/var/lib/osmoda/tokens/operator";
  secretCreds = files: map (n: "${n}:${files.${n}}") (builtins.filter (n: files.${n} != null) (builtins.attrNames files));
in
{
  # Root, and deliberately no ProtectSystem/ProtectHome/PrivateTmp (file tools must see the host),
  # no RestrictNamespaces and no NoNewPrivileges: bubblewrap needs user, mount, pid and net
  # namespaces and drops to osmoda-sandbox.
  agentd = {
    description = "osmoda agentd: system facts, ledger API, approvals, exec, files, sandboxes";
    after = [ ];
    serviceConfig = common // { ProtectClock = true; ProtectHostname = true; };
  };

  # Root but offline: no network at all, its KEK only through LoadCredential, and the other
  # daemons' private keys out of sight. ProtectSystem=strict leaves /var/lib/osmoda writable (its
  # state dir and the ledger).
  keyd = {
    description = "osmoda keyd: wallets, policy and offline signing";
    serviceConfig = common // strict // noCaps // {
      PrivateNetwork = true;
      RestrictAddressFamilies = [ "AF_UNIX" ];
      InaccessiblePaths = [ "-/var/lib/osmoda/mesh" "-/var/lib/osmoda/gateway" "-/var/lib/osmoda/identity/ed25519.key" "-/var/lib/osmoda/identity/noise_static.key" ];
      ProtectHome = true;
      PrivateTmp = true;
      PrivateDevices = true;
      LoadCredential = [ "keyd.kek:${cfg.keyd.kekFile}" ];
    };
  };

  # Root without ProtectSystem: nix-env writes profiles; activations run as transient units.
  watch = {
    description = "osmoda watch: SafeSwitch, watchers and fleet deploys";
    serviceConfig = common // { ProtectHome = true; PrivateTmp = true; NoNewPrivileges = true; ProtectClock = true; };
  };

  # Command actions run as transient units, so the daemon itself needs no capabilities.
  routines = {
    description = "osmoda routines: cron, interval, event and webhook automation";
    serviceConfig = common // strict // noCaps // { ProtectHome = "read-only"; PrivateTmp = true; };
  };

  mesh = {
    description = "osmoda mesh: post-quantum encrypted peer network";
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    serviceConfig = common // strict // noCaps // {
      ProtectHome = true;
      PrivateTmp = true;
      PrivateDevices = true;
      RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
    };
  };

  # Spawns sandboxed servers (namespaces, setuid to osmoda-mcp), so no RestrictNamespaces.
  mcpd = {
    description = "osmoda mcpd: managed MCP servers";
    after = [ "osmoda-egress.service" ];
    serviceConfig = common // {
      ProtectSystem = "strict";
      ReadWritePaths = [ "/run/osmoda" "/var/lib/osmoda" "/workspace" ];
      ProtectHome = true;
      PrivateTmp = true;
      CapabilityBoundingSet = [ "CAP_SETUID" "CAP_SETGID" "CAP_KILL" ];
      LoadCredential = builtins.concatLists (map (s: map (env: "${s}-${env}:${cfg.mcpd.servers.${s}.secretFiles.${env}}")
        (builtins.attrNames cfg.mcpd.servers.${s}.secretFiles)) (builtins.attrNames cfg.mcpd.servers));
    };
  };

  teachd = {
    description = "osmoda teachd: observe, learn, teach, generate skills";
    serviceConfig = common // strict // noCaps // {
      ProtectHome = true;
      PrivateTmp = true;
      PrivateNetwork = true;
      SupplementaryGroups = [ "systemd-journal" ];
    };
  };

  voice = {
    description = "osmoda voice: local speech-to-text and text-to-speech";
    serviceConfig = common // strict // noCaps // {
      User = "osmoda-voice";
      Group = "osmoda";
      PrivateNetwork = true;
      RestrictAddressFamilies = [ "AF_UNIX" ];
      DeviceAllow = [ "char-alsa rw" ];
      LoadCredential = [ operatorToken ];
    } // (if cfg.voice.audio.pipewireRuntimeDir == null then { ProtectHome = true; } else { BindPaths = [ cfg.voice.audio.pipewireRuntimeDir ]; });
  };

  # Runs as its own user; reads the revocation list from agentd with the operator token.
  egress = {
    description = "osmoda egress: capability-checked CONNECT proxy for sandboxes";
    serviceConfig = common // strict // noCaps // {
      User = "osmoda-egress";
      Group = "osmoda";
      # The proxy socket is handed to the sandboxes' group.
      SupplementaryGroups = [ "osmoda-sandbox" ];
      ProtectHome = true;
      PrivateTmp = true;
      PrivateDevices = true;
      RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
      LoadCredential = [ operatorToken ];
    };
  };

  # Root with a bounded capability set: it spawns runtimes as osmoda-agent (setuid/setgid) and
  # creates their workspaces (chown). It listens on gateway.listenAddress, loopback by default.
  gateway = {
    description = "osmoda gateway: agent runtimes, chat, sessions, event stream, channels";
    serviceConfig = common // {
      ProtectSystem = "strict";
      ReadWritePaths = [ "/run/osmoda" "/var/lib/osmoda" "/workspace" ];
      ProtectHome = true;
      PrivateTmp = true;
      RuntimeDirectory = "osmoda-gateway";
      RuntimeDirectoryMode = "0755";
      CapabilityBoundingSet = [ "CAP_SETUID" "CAP_SETGID" "CAP_KILL" "CAP_CHOWN" "CAP_FOWNER" "CAP_DAC_OVERRIDE" ];
      LoadCredential = [ "credstore-key:${cfg.gateway.credstoreKeyFile}" ] ++ secretCreds {
        telegram-bot-token = cfg.gateway.channels.telegram.botTokenFile;
        telegram-webhook-secret = cfg.gateway.channels.telegram.webhookSecretFile;
        whatsapp-access-token = cfg.gateway.channels.whatsapp.accessTokenFile;
        whatsapp-app-secret = cfg.gateway.channels.whatsapp.appSecretFile;
        whatsapp-verify-token = cfg.gateway.channels.whatsapp.verifyTokenFile;
      };
    };
  };
}
