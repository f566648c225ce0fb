/* The live class page: a device check, then the room on LiveKit (livekit-client, vendored).
   The page shows one stage at a time (setup, connecting, room, unreachable, refused, left).
   Names and chat come from other people: they reach the page through textContent only. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-room]");
  if (!root) return;
  var config = JSON.parse(document.getElementById("live-room-config").textContent);
  var LK = window.LivekitClient;
  var MAX_CHAT = 500;
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  var state = {
    room: null,
    devices: null,
    hands: {},
    tiles: {},
    people: {},
    ending: false,
    joining: false,
  };

  function $(selector, scope) {
    return (scope || root).querySelector(selector);
  }

  function $$(selector, scope) {
    return Array.prototype.slice.call((scope || root).querySelectorAll(selector));
  }

  function clone(name) {
    return $('template[data-template="' + name + '"]').content.firstElementChild.cloneNode(true);
  }

  function showStage(name) {
    $$("[data-stage]").forEach(function (section) {
      section.hidden = section.getAttribute("data-stage") !== name;
    });
    var heading = $('[data-stage="' + name + '"] [data-focus]');
    if (heading && name !== "setup") heading.focus();
  }

  function announce(text) {
    $("[data-status]").textContent = text;
  }

  function initials(name) {
    var words = (name || "?").trim().split(/\s+/);
    return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
  }

  function nameOf(participant) {
    return (participant && participant.name) || "Someone";
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        var error = new Error("No answer within " + ms + " ms");
        error.timedOut = true;
        reject(error);
      }, ms);
      promise.then(
        function (value) { clearTimeout(timer); resolve(value); },
        function (error) { clearTimeout(timer); reject(error); }
      );
    });
  }

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrfToken, Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return { ok: response.ok && !answer.error, status: response.status, answer: answer };
      });
    });
  }

  // --- Joining ------------------------------------------------------------------------------

  function join() {
    if (state.joining) return Promise.resolve();
    state.joining = true;
    showStage("connecting");
    announce("Connecting…");
    return post(config.tokenUrl).then(
      function (reply) {
        if (!reply.ok || !reply.answer.token) {
          var message = reply.answer.error || "Lectern couldn't let you in (error " + reply.status + ").";
          refuse(message, reply.status >= 500);
          return;
        }
        return connect(reply.answer);
      },
      function () { refuse("Lectern didn't answer. Check your connection and try again.", true); }
    ).finally(function () { state.joining = false; });
  }

  function refuse(message, retryable) {
    $("[data-refused-message]").textContent = message;
    $("[data-refused-retry]").hidden = !retryable;
    showStage("refused");
    announce(message);
  }

  function connect(answer) {
    var room = new LK.Room({ adaptiveStream: true, dynacast: true });
    wireRoom(room);
    state.room = room;
    var options = { maxRetries: 0, websocketTimeout: config.connectTimeoutMs };
    return withTimeout(room.connect(answer.url, answer.token, options), config.connectTimeoutMs).then(
      function () {
        showStage("room");
        announce("You're in the class.");
        renderAll();
        return publishChoices(room);
      },
      function (error) {
        state.room = null;
        room.disconnect();
        $("[data-unreachable-detail]").textContent = error && error.timedOut
          ? "No answer from " + answer.url + " within " + config.connectTimeoutMs / 1000 + " seconds."
          : "Connecting to " + answer.url + " failed: " + ((error && error.message) || "no reason given").replace(/\.$/, "") + ".";
        showStage("unreachable");
        announce("Can't reach the live server.");
      }
    );
  }

  function publishChoices(room) {
    if (!state.devices) return updateToolbar();
    var chosen = state.devices.take();
    var work = [chosen.video, chosen.audio].filter(Boolean).map(function (track) {
      if (canPublish()) return room.localParticipant.publishTrack(track);
      track.stop();
      return null;
    });
    return Promise.all(work).catch(function (error) {
      showControlError("Your camera or microphone couldn't be shared: " + error.message);
    }).then(updateToolbar);
  }

  function canPublish() {
    var room = state.room;
    var permissions = room && room.localParticipant.permissions;
    return Boolean(permissions ? permissions.canPublish : config.mayPublish);
  }

  // --- The room -----------------------------------------------------------------------------

  function wireRoom(room) {
    var E = LK.RoomEvent;
    function ours(handler) {
      return function () {
        if (state.room === room) handler.apply(null, arguments);
      };
    }
    room
      .on(E.ParticipantConnected, ours(function (participant) {
        render(participant);
        if (state.hands[room.localParticipant.identity]) sendHand(true, [participant.identity]);
      }))
      .on(E.ParticipantDisconnected, ours(forget))
      .on(E.TrackSubscribed, ours(function (track, publication, participant) {
        if (track.kind === "audio") $("[data-audio]").appendChild(track.attach());
        render(participant);
      }))
      .on(E.TrackUnsubscribed, ours(function (track, publication, participant) {
        track.detach().forEach(function (element) { if (element.tagName === "AUDIO") element.remove(); });
        render(participant);
      }))
      .on(E.LocalTrackPublished, ours(function () { render(room.localParticipant); updateToolbar(); }))
      .on(E.LocalTrackUnpublished, ours(function () { render(room.localParticipant); updateToolbar(); }))
      .on(E.TrackMuted, ours(function (publication, participant) { render(participant); updateToolbar(); }))
      .on(E.TrackUnmuted, ours(function (publication, participant) { render(participant); updateToolbar(); }))
      .on(E.ActiveSpeakersChanged, ours(highlightSpeakers))
      .on(E.DataReceived, ours(receive))
      .on(E.ParticipantPermissionsChanged, ours(permissionsChanged))
      .on(E.RecordingStatusChanged, ours(showRecording))
      .on(E.AudioPlaybackStatusChanged, ours(function () {
        $("[data-enable-audio]").hidden = room.canPlaybackAudio;
      }))
      .on(E.Reconnecting, ours(function () { announce("Connection lost: reconnecting…"); }))
      .on(E.Reconnected, ours(function () { announce("Reconnected."); }))
      .on(E.Disconnected, ours(disconnected));
  }

  function participants() {
    var room = state.room;
    return [room.localParticipant].concat(Array.from(room.remoteParticipants.values()));
  }

  function renderAll() {
    participants().forEach(render);
    showRecording(state.room.isRecording);
    $("[data-enable-audio]").hidden = state.room.canPlaybackAudio;
    updateToolbar();
  }

  function render(participant) {
    renderTile(participant);
    renderScreen(participant);
    renderPerson(participant);
    renderHands();
  }

  function renderTile(participant) {
    var id = participant.identity;
    var tile = state.tiles[id];
    if (!tile) {
      tile = state.tiles[id] = clone("tile");
      $("[data-grid]").appendChild(tile);
    }
    var label = nameOf(participant) + (participant === state.room.localParticipant ? " (you)" : "");
    $("[data-name]", tile).textContent = label;
    $("[data-initials]", tile).textContent = initials(nameOf(participant));
    $("[data-muted]", tile).hidden = participant.isMicrophoneEnabled;
    $("[data-hand]", tile).hidden = !state.hands[id];
    var camera = participant.getTrackPublication(LK.Track.Source.Camera);
    var video = $("video", tile);
    var showing = Boolean(camera && camera.track && !camera.isMuted);
    if (showing) camera.track.attach(video);
    video.hidden = !showing;
    tile.classList.toggle("has-video", showing);
  }

  function renderScreen(participant) {
    var key = participant.identity + "\u0000screen";
    var screen = participant.getTrackPublication(LK.Track.Source.ScreenShare);
    var tile = state.tiles[key];
    if (!(screen && screen.track)) {
      if (tile) tile.remove();
      delete state.tiles[key];
      return;
    }
    if (!tile) {
      tile = state.tiles[key] = clone("tile");
      tile.classList.add("live-tile-screen", "has-video");
      $("[data-grid]").prepend(tile);
    }
    $("[data-name]", tile).textContent = nameOf(participant) + "'s screen";
    screen.track.attach($("video", tile));
  }

  function renderPerson(participant) {
    var id = participant.identity;
    var row = state.people[id];
    var isLocal = participant === state.room.localParticipant;
    if (!row) {
      row = state.people[id] = clone("person");
      row.setAttribute("data-identity", id);
      var controls = $("[data-person-controls]", row);
      if (controls && (isLocal || id === config.teacherIdentity)) controls.remove();
      $("[data-people]").appendChild(row);
    }
    $("[data-name]", row).textContent = nameOf(participant) + (isLocal ? " (you)" : "");
    $("[data-initials]", row).textContent = initials(nameOf(participant));
    var role = $("[data-role]", row);
    role.hidden = id !== config.teacherIdentity;
    role.textContent = "Teacher";
    var onStage = id !== config.teacherIdentity && Boolean(participant.permissions && participant.permissions.canPublish);
    $("[data-on-stage]", row).hidden = !onStage;
    $("[data-hand]", row).hidden = !state.hands[id];
    var stage = $('[data-action="stage"]', row);
    if (stage) {
      stage.textContent = onStage ? "Back to audience" : "Invite on stage";
      stage.setAttribute("data-on", onStage ? "0" : "1");
    }
    $("[data-people-count]").textContent = String(Object.keys(state.people).length);
  }

  function renderHands() {
    var list = $("[data-hands]");
    if (!list) return;
    var raised = participants().filter(function (p) { return state.hands[p.identity] && p !== state.room.localParticipant; });
    list.textContent = "";
    raised.forEach(function (participant) {
      var item = clone("hand");
      item.setAttribute("data-identity", participant.identity);
      $("[data-name]", item).textContent = nameOf(participant);
      $('[data-action="stage"]', item).setAttribute("data-on", "1");
      list.appendChild(item);
    });
    $("[data-hands-empty]").hidden = raised.length > 0;
  }

  function forget(participant) {
    [participant.identity, participant.identity + "\u0000screen"].forEach(function (key) {
      if (state.tiles[key]) state.tiles[key].remove();
      delete state.tiles[key];
    });
    if (state.people[participant.identity]) state.people[participant.identity].remove();
    delete state.people[participant.identity];
    delete state.hands[participant.identity];
    $("[data-people-count]").textContent = String(Object.keys(state.people).length);
    renderHands();
  }

  function highlightSpeakers(speakers) {
    var speaking = speakers.map(function (participant) { return participant.identity; });
    Object.keys(state.tiles).forEach(function (key) {
      state.tiles[key].classList.toggle("is-speaking", speaking.indexOf(key) !== -1);
    });
  }

  function showRecording(recording) {
    $("[data-recording-badge]").hidden = !recording;
    var button = $("[data-recording]");
    if (button) {
      button.setAttribute("data-recording", recording ? "stop" : "start");
      button.setAttribute("aria-pressed", recording ? "true" : "false");
      $("[data-recording-label]").textContent = recording ? "Stop recording" : "Record";
    }
  }

  function updateToolbar() {
    var room = state.room;
    if (!room) return;
    var local = room.localParticipant;
    var allowed = canPublish();
    var pressed = {
      microphone: local.isMicrophoneEnabled,
      camera: local.isCameraEnabled,
      screen: local.isScreenShareEnabled,
      hand: Boolean(state.hands[local.identity]),
    };
    Object.keys(pressed).forEach(function (name) {
      var button = $('[data-toggle="' + name + '"]');
      button.setAttribute("aria-pressed", pressed[name] ? "true" : "false");
      if (name !== "hand") button.hidden = !allowed;
    });
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
      $('[data-toggle="screen"]').hidden = true;
    }
  }

  function permissionsChanged(previous, participant) {
    render(participant);
    if (participant !== state.room.localParticipant || !previous) return;
    var could = Boolean(previous.canPublish);
    var can = canPublish();
    $("[data-stage-invite]").hidden = !(can && !could);
    if (can && !could) {
      if (state.hands[participant.identity]) toggleHand();
      announce("You're on stage: you may turn on your microphone and camera.");
    } else if (could && !can) {
      announce("You're back in the audience: your camera and microphone are off.");
    }
    updateToolbar();
  }

  // --- Data messages: raised hands and chat -------------------------------------------------

  function send(message, destinations) {
    var options = { reliable: true, topic: message.type };
    if (destinations) options.destinationIdentities = destinations;
    return state.room.localParticipant.publishData(encoder.encode(JSON.stringify(message)), options);
  }

  function sendHand(raised, destinations) {
    return send({ type: "hand", raised: raised }, destinations);
  }

  function receive(payload, participant) {
    if (!participant) return;
    var message;
    try {
      message = JSON.parse(decoder.decode(payload));
    } catch (error) {
      return;
    }
    if (message.type === "hand") {
      state.hands[participant.identity] = message.raised === true;
      render(participant);
      if (message.raised === true && config.isTeacher) announce(nameOf(participant) + " raised their hand.");
    } else if (message.type === "chat" && typeof message.text === "string") {
      showMessage(nameOf(participant), message.text.slice(0, MAX_CHAT));
    }
  }

  function showMessage(author, text) {
    var item = clone("message");
    var now = new Date();
    $("[data-author]", item).textContent = author;
    $("[data-time]", item).textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    $("[data-time]", item).setAttribute("datetime", now.toISOString());
    $("[data-text]", item).textContent = text;
    var log = $("[data-chat-log]");
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    $("[data-chat-empty]").hidden = true;
  }

  function toggleHand() {
    var me = state.room.localParticipant;
    var raised = !state.hands[me.identity];
    state.hands[me.identity] = raised;
    render(me);
    updateToolbar();
    sendHand(raised).catch(function () { showControlError("Your hand couldn't be raised: try again."); });
  }

  root.addEventListener("submit", function (event) {
    if (!event.target.matches("[data-chat-form]")) return;
    event.preventDefault();
    var input = event.target.elements.text;
    var text = input.value.trim().slice(0, MAX_CHAT);
    if (!text || !state.room) return;
    send({ type: "chat", text: text }).then(
      function () { showMessage(nameOf(state.room.localParticipant) + " (you)", text); input.value = ""; },
      function () { showControlError("Your message wasn't sent: try again."); }
    );
  });

  // --- Buttons ------------------------------------------------------------------------------

  function showControlError(message) {
    $("[data-control-error-text]").textContent = message;
    $("[data-control-error]").hidden = !message;
  }

  function toggleDevice(name) {
    var local = state.room.localParticipant;
    var change = {
      microphone: function () { return local.setMicrophoneEnabled(!local.isMicrophoneEnabled); },
      camera: function () { return local.setCameraEnabled(!local.isCameraEnabled); },
      screen: function () { return local.setScreenShareEnabled(!local.isScreenShareEnabled); },
    }[name];
    showControlError("");
    change().catch(function (error) {
      if (error && error.name === "NotAllowedError" && name === "screen") return;
      showControlError("That didn't work: " + ((error && error.message) || "try again."));
    }).then(updateToolbar);
  }

  function control(action, identity, fields) {
    var url = config.controls[action].replace("__identity__", encodeURIComponent(identity || ""));
    showControlError("");
    return post(url, fields).then(
      function (reply) {
        if (!reply.ok) showControlError(reply.answer.error || "That didn't work (error " + reply.status + ").");
        return reply.ok ? reply.answer : null;
      },
      function () { showControlError("Lectern didn't answer: check your connection and try again."); return null; }
    );
  }

  function confirmAction(title, text, label) {
    var dialog = $("[data-confirm]");
    $("[data-confirm-title]", dialog).textContent = title;
    $("[data-confirm-text]", dialog).textContent = text;
    $("[data-confirm-button]", dialog).textContent = label;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "confirm"); }, { once: true });
    });
  }

  function personAction(button) {
    var identity = button.closest("[data-identity]").getAttribute("data-identity");
    var action = button.getAttribute("data-action");
    var name = nameOf(state.room.getParticipantByIdentity(identity));
    if (action === "stage") {
      control("stage", identity, { on: button.getAttribute("data-on") });
    } else if (action === "mute") {
      control("mute", identity).then(function (done) { if (done) announce(name + " is muted."); });
    } else if (action === "remove") {
      confirmAction("Remove " + name + "?", name + " leaves the class and can't join this session again.", "Remove").then(
        function (sure) { if (sure) control("remove", identity); }
      );
    }
  }

  function endForEveryone() {
    confirmAction(
      "End the class for everyone?",
      "Everyone leaves the room, and nobody can join this session again.",
      "End for everyone"
    ).then(function (sure) {
      if (!sure) return;
      state.ending = true;
      control("end").then(function (done) { if (!done) state.ending = false; });
    });
  }

  function record(button) {
    var starting = button.getAttribute("data-recording") === "start";
    button.disabled = true;
    control(starting ? "recording_start" : "recording_stop").then(function (done) {
      button.disabled = false;
      if (done) showRecording(starting);
    });
  }

  function leave() {
    if (state.room) state.room.disconnect();
  }

  function disconnected(reason) {
    var R = LK.DisconnectReason;
    var room = state.room;
    state.room = null;
    Object.keys(state.tiles).forEach(function (key) { state.tiles[key].remove(); });
    Object.keys(state.people).forEach(function (key) { state.people[key].remove(); });
    state.tiles = {};
    state.people = {};
    state.hands = {};
    $("[data-audio]").textContent = "";
    if (room) room.removeAllListeners();
    var final = reason === R.PARTICIPANT_REMOVED || reason === R.ROOM_DELETED || state.ending;
    var title = "You left the class";
    var message = "You can join again while the session is on.";
    if (reason === R.PARTICIPANT_REMOVED) {
      title = "The teacher removed you from this session";
      message = "You can't join it again.";
    } else if (reason === R.ROOM_DELETED || state.ending) {
      title = "The class has ended";
      message = state.ending ? "You ended the class for everyone." : "The teacher ended the class for everyone.";
    } else if (reason !== R.CLIENT_INITIATED) {
      title = "You were disconnected";
      message = reason === R.DUPLICATE_IDENTITY
        ? "You joined from another tab or device."
        : "The connection to the live server was lost.";
    }
    $("[data-left-title]").textContent = title;
    $("[data-left-message]").textContent = message;
    $("[data-rejoin]").hidden = final;
    showStage("left");
    announce(title + ".");
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button.matches("[data-join], [data-retry]")) {
      join();
    } else if (!state.room) {
      return;
    } else if (button.matches("[data-toggle=hand]")) {
      toggleHand();
    } else if (button.matches("[data-toggle]")) {
      toggleDevice(button.getAttribute("data-toggle"));
    } else if (button.matches("[data-action]")) {
      personAction(button);
    } else if (button.matches("[data-recording]")) {
      record(button);
    } else if (button.matches("[data-end]")) {
      endForEveryone();
    } else if (button.matches("[data-leave]")) {
      leave();
    } else if (button.matches("[data-enable-audio]")) {
      state.room.startAudio();
    } else if (button.matches("[data-invite-accept]")) {
      $("[data-stage-invite]").hidden = true;
      toggleDevice(button.getAttribute("data-invite-accept"));
    } else if (button.matches("[data-invite-dismiss]")) {
      $("[data-stage-invite]").hidden = true;
    }
  });

  if (!LK) {
    refuse("The live class couldn't start in this browser. Reload the page to try again.", false);
    return;
  }
  LK.setLogLevel("warn");
  var check = $("[data-device-check]");
  if (check) state.devices = window.LecternLive.deviceCheck(check, LK);
})();
