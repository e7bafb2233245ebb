// The admin's course upload with a progress bar (templates/admin/courses.html). Without
// this script the form posts as it is; with it, the same file goes to the JSON API with
// the form's CSRF token in a header, and the bar follows the upload.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    var data = new FormData(form);
    var token = form.querySelector("input[name=csrf_token]");
    var replace = form.querySelector("input[name=replace]");
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    var url = "/api/admin/upload-course" + (replace && replace.checked ? "?replace=1" : "");
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", token ? token.value : "");
    xhr.setRequestHeader("Accept", "application/json");
    box.hidden = false;
    bar.value = 0;
    status.textContent = "Uploading…";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        bar.textContent = pct + "%";
        status.textContent = pct < 100 ? "Uploading… " + pct + "%" : "Checking and extracting…";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200) {
        window.location.assign("/admin/courses?done=" + (replace && replace.checked ? "replaced" : "uploaded"));
        return;
      }
      var message = "The upload failed (" + xhr.status + ").";
      try {
        var body = JSON.parse(xhr.responseText);
        if (body && typeof body.error === "string") {
          message = body.error;
        }
      } catch (ignored) {}
      if (xhr.status === 403 && message === "Re-authentication required") {
        window.location.assign("/admin/reauth?then=%2Fadmin%2Fcourses");
        return;
      }
      status.textContent = message;
    });
    xhr.addEventListener("error", function () {
      status.textContent = "The upload failed: the connection was lost.";
    });
    xhr.send(data);
  });
})();
