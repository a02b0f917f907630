# services.osmoda (SPEC §6): one osmoda-<name>.service per enabled daemon running
# `osmoda daemon <name>`, each reading /etc/osmoda/<name>.json rendered from its options
# (options/, settings.nix), the accounts of SPEC §1.2 and the shared directories.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.osmoda;
  osmoda = "${cfg.package}/bin/osmoda";
  render = import ./settings.nix { inherit lib; };
  perUnit = import ./units.nix { inherit cfg; };
  daemons = [ "agentd" "keyd" "watch" "routines" "mesh" "mcpd" "teachd" "voice" "egress" "gateway" ];
  # A daemon gets a unit when enabled and built into this release.
  running = builtins.filter (n: cfg.${n}.enable && !(builtins.elem n cfg.pendingDaemons)) daemons;
  enabledPending = builtins.filter (n: cfg.${n}.enable && builtins.elem n cfg.pendingDaemons) daemons;
  settingsFile = name: pkgs.writeText "osmoda-${name}.json" (builtins.toJSON (render.settingsFor name cfg));
  forRunning = f: builtins.listToAttrs (map (n: { name = f.name n; value = f.value n; }) running);
  isLoopback = a: a == "127.0.0.1" || a == "::1" || a == "localhost";

  # What every daemon unit shares (SPEC §6): readiness through systemd-notify (Node has no AF_UNIX
  # datagram sockets), SIGHUP reload, restart back-off, its own 0700 state directory, the shared
  # groups (ledger files may be created by any daemon user), and a reload when its JSON changes.
  daemonService = name:
    let unit = perUnit.${name}; after = (unit.after or [ ]) ++ lib.optional (name != "agentd") "osmoda-agentd.service";
    in {
      inherit (unit) description;
      wantedBy = [ "osmoda.target" ];
      partOf = [ "osmoda.target" ];
      after = [ "osmoda-init.service" ] ++ after;
      wants = after ++ (unit.wants or [ ]);
      requires = [ "osmoda-init.service" ];
      reloadTriggers = [ (settingsFile name) ];
      path = with pkgs; [ bubblewrap util-linux nix systemd iproute2 coreutils ]
        ++ lib.optionals (name == "voice") [ sox espeak-ng ];
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
        SupplementaryGroups = [ "osmoda" "osmoda-daemons" ] ++ (unit.serviceConfig.SupplementaryGroups or [ ]);
      } // builtins.removeAttrs unit.serviceConfig [ "SupplementaryGroups" ];
    };

  systemUser = group: extraGroups: description: { isSystemUser = true; inherit group extraGroups description; };
in
{
  options.services.osmoda = import ./options { inherit lib pkgs; } // {
    pendingDaemons = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ "mcpd" "teachd" "voice" ];
      internal = true;
      description = "Daemons this release does not build yet: their options exist but no unit is installed.";
    };
  };

  config = lib.mkIf cfg.enable {
    warnings = map (n: "services.osmoda.${n}.enable is set but osmoda-${n} is not built in this release; no unit is installed.") enabledPending
      ++ lib.optional (!isLoopback cfg.gateway.listenAddress)
        "services.osmoda.gateway.listenAddress = ${cfg.gateway.listenAddress}: the gateway is meant to bind loopback behind a TLS reverse proxy.";

    assertions = [
      { assertion = cfg.agentd.enable; message = "services.osmoda.agentd.enable = false: every other daemon needs agentd (approvals, ledger API)."; }
      { assertion = cfg.watch.probation.graceSecs < cfg.watch.probation.ttlSecs; message = "services.osmoda.watch.probation.graceSecs must be below ttlSecs."; }
      { assertion = cfg.routines.commandTimeout.defaultSecs <= cfg.routines.commandTimeout.maxSecs; message = "services.osmoda.routines.commandTimeout.defaultSecs must not exceed maxSecs."; }
    ];

    users.groups = { osmoda = { }; osmoda-daemons = { }; osmoda-agent = { }; osmoda-sandbox = { }; };
    users.users = {
      # The agent runtime: reaches the sockets through `osmoda`, never in osmoda-daemons (SPEC §1.2).
      osmoda-agent = systemUser "osmoda-agent" [ "osmoda" ] "osmoda agent runtime";
      # Sandboxes: an escape lands here, with no home, no shell and only the proxy socket's group.
      osmoda-sandbox = systemUser "osmoda-sandbox" [ ] "osmoda sandboxes";
      osmoda-mcp = systemUser "osmoda-sandbox" [ ] "osmoda managed MCP servers";
      osmoda-egress = systemUser "osmoda" [ "osmoda-daemons" "osmoda-sandbox" ] "osmoda egress proxy";
      osmoda-voice = systemUser "osmoda" [ "osmoda-daemons" "audio" ] "osmoda voice";
    };

    environment.systemPackages = [ cfg.package ];
    environment.etc = forRunning { name = n: "osmoda/${n}.json"; value = n: { source = settingsFile n; mode = "0644"; }; }
      // lib.optionalAttrs (cfg.keyd.enable && cfg.keyd.policy != null) {
        "osmoda/keyd-policy.json".text = builtins.toJSON cfg.keyd.policy;
      };

    # bubblewrap needs unprivileged user namespaces (hardened profiles turn them off).
    security.allowUserNamespaces = true;
    security.unprivilegedUsernsClone = true;

    networking.firewall.allowedTCPPorts = lib.optional (cfg.mesh.enable && cfg.mesh.openFirewall) cfg.mesh.listenPort
      ++ lib.optional (cfg.gateway.enable && cfg.gateway.openFirewall) cfg.gateway.port;

    systemd.tmpfiles.rules = [
      "d /run/osmoda 0771 root osmoda-daemons -"
      "d /var/lib/osmoda 0771 root osmoda-daemons -"
      "d /workspace 0750 osmoda-agent osmoda-agent -"
      "d ${cfg.agentd.backup.dir} 0700 root root -"
    ] ++ lib.optional cfg.voice.enable "d /tmp/osmoda-voice 0770 osmoda-voice osmoda -";

    systemd.targets.osmoda = { description = "osmoda daemons"; wantedBy = [ "multi-user.target" ]; };

    systemd.services = forRunning { name = n: "osmoda-${n}"; value = daemonService; } // {
      osmoda-init = {
        description = "osmoda: directories, tokens, keys and node identity";
        before = map (n: "osmoda-${n}.service") running;
        wantedBy = [ "osmoda.target" ];
        partOf = [ "osmoda.target" ];
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; ExecStart = "${osmoda} init"; UMask = "0077"; };
      };
      osmoda-backup = lib.mkIf cfg.agentd.backup.enable {
        description = "osmoda: scheduled backup of the state (agentd POST /backup/create)";
        after = [ "osmoda-agentd.service" ];
        requires = [ "osmoda-agentd.service" ];
        serviceConfig = { Type = "oneshot"; ExecStart = "${osmoda} backup create --note scheduled"; UMask = "0077"; };
      };
      osmoda-cloudflared = lib.mkIf cfg.remoteAccess.cloudflare.enable {
        description = "osmoda: Cloudflare tunnel to the gateway";
        after = [ "network-online.target" "osmoda-gateway.service" ];
        wants = [ "network-online.target" ];
        wantedBy = [ "osmoda.target" ];
        serviceConfig = {
          DynamicUser = true;
          Restart = "on-failure";
          ExecStart = if cfg.remoteAccess.cloudflare.tunnelId == null
            then "${pkgs.cloudflared}/bin/cloudflared tunnel --no-autoupdate --url http://127.0.0.1:${toString cfg.gateway.port}"
            else "${pkgs.cloudflared}/bin/cloudflared tunnel --no-autoupdate --credentials-file \${CREDENTIALS_DIRECTORY}/tunnel run ${cfg.remoteAccess.cloudflare.tunnelId}";
          LoadCredential = lib.optional (cfg.remoteAccess.cloudflare.credentialFile != null) "tunnel:${cfg.remoteAccess.cloudflare.credentialFile}";
        };
      };
      osmoda-tailscale-auth = lib.mkIf (cfg.remoteAccess.tailscale.enable && cfg.remoteAccess.tailscale.authKeyFile != null) {
        description = "osmoda: join the tailnet once";
        after = [ "tailscaled.service" ];
        wants = [ "tailscaled.service" ];
        wantedBy = [ "osmoda.target" ];
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "${pkgs.tailscale}/bin/tailscale up --auth-key=file:${cfg.remoteAccess.tailscale.authKeyFile}";
        };
      };
    };

    services.tailscale.enable = lib.mkIf cfg.remoteAccess.tailscale.enable true;

    systemd.timers.osmoda-backup = lib.mkIf cfg.agentd.backup.enable {
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = cfg.agentd.backup.schedule; Persistent = true; RandomizedDelaySec = "15min"; };
    };
  };
}
