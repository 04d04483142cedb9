// Optional help on the questionnaire page; the form works the same without it.
// A box that excludes the other answers of its question (Q7: "data is not collected digitally")
// unticks them when ticked, and is unticked when another one is; without this script the server
// refuses the combination and says why.
document.querySelectorAll("[data-exclusive]").forEach((group) => {
  const exclusive = group.querySelector(`input[name="${group.dataset.exclusive}"]`);
  group.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.checked) return;
    group.querySelectorAll("input[type=checkbox]").forEach((other) => {
      if (box === exclusive ? other !== exclusive : other === exclusive) other.checked = false;
    });
  });
});
// After a refused submission, start at the list of what to correct.
document.getElementById("error-summary")?.focus();
