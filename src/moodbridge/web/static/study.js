// The participant flow: start (unlocks audio), one trial at a time, answers unlocked when the clips have ended.
(function () {
  "use strict";
  var root = document.getElementById("study");
  var pid = root.dataset.pid;
  var $ = function (id) { return document.getElementById(id); };
  var endedAt = null;
  var busy = false;

  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, status: r.status, body: j}; }); });
  }

  function element(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function player(src, onEnded) {
    var wrap = element("div", {"class": "player"});
    var audio = element("audio", {preload: "auto", src: src});
    var button = element("button", {type: "button", "class": "play"});
    button.textContent = "▶ play";
    button.addEventListener("click", function () { audio.currentTime = 0; audio.play(); });
    audio.addEventListener("playing", function () { button.textContent = "playing…"; });
    audio.addEventListener("ended", function () { button.textContent = "▶ play again"; onEnded(); });
    wrap.appendChild(audio);
    wrap.appendChild(button);
    return {wrap: wrap, audio: audio};
  }

  function show(t) {
    if (t.done) {
      $("consent").hidden = true; $("trial").hidden = true; $("done").hidden = false;
      $("code").textContent = t.code;
      root.dataset.state = "done";
      return;
    }
    $("consent").hidden = true; $("trial").hidden = false;
    root.dataset.state = "trial";
    root.dataset.trial = t.trial;
    $("progress").value = t.answered; $("progress").max = t.total;
    $("progress-text").textContent = "question " + (t.answered + 1) + " of " + t.total;
    var prompt = $("prompt"), options = $("options");
    prompt.innerHTML = ""; options.innerHTML = ""; $("status").textContent = "";
    endedAt = null;
    var pending = 0, buttons = [];
    function clipEnded(key) {
      if (ended[key]) return;
      ended[key] = true; pending -= 1;
      if (pending <= 0) {
        endedAt = performance.now();
        buttons.forEach(function (b) { b.disabled = false; });
        $("status").textContent = "choose one";
      }
    }
    var ended = {};
    var audios = [];
    if (t.direction === "image-to-music") {
      $("instruction").textContent = "Look at the images, listen to the four clips, and choose the clip that fits the images best.";
      var imgs = element("div", {"class": "prompt-images"});
      t.prompt.images.forEach(function (src) { imgs.appendChild(element("img", {src: src, alt: "image"})); });
      prompt.appendChild(imgs);
    } else {
      $("instruction").textContent = t.direction === "catch"
        ? "Listen to the clip, then choose the image that is identical to this one."
        : "Listen to the clip, then choose the image that fits it best.";
      if (t.direction === "catch") {
        var probe = element("div", {"class": "prompt-images"});
        t.prompt.images.forEach(function (src) { probe.appendChild(element("img", {src: src, alt: "image"})); });
        prompt.appendChild(probe);
      }
      pending = 1;
      var p = player(t.prompt.clip, function () { clipEnded("prompt"); });
      prompt.appendChild(p.wrap);
      audios.push(p.audio);
    }
    t.options.forEach(function (o) {
      var box = element("div", {"class": "option", "data-index": o.index});
      if (o.kind === "audio") {
        pending += 1;
        var q = player(o.src, function () { clipEnded("o" + o.index); });
        box.appendChild(q.wrap);
        audios.push(q.audio);
      } else {
        box.appendChild(element("img", {src: o.src, alt: "option " + (o.index + 1)}));
      }
      var b = element("button", {type: "button", "class": "choose", "data-index": o.index});
      b.textContent = "choose " + (o.index + 1);
      b.disabled = true;
      b.addEventListener("click", function () { answer(t, o.index, buttons); });
      buttons.push(b);
      box.appendChild(b);
      options.appendChild(box);
    });
    $("status").textContent = "the choices unlock when the music has played to the end";
    if (audios.length) { audios[0].play().catch(function () {}); }
  }

  function answer(t, index, buttons) {
    if (busy) return;
    busy = true;
    buttons.forEach(function (b) { b.disabled = true; });
    var rt = endedAt === null ? null : Math.round(performance.now() - endedAt);
    $("status").textContent = "saving…";
    post("/study/api/answer", {pid: pid, trial: t.trial, choice: index, rt_ms: rt}).then(function (r) {
      busy = false;
      if (r.ok) { show(r.body); return; }
      if (r.status === 409) {  // already saved (a double click or another tab): go on
        fetch("/study/api/next?pid=" + encodeURIComponent(pid)).then(function (x) { return x.json(); }).then(show);
        return;
      }
      $("status").textContent = "could not save the answer: " + (r.body.error || r.status) + " — please try again";
      buttons.forEach(function (b) { b.disabled = false; });
    }).catch(function () {
      busy = false;
      $("status").textContent = "the server cannot be reached; your earlier answers are saved — please try again";
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  $("start").addEventListener("click", function () {
    // a user gesture: unlock audio for this page
    try { var Ctx = window.AudioContext || window.webkitAudioContext; if (Ctx) { new Ctx().resume(); } } catch (e) {}
    $("start").disabled = true;
    post("/study/api/start", {pid: pid}).then(function (r) {
      if (r.ok) { show(r.body); } else { $("start").disabled = false; alert(r.body.error || "cannot start"); }
    });
  });
  root.dataset.state = "consent";
})();
