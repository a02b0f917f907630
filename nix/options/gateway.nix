# services.osmoda.gateway (SPEC §2.10 config keys, §6 module-only keys) and remoteAccess. The gateway
# is not built yet: see the note in pending.nix.
{ lib, h }:

let
  inherit (lib) types;
  inherit (h) mk mkNull statePath absPath;
  pos = types.ints.positive;
  secretFile = description: mkNull absPath "${description}: a file handed over with LoadCredential, never copied into the store.";
in
{
  gateway = {
    enable = mk types.bool true "Run osmoda-gateway: agent runtimes, chat, sessions, event stream, channels (pending: the daemon is not built yet).";
    openFirewall = mk types.bool false "Open port in the firewall (only useful with a non-loopback listenAddress). Module only.";
    listenAddress = mk types.str "127.0.0.1" "Address of the HTTP+WS listener. Keep loopback unless a reverse proxy with TLS sits in front.";
    port = mk types.port 18789 "Port of the HTTP+WS listener.";
    defaultRuntime = mk (types.enum [ "claude-code" "openclaw" ]) "claude-code" "Runtime of the seeded agents. Module only (rendered into agentsSeed).";
    models = {
      osmoda = mk types.str "claude-opus-4-6" "Model of the seeded `osmoda` agent. Module only.";
      mobile = mk types.str "claude-sonnet-4-6" "Model of the seeded `mobile` agent. Module only.";
    };
    agentsFile = mk statePath "<state>/gateway/agents.json" "The agents file.";
    agentsSeed = mkNull types.attrs "agents.json seed, applied only when the file is absent (null: the two default agents built from defaultRuntime and models).";
    agentsMutable = mk types.bool true "false: agents.json is read-only (config writes answer 409).";
    sessionsFile = mk statePath "<state>/gateway/sessions.json" "The sessions file.";
    sessionScope = mk (types.enum [ "agent" "channel_user" ]) "agent" "agent: one conversation per agent across channels; channel_user: one per channel user.";
    sessionTtlDays = mk pos 30 "Idle sessions are dropped after this.";
    chatWatchdogMs = mk pos 900000 "A run silent this long is stopped.";
    firstSignalTimeoutMs = mk pos 600000 "A run with no first output this long is stopped.";
    chatHardCapMs = mk pos 28800000 "Longest run.";
    wedgeAfterMs = mk pos 300000 "An agent silent this long counts as wedged.";
    wedgeCheckSecs = mk pos 15 "Wedge check interval.";
    heartbeatIntervalMs = mk pos 30000 "Run heartbeat interval.";
    autoRestart = {
      delaysSecs = mk (types.listOf types.ints.unsigned) [ 0 300 600 1800 ] "Delays of the automatic restarts of a wedged agent.";
      probeTimeoutSecs = mk pos 60 "Deadline of the probe after a restart.";
      stableSecs = mk pos 600 "Healthy time that resets the restart ladder.";
    };
    staleSupersedeMs = mk pos 360000 "A queued request older than this is superseded.";
    historyLimit = mk pos 200 "Messages returned by chat history.";
    eventRetention = {
      days = mk pos 7 "Event stream rows kept this long …";
      rows = mk pos 100000 "… and at most this many.";
      heartbeatHours = mk pos 24 "Heartbeat rows kept this long.";
    };
    sse = {
      keepaliveSecs = mk pos 15 "SSE keep-alive interval.";
      maxSecs = mk pos 1800 "Longest SSE connection.";
    };
    runtimes = {
      claudeCodePath = mk types.str "claude" "Claude Code CLI.";
      openclawPath = mk types.str "openclaw" "openclaw CLI.";
      runAs = mk types.str "osmoda-agent" "User runtimes run as.";
      runMemoryMax = mkNull types.str "MemoryMax of one run (systemd-run --scope), e.g. \"2G\".";
      runTasksMax = mkNull pos "TasksMax of one run.";
    };
    teachInjection = mk types.bool true "Prepend teachd knowledge to each run's system prompt.";
    credstoreKeyFile = mk absPath "/etc/osmoda/secrets/gateway.key" "Key that encrypts stored credentials, handed over with LoadCredential (not written to gateway.json).";
    allowPrivateBaseUrls = mk types.bool false "Let credential base_urls be http or private addresses (tests, LAN proxies).";
    channels = {
      telegram = {
        enable = mk types.bool false "Serve the Telegram channel.";
        mode = mk (types.enum [ "polling" "webhook" ]) "polling" "How updates arrive.";
        botTokenFile = secretFile "Telegram bot token";
        webhookSecretFile = secretFile "Telegram webhook secret";
        apiBaseUrl = mk types.str "https://api.telegram.org" "Bot API base URL.";
        allowedUserIds = mk (types.listOf types.int) [ ] "Telegram users who may chat.";
        operatorUserIds = mk (types.listOf types.int) [ ] "Telegram users who may decide approvals.";
        pollTimeoutSecs = mk (types.ints.between 0 50) 30 "Long-poll timeout of getUpdates (polling mode).";
      };
      whatsapp = {
        enable = mk types.bool false "Serve the WhatsApp Cloud API channel.";
        phoneNumberId = mkNull types.str "WhatsApp phone number id.";
        accessTokenFile = secretFile "WhatsApp access token";
        appSecretFile = secretFile "WhatsApp app secret";
        verifyTokenFile = secretFile "WhatsApp webhook verify token";
        graphApiBaseUrl = mk types.str "https://graph.facebook.com" "Graph API base URL.";
        graphApiVersion = mk types.str "v21.0" "Graph API version.";
        allowedNumbers = mk (types.listOf types.str) [ ] "Numbers that may chat.";
        operatorNumbers = mk (types.listOf types.str) [ ] "Numbers that may decide approvals.";
      };
    };
  };

  remoteAccess = {
    cloudflare = {
      enable = mk types.bool false "Expose the gateway through a Cloudflare tunnel (osmoda-cloudflared).";
      tunnelId = mkNull types.str "Named tunnel id (null: a quick tunnel to the gateway).";
      credentialFile = mkNull absPath "Tunnel credentials file.";
    };
    tailscale = {
      enable = mk types.bool false "Join a tailnet (services.tailscale) and authenticate once with authKeyFile.";
      authKeyFile = mkNull absPath "Tailscale auth key file.";
    };
  };
}
