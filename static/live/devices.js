/* The live class page's device check: a camera preview, device choices, a microphone level,
   and whether to join with each one on. Tracks made here are handed to the room on joining,
   so the browser asks for the camera and microphone once. Loaded before static/live/room.js. */
(function () {
  "use strict";

  window.LecternLive = window.LecternLive || {};

  /* Start the check in `section` (the [data-device-check] card); return what the room needs. */
  window.LecternLive.deviceCheck = function (section, LK) {
    var preview = { video: null, audio: null };
    var stopMeterLoop = null;

    function $(selector) {
      return section.querySelector(selector);
    }

    function joinWith(kind) {
      return $('[data-join-with="' + (kind === "videoinput" ? "camera" : "microphone") + '"]');
    }

    function previewTrack(kind) {
      return kind === "videoinput" ? preview.video : preview.audio;
    }

    function acquire(kind, deviceId) {
      var options = deviceId ? { deviceId: deviceId } : {};
      return kind === "videoinput" ? LK.createLocalVideoTrack(options) : LK.createLocalAudioTrack(options);
    }

    function start() {
      var kinds = ["videoinput", "audioinput"];
      return Promise.allSettled(kinds.map(function (kind) { return acquire(kind); })).then(function (results) {
        var problems = [];
        results.forEach(function (result, index) {
          if (result.status === "fulfilled") {
            setPreview(kinds[index], result.value);
          } else {
            problems.push(describeError(kinds[index], result.reason));
          }
        });
        showProblems(problems);
        return fillDeviceLists();
      });
    }

    function describeError(kind, error) {
      var device = kind === "videoinput" ? "camera" : "microphone";
      if (error && error.name === "NotAllowedError") {
        return "Your browser didn't allow the " + device + ". Allow it in the address bar, then reload.";
      }
      if (error && error.name === "NotFoundError") return "No " + device + " was found.";
      return "The " + device + " couldn't start: another app may be using it.";
    }

    function showProblems(problems) {
      $("[data-device-problem]").hidden = problems.length === 0;
      $("[data-device-problem-text]").textContent =
        problems.join(" ") + " You can still join and turn it on later.";
      if (!preview.video) joinWith("videoinput").checked = false;
      if (!preview.audio) joinWith("audioinput").checked = false;
      showPreviewState();
    }

    function setPreview(kind, track) {
      if (kind === "videoinput") {
        preview.video = track;
        track.attach($("[data-preview]"));
      } else {
        preview.audio = track;
        startMeter(track);
      }
      showPreviewState();
    }

    function dropPreview(kind) {
      var track = previewTrack(kind);
      if (!track) return;
      if (kind === "videoinput") {
        track.detach();
        preview.video = null;
      } else {
        stopMeter();
        preview.audio = null;
      }
      track.stop();
      showPreviewState();
    }

    function showPreviewState() {
      var on = Boolean(preview.video);
      $("[data-preview]").hidden = !on;
      $("[data-preview-off]").hidden = on;
      $("[data-preview-off-text]").textContent = joinWith("videoinput").checked
        ? "No camera picture"
        : "Your camera stays off";
    }

    function fillDeviceLists() {
      return navigator.mediaDevices.enumerateDevices().then(function (devices) {
        section.querySelectorAll("[data-device-select]").forEach(function (select) {
          var kind = select.getAttribute("data-device-select");
          var track = previewTrack(kind);
          var current = track ? track.mediaStreamTrack.getSettings().deviceId : "";
          var found = devices.filter(function (device) { return device.kind === kind && device.deviceId; });
          if (!found.length) return;
          select.textContent = "";
          found.forEach(function (device, index) {
            var option = new Option(device.label || "Device " + (index + 1), device.deviceId);
            option.selected = device.deviceId === current;
            select.appendChild(option);
          });
          select.disabled = false;
        });
      });
    }

    function startMeter(track) {
      stopMeter();
      var analyser = LK.createAudioAnalyser(track);
      var heard = false;
      var level = $("[data-mic-level]");
      var meter = $("[data-mic-meter]");
      var timer = setInterval(function () {
        var percent = Math.min(100, Math.round(analyser.calculateVolume() * 400));
        level.style.width = percent + "%";
        meter.setAttribute("aria-valuenow", String(percent));
        if (!heard && percent > 4) {
          heard = true;
          $("[data-mic-status]").textContent = "Your microphone works.";
        }
      }, 100);
      stopMeterLoop = function () { clearInterval(timer); analyser.cleanup(); };
    }

    function stopMeter() {
      if (stopMeterLoop) stopMeterLoop();
      stopMeterLoop = null;
      $("[data-mic-level]").style.width = "0";
    }

    section.addEventListener("change", function (event) {
      var target = event.target;
      var kind = target.getAttribute("data-device-select");
      if (kind) {
        var track = previewTrack(kind);
        if (track) {
          track.setDeviceId(target.value);
        } else {
          acquire(kind, target.value).then(function (made) { setPreview(kind, made); });
        }
        return;
      }
      var which = target.getAttribute("data-join-with");
      if (!which) return;
      var deviceKind = which === "camera" ? "videoinput" : "audioinput";
      if (!target.checked) {
        dropPreview(deviceKind);
        return;
      }
      var select = $('[data-device-select="' + deviceKind + '"]');
      acquire(deviceKind, select.value).then(
        function (made) { setPreview(deviceKind, made); showProblems([]); },
        function (error) { target.checked = false; showProblems([describeError(deviceKind, error)]); }
      );
    });

    start();

    return {
      /* Hand over the tracks the person chose to join with; stop the check and the rest. */
      take: function () {
        stopMeter();
        var chosen = { video: preview.video, audio: preview.audio };
        preview.video = preview.audio = null;
        Object.keys(chosen).forEach(function (name) {
          var track = chosen[name];
          if (!track) return;
          track.detach();
          if (!joinWith(name === "video" ? "videoinput" : "audioinput").checked) {
            track.stop();
            chosen[name] = null;
          }
        });
        return chosen;
      },
    };
  };
})();
