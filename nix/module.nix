# services.osmoda: the daemons of this release as systemd units (SPEC §6). Each daemon reads
# /etc/osmoda/<name>.json written from its options; `osmoda-init` prepares tokens and keys first.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.osmoda;
  osmoda = "${cfg.package}/bin/osmoda";
  agentdSettings = {
    inherit (cfg) logLevel;
    ledger = { inherit (cfg.agentd.ledger) checkpointEveryEvents checkpointEverySecs; };
    backup = { inherit (cfg.agentd.backup) dir retentionDays keepMin timeoutSecs; };
  };
  egressSettings = {
    inherit (cfg) logLevel;
    inherit (cfg.egress) listenPort defaultAllow allowedPorts allowPrivateCidrs;
  };
  watchSettings = {
    inherit (cfg) logLevel;
    fleet = { inherit (cfg.watch.fleet) autoVote; };
  };
  routinesSettings = {
    inherit (cfg) logLevel;
  };
  gatewaySettings = {
    inherit (cfg) logLevel;
    inherit (cfg.gateway) listenAddress port agentsMutable sessionScope chatWatchdogMs firstSignalTimeoutMs chatHardCapMs;
    # No credstoreKeyFile: the key arrives as the systemd credential `credstore-key` (LoadCredential).
    runtimes = { runMemoryMax = cfg.gateway.runtimes.runMemoryMax; };
  } // lib.optionalAttrs (cfg.gateway.agentsSeed != null) { inherit (cfg.gateway) agentsSeed; }
    // lib.optionalAttrs (cfg.gateway.agentsSeed == null) {
      agentsSeed = {
        version = 1;
        agents = [
          { id = "osmoda"; display_name = "osmoda (full access)"; runtime = cfg.gateway.defaultRuntime; model = cfg.gateway.models.osmoda; channels = [ "web" "api" "voice" ]; enabled = true; }
          { id = "mobile"; display_name = "osmoda mobile"; runtime = cfg.gateway.defaultRuntime; model = cfg.gateway.models.mobile; channels = [ "telegram" "whatsapp" ]; enabled = true; }
        ];
        bindings = [
          { channel = "web"; agent_id = "osmoda"; }
          { channel = "api"; agent_id = "osmoda"; }
          { channel = "voice"; agent_id = "osmoda"; }
          { channel = "telegram"; agent_id = "mobile"; }
          { channel = "whatsapp"; agent_id = "mobile"; }
        ];
      };
    };
  keydSettings = {
    inherit (cfg) logLevel;
    inherit (cfg.keyd) policyMutable;
  };

  # One daemon as a notify-type unit with the settings every daemon shares: readiness through
  # systemd-notify (Node has no AF_UNIX datagram sockets), SIGHUP reload, restart back-off, its own
  # 0700 state directory, a small young generation (see DAEMON_NODE_FLAGS). `after` lists the
  # daemons it talks to; `extra` adds or overrides serviceConfig keys (users, hardening).
  daemonService = name: { description, after ? [ ], extra ? { } }: {
    inherit description;
    wantedBy = [ "osmoda.target" ];
    partOf = [ "osmoda.target" ];
    after = [ "osmoda-init.service" ] ++ after;
    wants = after;
    requires = [ "osmoda-init.service" ];
    reloadTriggers = [ config.environment.etc."osmoda/${name}.json".source ];
    path = with pkgs; [ util-linux coreutils systemd ];
    environment.NODE_OPTIONS = "--max-semi-space-size=2";
    serviceConfig = {
      Type = "notify";
      NotifyAccess = "all";
      ExecStart = "${osmoda} daemon ${name}";
      ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
      Restart = "on-failure";
      RestartSec = 2;
      RestartSteps = 5;
      RestartMaxDelaySec = 60;
      TimeoutStopSec = 10;
      UMask = "0077";
      LimitCORE = 0;
      StateDirectory = "osmoda/${name}";
      StateDirectoryMode = "0700";
    } // extra;
  };
in
{
  options.services.osmoda = {
    enable = lib.mkEnableOption "osmoda, the AI-native server platform";
    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.osmoda or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.osmoda";
      description = "The osmoda package.";
    };
    logLevel = lib.mkOption {
      type = lib.types.enum [ "debug" "info" "warn" "error" ];
      default = "info";
      description = "Log level of every daemon (JSON lines on stderr, in the journal).";
    };
    agentd.ledger.checkpointEveryEvents = lib.mkOption {
      type = lib.types.ints.positive;
      default = 256;
      description = "Sign a ledger checkpoint after this many new events.";
    };
    agentd.ledger.checkpointEverySecs = lib.mkOption {
      type = lib.types.ints.positive;
      default = 60;
      description = "Sign a ledger checkpoint at least this often when there are new events.";
    };
    agentd.backup.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run `osmoda backup create` on a schedule (osmoda-backup.timer).";
    };
    agentd.backup.schedule = lib.mkOption {
      type = lib.types.str;
      default = "*-*-* 03:00:00";
      description = "systemd OnCalendar expression of the scheduled backup.";
    };
    agentd.backup.dir = lib.mkOption {
      # A string, not a path: a path literal would be copied into the store by toJSON.
      type = lib.types.strMatching "/.*";
      default = "/var/backups/osmoda";
      description = "Where agentd writes bak_<ULID>.tar.gz archives (mode 0600, directory 0700).";
    };
    agentd.backup.retentionDays = lib.mkOption {
      type = lib.types.ints.unsigned;
      default = 7;
      description = "Delete backups older than this many days …";
    };
    agentd.backup.keepMin = lib.mkOption {
      type = lib.types.ints.unsigned;
      default = 3;
      description = "… but always keep this many of the newest.";
    };
    agentd.backup.timeoutSecs = lib.mkOption {
      type = lib.types.ints.between 1 3600;
      default = 600;
      description = "Deadline of one backup (POST /backup/create answers 504 past it).";
    };
    watch.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run osmoda-watch: SafeSwitch, health-gated system switches that roll back to the exact previous system.";
    };
    watch.fleet.autoVote = lib.mkOption {
      type = lib.types.enum [ "none" "approve_if_healthy" ];
      default = "none";
      description = "Fleet proposals from mesh peers: \"approve_if_healthy\" votes yes for flake targets when this node's health passes; commands targets always wait for the local operator.";
    };
    routines.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run osmoda-routines: cron, interval, event and webhook automation with persisted history (six default routines).";
    };
    keyd.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run osmoda-keyd: wallets whose keys never leave the daemon, policy-gated offline signing.";
    };
    keyd.policyMutable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "false: /etc/osmoda/keyd-policy.json is authoritative and `osmoda wallet policy set` is refused.";
    };
    gateway.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run osmoda-gateway: chat with agent runtimes, sessions, the event stream and channels over HTTP+WS.";
    };
    gateway.listenAddress = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1";
      description = "TCP address of the gateway (loopback; expose it through a tunnel, not a public bind).";
    };
    gateway.port = lib.mkOption {
      type = lib.types.port;
      default = 18789;
      description = "TCP port of the gateway.";
    };
    gateway.openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the gateway port in the firewall (only useful with a non-loopback listenAddress).";
    };
    gateway.defaultRuntime = lib.mkOption {
      type = lib.types.enum [ "claude-code" "openclaw" ];
      default = "claude-code";
      description = "Runtime of the two seeded agent profiles.";
    };
    gateway.models.osmoda = lib.mkOption {
      type = lib.types.str;
      default = "claude-opus-4-6";
      description = "Model of the seeded `osmoda` agent (web, api, voice).";
    };
    gateway.models.mobile = lib.mkOption {
      type = lib.types.str;
      default = "claude-sonnet-4-6";
      description = "Model of the seeded `mobile` agent (Telegram, WhatsApp).";
    };
    gateway.agentsSeed = lib.mkOption {
      type = lib.types.nullOr lib.types.attrs;
      default = null;
      description = "agents.json written when the file is absent (null: the two default profiles).";
    };
    gateway.agentsMutable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "false: agents.json is not changed through the API (409 CONFIG_IMMUTABLE).";
    };
    gateway.sessionScope = lib.mkOption {
      type = lib.types.enum [ "agent" "channel_user" ];
      default = "agent";
      description = "agent: one conversation per agent across channels; channel_user: one per channel user.";
    };
    gateway.chatWatchdogMs = lib.mkOption {
      type = lib.types.ints.positive;
      default = 900000;
      description = "A run with no activity for this long is stopped (CHAT_WATCHDOG).";
    };
    gateway.firstSignalTimeoutMs = lib.mkOption {
      type = lib.types.ints.positive;
      default = 600000;
      description = "A run with no frame and no heartbeat within this long is stopped (FIRST_SIGNAL_TIMEOUT).";
    };
    gateway.chatHardCapMs = lib.mkOption {
      type = lib.types.ints.positive;
      default = 28800000;
      description = "Wall-clock cap of one run (HARD_CAP).";
    };
    gateway.runtimes.runMemoryMax = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      description = "MemoryMax of each run's scope (e.g. \"2G\").";
    };
    gateway.credstoreKeyFile = lib.mkOption {
      type = lib.types.str;
      default = "/etc/osmoda/secrets/gateway.key";
      description = "32-byte key of credentials.json.enc, handed to the unit as a systemd credential; never under /var/lib/osmoda.";
    };
    egress.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run osmoda-egress, the capability-checked CONNECT proxy that is the only network path of sandboxes.";
    };
    egress.listenPort = lib.mkOption {
      type = lib.types.port;
      default = 19999;
      description = "TCP port of the proxy on 127.0.0.1 (token optional there; the sandbox socket always needs one).";
    };
    egress.defaultAllow = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ "cache.nixos.org" "channels.nixos.org" "github.com" "api.anthropic.com" ];
      description = "Hosts reachable without a capability token on the TCP listener: exact names or *.suffix. `osmoda egress allowlist set` overrides it at run time.";
    };
    egress.allowedPorts = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [ 443 ];
      description = "Ports a tunnel may reach.";
    };
    egress.allowPrivateCidrs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [ "10.1.2.0/24" ];
      description = "Private or special ranges opened on purpose (e.g. a LAN registry); all others are refused.";
    };
  };

  config = lib.mkIf cfg.enable {
    users.groups.osmoda = { };
    users.groups.osmoda-daemons = { };
    users.groups.osmoda-agent = { };
    users.users.osmoda-agent = {
      isSystemUser = true;
      group = "osmoda-agent";
      extraGroups = [ "osmoda" ];
      description = "osmoda agent runtime";
    };

    users.groups.osmoda-sandbox = { };
    # The unprivileged user sandboxes run as (SPEC §2.1 "Sandboxes"): an escape lands here. It has no
    # home, no shell and only its own group, through which it reaches egress's proxy socket.
    users.users.osmoda-sandbox = {
      isSystemUser = true;
      group = "osmoda-sandbox";
      description = "osmoda sandboxes";
    };
    users.users.osmoda-egress = lib.mkIf cfg.egress.enable {
      isSystemUser = true;
      # Primary group osmoda: egress.sock is for osmoda clients; the proxy socket is handed to osmoda-sandbox.
      group = "osmoda";
      extraGroups = [ "osmoda-daemons" "osmoda-sandbox" ];
      description = "osmoda egress proxy";
    };

    environment.systemPackages = [ cfg.package ];
    environment.etc."osmoda/egress.json" = lib.mkIf cfg.egress.enable { text = builtins.toJSON egressSettings; };
    environment.etc."osmoda/agentd.json".text = builtins.toJSON agentdSettings;
    environment.etc."osmoda/watch.json" = lib.mkIf cfg.watch.enable { text = builtins.toJSON watchSettings; };
    environment.etc."osmoda/routines.json" = lib.mkIf cfg.routines.enable { text = builtins.toJSON routinesSettings; };
    environment.etc."osmoda/keyd.json" = lib.mkIf cfg.keyd.enable { text = builtins.toJSON keydSettings; };
    environment.etc."osmoda/gateway.json" = lib.mkIf cfg.gateway.enable { text = builtins.toJSON gatewaySettings; };
    networking.firewall.allowedTCPPorts = lib.mkIf (cfg.gateway.enable && cfg.gateway.openFirewall) [ cfg.gateway.port ];
    systemd.tmpfiles.settings."10-osmoda-workspace" = lib.mkIf cfg.gateway.enable { "/workspace".d = { mode = "0750"; user = "osmoda-agent"; group = "osmoda-agent"; }; };

    systemd.tmpfiles.rules = [
      "d /run/osmoda 0771 root osmoda-daemons -"
      "d /var/lib/osmoda 0771 root osmoda-daemons -"
      "d ${cfg.agentd.backup.dir} 0700 root root -"
    ];

    systemd.services.osmoda-backup = lib.mkIf cfg.agentd.backup.enable {
      description = "osmoda: scheduled backup of the state (agentd POST /backup/create)";
      after = [ "osmoda-agentd.service" ];
      requires = [ "osmoda-agentd.service" ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "${osmoda} backup create --note scheduled";
        UMask = "0077";
      };
    };

    systemd.timers.osmoda-backup = lib.mkIf cfg.agentd.backup.enable {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.agentd.backup.schedule;
        Persistent = true;
        RandomizedDelaySec = "15min";
      };
    };

    systemd.targets.osmoda = {
      description = "osmoda daemons";
      wantedBy = [ "multi-user.target" ];
    };

    systemd.services.osmoda-init = {
      description = "osmoda: directories, tokens and node identity";
      before = [ "osmoda-agentd.service" ];
      wantedBy = [ "osmoda.target" ];
      partOf = [ "osmoda.target" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${osmoda} init";
        UMask = "0077";
      };
    };

    systemd.services.osmoda-agentd = daemonService "agentd" {
      description = "osmoda agentd: system facts, ledger API, approvals, exec, files, sandboxes";
      extra = {
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ];
        ProtectClock = true;
        ProtectHostname = true;
        LockPersonality = true;
        RestrictRealtime = true;
      };
    };

    # Root: activations, profile switches and rollbacks change the system.
    systemd.services.osmoda-watch = lib.mkIf cfg.watch.enable (daemonService "watch" {
      description = "osmoda watch: SafeSwitch, health-gated switches with exact rollback";
      after = [ "osmoda-agentd.service" ];
      extra = {
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ];
        LockPersonality = true;
        RestrictRealtime = true;
      };
    });

    # Root: command actions act on the host (in transient units).
    systemd.services.osmoda-routines = lib.mkIf cfg.routines.enable (daemonService "routines" {
      description = "osmoda routines: cron, interval, event and webhook automation";
      after = [ "osmoda-agentd.service" ];
      extra = {
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ];
        LockPersonality = true;
        RestrictRealtime = true;
      };
    });

    # Root (SPEC §2.2) but offline: no network at all, no core dumps (key bytes live in its memory).
    # The KEK is /etc/osmoda/secrets/keyd.kek, created by osmoda-init while no wallet exists.
    systemd.services.osmoda-keyd = lib.mkIf cfg.keyd.enable (daemonService "keyd" {
      description = "osmoda keyd: wallets, policy and offline signing";
      after = [ "osmoda-agentd.service" ];
      extra = {
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ];
        PrivateNetwork = true;
        LimitCORE = 0;
        LockPersonality = true;
        RestrictRealtime = true;
        PrivateTmp = true;
        ProtectHome = true;
      };
    });

    # Root with a bounded capability set (SPEC §6): spawns runtimes as osmoda-agent through setpriv,
    # creates workspaces. Binds loopback unless told otherwise; the credstore key is a credential.
    systemd.services.osmoda-gateway = lib.mkIf cfg.gateway.enable (daemonService "gateway" {
      description = "osmoda gateway: agent runtimes, chat, sessions, event stream (HTTP+WS on ${cfg.gateway.listenAddress}:${toString cfg.gateway.port})";
      after = [ "osmoda-agentd.service" ];
      extra = {
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ];
        ProtectSystem = "strict";
        ReadWritePaths = [ "/var/lib/osmoda" "/workspace" "/run/osmoda" ];
        ProtectHome = true;
        PrivateTmp = true;
        RuntimeDirectory = "osmoda-gateway";
        RuntimeDirectoryMode = "0755";
        CapabilityBoundingSet = [ "CAP_SETUID" "CAP_SETGID" "CAP_KILL" "CAP_CHOWN" "CAP_FOWNER" "CAP_DAC_OVERRIDE" ];
        LoadCredential = [ "credstore-key:${cfg.gateway.credstoreKeyFile}" ];
        LockPersonality = true;
        RestrictRealtime = true;
      };
    });

    systemd.services.osmoda-egress = lib.mkIf cfg.egress.enable (daemonService "egress" {
      description = "osmoda egress: capability-checked CONNECT proxy for sandboxes";
      after = [ "osmoda-agentd.service" ];
      extra = {
        User = "osmoda-egress";
        Group = "osmoda";
        SupplementaryGroups = [ "osmoda-daemons" "osmoda-sandbox" ];
        # The revocation list is read from agentd with the operator token.
        LoadCredential = [ "operator-token:/var/lib/osmoda/tokens/operator" ];
        ProtectSystem = "strict";
        ReadWritePaths = [ "/run/osmoda" "/var/lib/osmoda" ];
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        NoNewPrivileges = true;
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
        CapabilityBoundingSet = "";
      };
    });
  };
}
