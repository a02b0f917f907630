# Options of the daemons not built yet (mcpd, teachd, voice), written from the config
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
