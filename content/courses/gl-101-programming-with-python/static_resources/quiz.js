// Self-check quiz: each "Show answer" button reveals the answer that follows it.
// Runs inside the course sandbox (an opaque origin), so it only touches this page.
document.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll("button[data-answer]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      var answer = document.getElementById(event.currentTarget.getAttribute("data-answer"));
      if (answer) {
        answer.hidden = !answer.hidden;
        event.currentTarget.textContent = answer.hidden ? "Show answer" : "Hide answer";
      }
    });
  }
});
