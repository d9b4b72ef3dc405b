// moodbridge web app: playing an arc through (step after step), nothing else needs script.
(function () {
  "use strict";
  var play = document.getElementById("arc-play");
  if (!play) return;
  var steps = Array.prototype.slice.call(document.querySelectorAll(".arc-step"));
  var current = -1;
  function stop() {
    steps.forEach(function (li) { li.classList.remove("playing"); var a = li.querySelector("audio"); a.pause(); });
    current = -1;
  }
  function start(i) {
    if (i >= steps.length) { stop(); return; }
    stop();
    current = i;
    var li = steps[i];
    li.classList.add("playing");
    li.scrollIntoView({block: "nearest"});
    var audio = li.querySelector("audio");
    audio.currentTime = 0;
    audio.onended = function () { if (current === i) start(i + 1); };
    audio.play();
  }
  play.addEventListener("click", function () { start(0); });
  document.getElementById("arc-stop").addEventListener("click", stop);
})();
