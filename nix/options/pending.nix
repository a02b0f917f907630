# Options of the daemons not built yet (mesh, mcpd, teachd, voice, gateway), written from the config
# key tables of SPEC §2.5–2.8 and §2.10. Their units are declared but stay off until the daemon
# exists (`osmoda daemon <name>` refuses an unknown name); test/nix-options.test.ts lists them as
# pending and fails once src/daemons/<name>/config.ts lands, so these options get compared then.
{ lib, h }:

let
  inherit (lib) types;
  inherit (h) mk mkNull secs between statePath absPath;
  pos = types.ints.positive;
  unsigned = types.ints.unsigned;
  fraction = types.addCheck types.number (x: x >= 0 && x <= 1);
  secretFile = description: mkNull absPath "${description} (a file read through LoadCredential, never copied into the store).";
in
{
  mesh = {
    enable = mk types.bool false "Run osmoda-mesh, the post-quantum encrypted peer network (pending: the daemon is not built yet).";
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
      };
    })) [ ] "The only command messages a peer may run here, by name.";
    witness = {
      enable = mk types.bool true "Exchange and cosign ledger checkpoints with peers.";
      everySecs = mk pos 300 "How often checkpoints are exchanged.";
    };
  };

  mcpd = {
    enable = mk types.bool true "Run osmoda-mcpd, the manager of third-party MCP servers (pending: the daemon is not built yet).";
    servers = mk (types.attrsOf (types.submodule {
      options = {
        enable = mk types.bool true "Start this server.";
        command = mkNull types.str "Program of a stdio server.";
        args = mk (types.listOf types.str) [ ] "Its arguments.";
        env = mk (types.attrsOf types.str) { } "Environment (no secrets: use secretFiles).";
        secretFiles = mk (types.attrsOf absPath) { } "ENV = file: secrets handed over with LoadCredential.";
        transport = mk (types.enum [ "stdio" "http" ]) "stdio" "How mcpd talks to the server.";
        url = mkNull types.str "URL of an http server.";
        allowedDomains = mk (types.listOf types.str) [ ] "Hosts the server may reach through egress.";
        sandbox = mk types.bool true "Run the server in bubblewrap as osmoda-mcp.";
        approval = mk (types.enum [ "never" "destructive" "always" ]) "destructive" "Which of its tools pass the approval gate.";
      };
    })) { } "Managed MCP servers by name ([a-z0-9][a-z0-9-]{0,31}), rendered as the servers[] list of mcpd.json.";
    builtins = {
      specKit = mk types.bool true "Serve the spec-kit tools.";
      codegraph = mk types.bool false "Serve the codegraph_* tools.";
    };
    codegraph = {
      roots = mk (types.listOf types.str) [ "/opt/osmoda" "/workspace/*" "/srv/*" ] "Trees codegraph indexes.";
      syncEverySecs = mk pos 1800 "Re-index interval.";
      maxFileBytes = mk pos 1048576 "Largest file indexed.";
      maxFiles = mk pos 200000 "Most files indexed.";
    };
    restart = {
      initialMs = mk pos 1000 "First restart delay.";
      factor = mk types.number 2 "Growth of the restart delay.";
      maxMs = mk pos 60000 "Largest restart delay.";
      stableSecs = mk pos 120 "Up this long resets the back-off.";
      maxRestarts = mk pos 5 "Restarts per window before the breaker opens.";
      windowSecs = mk pos 300 "Window of the breaker.";
    };
    startTimeoutSecs = mk pos 30 "Deadline of a server start.";
    pingIntervalSecs = mk pos 30 "Ping interval.";
    pingTimeoutSecs = mk pos 10 "Ping deadline.";
    callTimeout = {
      defaultSecs = mk pos 120 "Deadline of a tool call unless given.";
      maxSecs = mk pos 600 "Largest deadline of a tool call.";
    };
    stderrBufferBytes = mk pos 65536 "stderr ring buffer per server.";
  };

  teachd = {
    enable = mk types.bool true "Run osmoda-teachd, the observe/learn/teach loop (pending: the daemon is not built yet).";
    observeIntervalSecs = mk pos 30 "OBSERVE interval.";
    learnIntervalSecs = mk pos 300 "LEARN interval.";
    skillgenIntervalSecs = mk pos 21600 "SKILLGEN interval.";
    verifyIntervalSecs = mk pos 1800 "VERIFY interval.";
    learnWindowSecs = mk pos 3600 "Observations LEARN looks at.";
    knowledgeThreshold = mk fraction 0.7 "Confidence above which a pattern becomes knowledge.";
    observationRetentionDays = mk pos 7 "Observations kept.";
    actionRetentionDays = mk pos 30 "Observed agent actions kept.";
    minSessions = mk pos 3 "Sessions a sequence must appear in to become a skill candidate.";
    sequenceMinLen = mk pos 3 "Shortest tool sequence considered.";
    sequenceMaxLen = mk pos 6 "Longest tool sequence considered.";
    maxNewCandidates = mk pos 10 "New candidates per SKILLGEN run.";
    teachBudgetChars = mk pos 6000 "Characters of context teach_context returns.";
    skillsDir = mk statePath "<state>/skills" "Generated skills go to <skillsDir>/auto-<name>/SKILL.md.";
    nixSource = mkNull types.str "Flake ref or `config` used for nix_config optimizations.";
  };

  voice = {
    enable = mk types.bool false "Run osmoda-voice, local speech-to-text and text-to-speech (pending: the daemon is not built yet).";
    stt = {
      engine = mk (types.enum [ "auto" "whisper" "pocketsphinx" ]) "auto" "auto: whisper.cpp if binary and model exist, else pocketsphinx.";
      whisperBin = mk types.str "whisper-cli" "whisper.cpp binary.";
      whisperModel = mk statePath "<state>/voice/models/ggml-base.en.bin" "whisper.cpp model.";
      pocketsphinxBin = mk types.str "pocketsphinx" "pocketsphinx binary.";
      language = mk types.str "en" "Default language.";
      threads = mk pos 4 "Threads of whisper.cpp.";
      timeoutSecs = mk pos 120 "Deadline of one transcription.";
    };
    tts = {
      engine = mk (types.enum [ "auto" "piper" "espeak-ng" ]) "auto" "auto: piper if binary and model exist, else espeak-ng.";
      piperBin = mk types.str "piper" "piper binary.";
      piperModel = mk statePath "<state>/voice/models/en_US-lessac-medium.onnx" "piper model.";
      espeakBin = mk types.str "espeak-ng" "espeak-ng binary.";
      espeakVoice = mk types.str "en-us" "espeak-ng voice.";
      timeoutSecs = mk pos 30 "Deadline of one synthesis.";
    };
    audio = {
      player = mk types.str "auto" "auto: pw-play when PipeWire is reachable, else aplay.";
      recorder = mk types.str "auto" "auto: pw-record when PipeWire is reachable, else arecord.";
      pipewireRuntimeDir = mkNull absPath "PipeWire runtime dir bound into the unit.";
    };
    inputRoots = mk (types.listOf statePath) [ "/tmp/osmoda-voice" "<state>/voice/inbox" ] "Where audio_path may point.";
    maxAudioBytes = mk pos 52428800 "Largest audio file.";
    maxAudioSecs = mk pos 600 "Longest audio.";
    cacheMaxAgeSecs = mk pos 86400 "Synthesized audio kept this long.";
    listen = {
      vadThresholdDbfs = mk types.int (-40) "Voice activity threshold.";
      hangoverMs = mk pos 800 "Silence that ends a segment.";
      minSpeechMs = mk pos 300 "Shortest segment kept.";
      maxSegmentSecs = mk pos 30 "Longest segment.";
      wakePhrase = mk types.str "osmoda" "Phrase that starts a request.";
      forwardToAgent = mk types.bool true "Send transcripts to the gateway.";
      channel = mk types.str "voice" "Channel name of forwarded transcripts.";
      speakReplies = mk types.bool true "Speak the agent's replies.";
    };
  };
}
