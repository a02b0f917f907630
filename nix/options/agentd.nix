# services.osmoda.agentd: the keys of src/daemons/agentd/config.ts and hands-config.ts (SPEC §2.1).
{ lib, h }:

let
  inherit (lib) types;
  inherit (h) mk mkNull mkExtend secs between statePath absPath;
  maskedPaths = [
    "/etc/shadow" "/etc/gshadow" "/etc/sudoers" "/etc/sudoers.d" "/etc/ssh/ssh_host_*_key" "/etc/osmoda/secrets"
    "/root" "/home/*/.ssh" "/home/*/.gnupg" "/nix/var/nix/daemon-socket"
    "<state>/tokens" "<state>/identity" "<state>/keyd" "<state>/mesh" "<state>/gateway" "<state>/agentd"
  ];
  writeRoot = types.submodule {
    options = {
      path = lib.mkOption { type = statePath; description = "Directory (absolute or <state>/…) the agent may write below."; };
      approval = mk types.bool false "Writes below this root pass the approval gate.";
    };
  };
in
{
  enable = mk types.bool true "Run osmoda-agentd (system facts, ledger API, approvals, exec, files, sandboxes). Every other daemon needs it.";

  ledger = {
    checkpointEveryEvents = mk (between 1 1000000) 256 "Sign a ledger checkpoint after this many new events.";
    checkpointEverySecs = secs 1 86400 60 "Sign a ledger checkpoint at least this often when there are new events.";
  };

  backup = {
    enable = mk types.bool true "Run `osmoda backup create` on a schedule (osmoda-backup.timer). Module only.";
    schedule = mk types.str "*-*-* 03:00:00" "systemd OnCalendar expression of the scheduled backup. Module only.";
    dir = mk absPath "/var/backups/osmoda" "Where agentd writes bak_<ULID>.tar.gz archives (mode 0600, directory 0700).";
    retentionDays = mk (between 0 3650) 7 "Delete backups older than this many days …";
    keepMin = mk (between 0 1000) 3 "… but always keep this many of the newest.";
    timeoutSecs = secs 1 3600 600 "Deadline of one backup (POST /backup/create answers 504 past it).";
  };

  memory.scanSecs = secs 1 86400 60 "How often the memory files are scanned for hand edits and deletions.";

  approval = {
    ttlSecs = secs 60 86400 600 "A pending approval expires after this.";
    useWindowSecs = secs 10 86400 900 "An approved request must be repeated within this window.";
    sweepSecs = secs 1 3600 30 "How often expired approvals are swept.";
    maxPendingPerAgent = mk (between 1 1000) 20 "Pending approvals one agent may hold.";
    rules = mk (types.attrsOf (types.enum [ "always" "never" "policy" ])) { }
      "Seed rules merged over the SPEC §1.6 defaults, e.g. { shell_exec = \"always\"; }; operator changes persist in agentd/approval-rules.json.";
  };

  exec = {
    defaultTimeoutSecs = secs 1 1800 30 "Default deadline of shell_exec.";
    maxTimeoutSecs = secs 1 1800 120 "Largest deadline without approval.";
    approvedMaxTimeoutSecs = secs 1 86400 1800 "Largest deadline with approval.";
    maxOutputBytes = mk (between 1024 262144) 65536 "Cap of stdout and stderr, each.";
    rateLimit = {
      calls = mk (between 1 100000) 30 "Exec calls an agent may make per window.";
      windowSecs = secs 1 86400 60 "Window of the exec rate limit.";
    };
    maskedPaths = mkExtend statePath maskedPaths "Paths hidden (empty tmpfs/null bind) from host-mode commands.";
    requireSandbox = mk types.bool true "Refuse sandbox-mode exec when bubblewrap is unavailable instead of running unsandboxed.";
  };

  files = {
    readRoots = mkExtend statePath [
      "/etc" "/var/log" "/srv" "/opt" "/home" "/tmp" "/workspace" "/nix/var/nix/profiles"
      "<state>/workspace-*" "<state>/memory" "<state>/skills"
    ] "Directories file_read and directory_list may read below.";
    denyPaths = mkExtend statePath (maskedPaths ++ [
      "/proc" "/sys" "/dev" "/run" "<state>/ledger.db*"
      "<state>/workspace-*/**/auth-profiles.json" "<state>/workspace-*/.claude/.credentials*"
    ]) "Paths no file tool may touch, even below a root.";
    writeRoots = mkExtend writeRoot [
      { path = "/tmp"; approval = false; }
      { path = "/workspace"; approval = false; }
      { path = "/srv"; approval = false; }
      { path = "<state>/workspace-*"; approval = false; }
      { path = "/etc/nixos"; approval = true; }
      { path = "/etc"; approval = true; }
      { path = "/home"; approval = true; }
    ] "Directories file_write may write below ({ path; approval; }).";
    maxReadBytes = mk (between 1 1073741824) 10485760 "Largest file file_read opens.";
    maxWriteBytes = mk (between 1 1000000) 1000000 "Largest content file_write accepts.";
  };

  sandbox = {
    enable = mk types.bool true "Offer sandbox_exec (bubblewrap). This key is also in agentd.json.";
    fsRoots = mk (types.listOf statePath) [ "/srv" "/workspace" "<state>/sandbox" "/tmp/osmoda-sandbox" ]
      "Directories a capability token may grant tier-1 sandboxes.";
    memoryMax = mk (types.strMatching "[0-9]+[KMGT]?") "512M" "MemoryMax of one sandbox run.";
    pidsMax = mk (between 1 100000) 256 "TasksMax of one sandbox run.";
    maxTimeoutSecs = secs 1 86400 600 "Largest deadline of one sandbox run.";
    user = mk (types.strMatching "[a-z_][a-z0-9_-]{0,31}") "osmoda-sandbox" "Host user sandboxes run as.";
  };

  capability = {
    defaultTtlSecs = secs 60 86400 900 "Lifetime of a minted capability token unless the request says otherwise.";
    maxTtlSecs = secs 60 86400 86400 "Longest lifetime of a capability token.";
  };

  agentCard = {
    name = mk types.str "osmoda" "Name in this server's A2A agent card.";
    description = mk types.str "AI-native system agent with auditable safety" "Description in the agent card.";
    image = mkNull types.str "Image URL in the agent card.";
  };
}
