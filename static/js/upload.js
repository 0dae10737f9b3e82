// Progressive enhancement of the upload form: one request per file, with a
// progress bar each, and drag and drop. Without JavaScript the form posts as is.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var texts = JSON.parse(document.getElementById("upload-texts").textContent);
  var list = document.getElementById("upload-progress");
  var dropzone = document.getElementById("dropzone");
  var dropped = [];

  function csrf() { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }

  function sendOne(file) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " — " + texts.sending;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    item.appendChild(label); item.appendChild(bar); list.appendChild(item);
    var data = new FormData();
    data.append("files", file);
    var careDate = form.querySelector("input[name=care_date]");
    if (careDate && careDate.value) data.append("care_date", careDate.value);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-CSRFToken", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    };
    xhr.onload = function () {
      var result;
      try { result = JSON.parse(xhr.responseText).results[0]; } catch (e) { result = { ok: false, message: texts.failed }; }
      bar.value = 100;
      item.className = result.ok ? "ok" : "error";
      label.textContent = file.name + " — " + result.message;
      if (result.document) {
        item.setAttribute("data-document", result.document);
        var link = document.createElement("a");
        link.href = "/documents/" + result.document + "/";
        link.textContent = " ↗";
        link.setAttribute("aria-label", file.name);
        item.appendChild(link);
      }
    };
    xhr.onerror = function () { item.className = "error"; label.textContent = file.name + " — " + texts.failed; };
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    var files = dropped.slice();
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      for (var i = 0; i < input.files.length; i++) files.push(input.files[i]);
      input.value = "";
    });
    if (!files.length) return; // let the server say "choose a file"
    event.preventDefault();
    dropped = [];
    files.forEach(sendOne);
  });

  if (dropzone) {
    ["dragenter", "dragover"].forEach(function (name) {
      dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      dropzone.addEventListener(name, function () { dropzone.classList.remove("dragging"); });
    });
    dropzone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer.files;
      for (var i = 0; i < files.length; i++) sendOne(files[i]);
    });
  }
})();
