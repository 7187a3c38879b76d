// Form field builders following the GOV.UK patterns: label (optionally the page heading),
// hint, inline error message linked with aria-describedby, and the control itself.

import { h, setDescribedBy, visuallyHidden } from "./dom.js";
import { T } from "./texts.js";

// Radio ids must be valid and stable: q-{id}-{value}, whitespace replaced.
export function optionId(prefix, value) {
  return `${prefix}-${String(value).replace(/\s+/g, "_")}`;
}

function errorMessage(id, message) {
  return h("p", { class: "error-message", id }, visuallyHidden(T.errorHidden + " "), message);
}

// container: where the message goes (before `before`); toggle: the element marked as erroneous.
function makeSetError(container, before, describedEls, errorId, toggle = container) {
  let current = null;
  return (message) => {
    if (current) {
      current.remove();
      current = null;
    }
    toggle.classList.toggle("form-group--error", Boolean(message));
    for (const el of describedEls) {
      if (message) {
        setDescribedBy(el, [errorId]);
        if (el.tagName !== "FIELDSET") el.setAttribute("aria-invalid", "true");
      } else {
        setDescribedBy(el, [], [errorId]);
        el.removeAttribute("aria-invalid");
      }
    }
    if (message) {
      current = errorMessage(errorId, message);
      container.insertBefore(current, before);
    }
  };
}

// Hint content: a string, or several sentences shown one per line.
function hintContent(hint) {
  return Array.isArray(hint) ? hint.map((line) => h("span", { class: "hint__line" }, line)) : hint;
}

function labelNode(id, text, isHeading, headingProps) {
  if (isHeading) {
    return h("h1", { class: "label-wrapper", tabindex: "-1", ...headingProps },
      h("label", { class: "label label--l", for: id }, text));
  }
  return h("label", { class: "label", for: id }, text);
}

// Text-like input or textarea.
export function textField(o) {
  const hintId = o.hint ? `${o.id}-hint` : null;
  const errorId = `${o.id}-error`;
  const common = {
    id: o.id,
    name: o.name || o.id,
    class: `input${o.width ? " input--" + o.width : ""}`,
    autocomplete: o.autocomplete || "off",
    inputmode: o.inputmode,
    maxlength: o.maxlength,
    spellcheck: o.spellcheck === false ? "false" : undefined,
    "aria-describedby": hintId || undefined,
    min: o.min || undefined,
    max: o.max || undefined,
  };
  let input;
  if (o.multiline) {
    input = h("textarea", { ...common, class: "textarea", rows: o.rows || 5 });
    input.value = o.value || "";
  } else {
    input = h("input", { ...common, type: o.type || "text", value: o.value || "" });
  }
  const group = h("div", { class: "form-group" });
  group.append(labelNode(o.id, o.label, o.labelIsHeading, o.headingProps));
  if (o.hint) group.append(h("div", { class: "hint", id: hintId }, hintContent(o.hint)));
  let control = input;
  if (o.suffix) {
    control = h("div", { class: "input-wrapper" }, input,
      h("div", { class: "input-suffix", "aria-hidden": "true" }, o.suffix));
  }
  group.append(control);
  const setError = makeSetError(group, control, [input], errorId);
  return { el: group, input, focusId: o.id, setError, getValue: () => input.value, setValue: (v) => { input.value = v; } };
}

// Radios inside a fieldset. options: [{value, label, hint}].
export function radiosField(o) {
  const hintId = o.hint ? `${o.idPrefix}-hint` : null;
  const errorId = `${o.idPrefix}-error`;
  const fieldset = h("fieldset", { class: "fieldset", "aria-describedby": hintId || undefined });
  const legend = h("legend", { class: `fieldset__legend${o.legendIsHeading ? " fieldset__legend--l" : ""}` });
  if (o.legendIsHeading) legend.append(h("h1", { class: "fieldset__heading", tabindex: "-1", ...o.headingProps }, o.legend));
  else legend.append(o.legend);
  fieldset.append(legend);
  if (o.hint) fieldset.append(h("div", { class: "hint", id: hintId }, hintContent(o.hint)));
  const list = h("div", { class: `radios${o.inline ? " radios--inline" : ""}` });
  const inputs = [];
  for (const opt of o.options) {
    const id = optionId(o.idPrefix, opt.value);
    const optHintId = opt.hint ? `${id}-hint` : null;
    const input = h("input", {
      class: "radios__input",
      type: "radio",
      id,
      name: o.name,
      value: opt.value,
      checked: String(o.value ?? "") === String(opt.value),
      "aria-describedby": optHintId || undefined,
    });
    inputs.push(input);
    list.append(h("div", { class: "radios__item" },
      input,
      h("label", { class: "label radios__label", for: id }, opt.label),
      opt.hint ? h("div", { class: "hint radios__hint", id: optHintId }, opt.hint) : null));
  }
  fieldset.append(list);
  const group = h("div", { class: "form-group" }, fieldset);
  const setError = makeSetError(fieldset, list, [fieldset], errorId, group);
  return {
    el: group,
    inputs,
    focusId: inputs.length ? inputs[0].id : o.idPrefix,
    setError,
    getValue: () => (inputs.find((i) => i.checked) || { value: "" }).value,
    setValue: (v) => { for (const i of inputs) i.checked = i.value === String(v ?? ""); },
  };
}

// Native <select> for long option lists.
export function selectField(o) {
  const hintId = o.hint ? `${o.id}-hint` : null;
  const errorId = `${o.id}-error`;
  const select = h("select", { id: o.id, name: o.name || o.id, class: "select", "aria-describedby": hintId || undefined });
  select.append(h("option", { value: "" }, T.wizard.choose));
  for (const opt of o.options) {
    select.append(h("option", { value: opt.value, selected: String(o.value ?? "") === String(opt.value) }, opt.label));
  }
  const group = h("div", { class: "form-group" });
  group.append(labelNode(o.id, o.label, o.labelIsHeading, o.headingProps));
  if (o.hint) group.append(h("div", { class: "hint", id: hintId }, hintContent(o.hint)));
  group.append(select);
  const setError = makeSetError(group, select, [select], errorId);
  const setValue = (v) => {
    select.value = String(v ?? "");
    if (select.selectedIndex < 0) select.value = "";
  };
  return { el: group, input: select, focusId: o.id, setError, getValue: () => select.value, setValue };
}
