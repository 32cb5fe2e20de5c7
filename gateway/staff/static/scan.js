// Scan an item number with the phone's camera where the browser reads barcodes itself (BarcodeDetector:
// Chrome on Android). Elsewhere the button stays hidden and the number is typed, or filled in by a
// scanner that types. Only a well-formed UPU S10 number (two letters, nine digits, two letters) is taken.
(function () {
  "use strict";
  var input = document.getElementById("item");
  var button = document.getElementById("scan");
  var video = document.getElementById("scan-video");
  if (!input || !button || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  var S10 = /^[A-Z]{2}\d{9}[A-Z]{2}$/;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      var detector = new window.BarcodeDetector({ formats: ["code_128", "qr_code"] });
      var stop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        video.hidden = true;
      };
      video.hidden = false;
      video.srcObject = stream;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          for (var i = 0; i < codes.length; i++) {
            var value = String(codes[i].rawValue || "").trim().toUpperCase();
            if (S10.test(value)) {
              stop();
              input.value = value;
              input.form.submit();
              return;
            }
          }
          window.requestAnimationFrame(tick);
        }, function () { window.requestAnimationFrame(tick); });
      };
      tick();
    }, function () { button.hidden = true; });
  });
})();
