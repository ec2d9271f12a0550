// The monthly entry grid (templates/entry/grid.html), made to work like Excel:
// - arrows move between cells (up/down always; left/right once the caret is at the text's
//   start/end, or the whole text is selected), Tab/Shift-Tab move right/left and wrap to
//   the next/previous row, Enter/Shift-Enter move down/up and never submit the form; while
//   an input method is composing, Enter and the arrows are left to it;
// - a block copied from Excel (tab-separated columns, one line per row, CRLF or LF, often a
//   trailing newline) pasted into a cell fills the cells from it rightwards and downwards,
//   skipping locked cells and stopping at the grid's edge;
// - each cell is saved when the person leaves it (or right after a paste), one cell per
//   request, in order, with the version the page holds; the cell then shows its state:
//   saving, saved, conflict (the other person's value stays unsaved over, the typed text
//   stays), warning (a button saves it confirmed), or an error.
// Without this script the form still saves the whole grid with 「まとめて保存」.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Fiscal order of the month columns and of the twelve versions in a row's hidden field.
  const MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3];
  const NAME = /^c(\d+)_(\d+)$/;

  function start() {
    const table = document.querySelector("table.entry-grid[data-save-url]");
    if (!table) return;
    const form = table.closest("form");
    const url = table.dataset.saveUrl;
    const grid = []; // grid[row][column] = input
    const where = new Map(); // input → [row, column]
    for (const tr of table.querySelectorAll("tbody tr")) {
      const inputs = Array.from(tr.querySelectorAll("td.cell input"));
      if (!inputs.length) continue;
      inputs.forEach((input, column) => {
        where.set(input, [grid.length, column]);
        input.dataset.saved = input.value;
      });
      grid.push(inputs);
    }
    let queue = Promise.resolve();

    const cellAt = (row, column) => (grid[row] || [])[column] || null;

    function ids(input) {
      const match = NAME.exec(input.name);
      return { kpi: match[1], month: Number(match[2]) };
    }

    function versionsField(input) {
      return form.elements.namedItem("v" + ids(input).kpi);
    }

    function versionOf(input) {
      const versions = versionsField(input).value.split(",");
      return Number(versions[MONTHS.indexOf(ids(input).month)]) || 0;
    }

    function setVersion(input, version) {
      // The whole-grid form carries the versions too: keep it in step with what was saved.
      const field = versionsField(input);
      const versions = field.value.split(",");
      versions[MONTHS.indexOf(ids(input).month)] = String(version);
      field.value = versions.join(",");
    }

    function move(target) {
      target.focus();
      target.select();
    }

    function atStart(input) {
      return input.selectionStart === 0 && (input.selectionEnd === 0 || wholeSelected(input));
    }

    function atEnd(input) {
      const end = input.value.length;
      return (input.selectionStart === end && input.selectionEnd === end) || wholeSelected(input);
    }

    function wholeSelected(input) {
      return input.selectionStart === 0 && input.selectionEnd === input.value.length;
    }

    function neighbour(row, column, step) {
      if (cellAt(row, column + step)) return cellAt(row, column + step);
      const next = grid[row + step];
      return next ? next[step > 0 ? 0 : next.length - 1] : null;
    }

    table.addEventListener("keydown", (event) => {
      const input = event.target;
      if (!where.has(input) || event.isComposing || event.keyCode === 229) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const [row, column] = where.get(input);
      let target = null;
      switch (event.key) {
        case "Enter":
          event.preventDefault(); // never submits: the cell saves when it is left
          target = cellAt(row + (event.shiftKey ? -1 : 1), column);
          if (!target) commit(input);
          break;
        case "ArrowUp":
          target = cellAt(row - 1, column);
          break;
        case "ArrowDown":
          target = cellAt(row + 1, column);
          break;
        case "ArrowLeft":
          if (!event.shiftKey && atStart(input)) target = cellAt(row, column - 1);
          break;
        case "ArrowRight":
          if (!event.shiftKey && atEnd(input)) target = cellAt(row, column + 1);
          break;
        case "Tab":
          target = neighbour(row, column, event.shiftKey ? -1 : 1);
          break;
        case "Escape":
          if (input.value !== input.dataset.saved) {
            event.preventDefault();
            input.value = input.dataset.saved;
            input.select();
          }
          break;
      }
      if (target) {
        event.preventDefault();
        move(target);
      }
    });

    table.addEventListener("change", (event) => {
      if (where.has(event.target)) commit(event.target);
    });

    table.addEventListener("paste", (event) => {
      const input = event.target;
      if (!where.has(input) || !event.clipboardData) return;
      const text = event.clipboardData.getData("text/plain").replace(/\r\n?/g, "\n");
      const block = text.endsWith("\n") ? text.slice(0, -1) : text;
      if (!block.includes("\t") && !block.includes("\n")) return; // one value: the browser pastes it
      event.preventDefault();
      const [row, column] = where.get(input);
      const filled = [];
      block.split("\n").forEach((line, down) => {
        line.split("\t").forEach((value, right) => {
          const cell = cellAt(row + down, column + right);
          if (!cell || cell.readOnly) return;
          cell.value = value.trim();
          filled.push(cell);
        });
      });
      filled.forEach(commit);
    });

    // --- saving ---------------------------------------------------------------------------

    function commit(input) {
      if (input.readOnly) return;
      const text = input.value;
      if (text === input.dataset.saved || text === input.dataset.pending) return;
      save(input, {});
    }

    function save(input, options) {
      const text = input.value;
      input.dataset.pending = text;
      show(input, "saving");
      // One request at a time, in order: a cell saved twice sends the version of the first.
      queue = queue.then(() => send(input, text, options)).catch((error) => console.error(error));
    }

    async function send(input, text, options) {
      const { kpi, month } = ids(input);
      const version = options.version === undefined ? versionOf(input) : options.version;
      const body = new URLSearchParams({ kpi, month, text, version, reason: reason() });
      if (options.confirm) body.set("confirm_warnings", "on");
      let answer;
      try {
        const response = await fetch(url, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        });
        answer = await response.json();
      } catch (error) {
        answer = {
          state: "error",
          message: "保存できませんでした（通信できないか、応答を読めません）。もう一度保存してください。",
        };
      }
      delete input.dataset.pending;
      settle(input, text, answer);
    }

    function settle(input, text, answer) {
      if (answer.state === "saved") {
        setVersion(input, answer.version);
        input.dataset.saved = answer.text;
        if (input.value === text) input.value = answer.text; // as stored (spaces trimmed)
        // The row's year-to-date figure: the text after its label.
        input.closest("tr").querySelector("td.ytd").lastChild.textContent = " " + answer.ytd;
        // Typed on meanwhile: that text is saved when the person leaves the cell.
        show(input, input.value === answer.text ? "saved" : "");
        return;
      }
      if (answer.state === "conflict") {
        show(input, "conflict", answer.message, [
          ["入力した値で上書き", () => save(input, { version: answer.version }), true],
          [
            "相手の値にする",
            () => {
              setVersion(input, answer.version);
              input.value = input.dataset.saved = answer.text;
              show(input, "");
              move(input);
            },
          ],
        ]);
      } else if (answer.state === "warning") {
        show(input, "warning", answer.message, [
          ["警告を確認して保存", () => save(input, { confirm: true }), true],
        ]);
      } else {
        const retry = answer.state === "error" ? [["もう一度保存", () => save(input, {})]] : [];
        show(input, "error", answer.message || "保存できませんでした。", retry);
      }
    }

    const STATES = ["saving", "saved", "conflict", "warning", "error"];

    function show(input, state, message, actions) {
      const cell = input.closest("td");
      STATES.forEach((name) => cell.classList.toggle("is-" + name, name === state));
      cell.querySelector(".cell-note")?.remove();
      cell.querySelector(".cell-mark")?.remove();
      input.removeAttribute("aria-invalid");
      if (state === "saving" || state === "saved") {
        const mark = document.createElement("span");
        mark.className = "cell-mark";
        mark.textContent = state === "saving" ? "…" : "✓";
        mark.title = state === "saving" ? "保存中" : "保存しました";
        cell.appendChild(mark);
      }
      if (!message) return;
      input.setAttribute("aria-invalid", "true");
      const note = document.createElement("div");
      note.className = "cell-note";
      note.setAttribute("role", "alert");
      const text = document.createElement("p");
      text.textContent = input.getAttribute("aria-label") + ": " + message;
      note.appendChild(text);
      for (const [label, action, primary] of actions || []) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        if (primary) button.className = "primary";
        button.addEventListener("click", action);
        note.appendChild(button);
      }
      cell.appendChild(note);
    }

    function reason() {
      const field = form.querySelector('input[name="reason"]');
      return field ? field.value : "";
    }

    function csrfToken() {
      return form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
