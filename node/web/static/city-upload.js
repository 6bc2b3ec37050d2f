// Live progress for evidence uploads. Without this script the form posts as usual and the
// page comes back when the file is stored; with it, the same multipart post is sent by
// XMLHttpRequest so that a progress bar can follow the bytes. The server answers the same way
// either way: a redirect to the saved page, or the page again with the error beside the field.
"use strict";
(function () {
  function enhance(form) {
    var progress = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var input = form.querySelector("input[type=file]");
    var error = form.querySelector(".field-error");
    if (!progress || !status || !input || !window.FormData) {
      return;
    }
    form.addEventListener("submit", function (event) {
      if (!input.files || input.files.length === 0) {
        return; // the server explains what is missing
      }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.responseType = "document";
      progress.hidden = false;
      progress.value = 0;
      status.textContent = status.getAttribute("data-uploading");
      request.upload.addEventListener("progress", function (progressEvent) {
        if (progressEvent.lengthComputable) {
          progress.value = Math.round((100 * progressEvent.loaded) / progressEvent.total);
        }
      });
      request.addEventListener("load", function () {
        if (request.status < 400) {
          window.location.assign(request.responseURL);
          return;
        }
        progress.hidden = true;
        status.textContent = "";
        var page = request.response;
        var answer = page && error ? page.getElementById(error.id) : null;
        if (error) {
          error.textContent = answer && answer.textContent.trim()
            ? answer.textContent.trim()
            : status.getAttribute("data-failed");
          error.hidden = false;
        }
        input.focus();
      });
      request.addEventListener("error", function () {
        progress.hidden = true;
        status.textContent = status.getAttribute("data-failed");
      });
      request.send(new FormData(form));
    });
  }
  var forms = document.querySelectorAll("form.evidence-upload");
  for (var index = 0; index < forms.length; index += 1) {
    enhance(forms[index]);
  }
})();
