// The API reference: renders /api/openapi.json (the document the server
// generates from its code) and sends requests with an API token or the
// UI's session (with its CSRF token). Built into the binary; fetches
// nothing from anywhere else.
"use strict";

const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("certmgr-token") || "";
tokenInput.addEventListener("change", () => {
  sessionStorage.setItem("certmgr-token", tokenInput.value.trim());
  whoAmI();
});

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

let csrf = null;

async function whoAmI() {
  const who = document.getElementById("who");
  const answer = await send("GET", "/api/session");
  if (answer.ok) {
    const me = await answer.json();
    csrf = me.csrf_token || null;
    who.textContent = `${me.name} (${me.role}${me.scope ? `, ${me.scope.key}=${me.scope.value}` : ""})`;
  } else {
    csrf = null;
    who.textContent = "not signed in: give an API token, or sign in to the UI";
  }
}

function send(method, url, body) {
  const headers = {};
  const token = tokenInput.value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, { method, headers, body, credentials: "same-origin" });
}

function resolve(doc, schema) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) {
    schema = doc.components.schemas[schema.$ref.split("/").pop()];
  }
  return schema || {};
}

// A JSON value of the schema's shape, to start a request body from.
function example(doc, schema, depth) {
  schema = resolve(doc, schema);
  if (depth > 4) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.examples && schema.examples.length) return schema.examples[0];
  if (schema.enum) return schema.enum[0];
  const options = schema.oneOf || schema.anyOf;
  if (options) return example(doc, options.find((o) => o.type !== "null") || options[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const out = {};
      for (const [name, property] of Object.entries(schema.properties || {})) {
        if ((schema.required || []).includes(name)) out[name] = example(doc, property, depth + 1);
      }
      return out;
    }
    case "array": return [];
    case "integer": case "number": return 0;
    case "boolean": return false;
    case "string": return "";
    default: return null;
  }
}

function describe(doc, schema) {
  schema = resolve(doc, schema);
  if (!schema.properties) return null;
  const required = schema.required || [];
  return el("table", {},
    el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "")),
    Object.entries(schema.properties).map(([name, property]) => {
      const p = resolve(doc, property);
      const type = property.$ref ? property.$ref.split("/").pop() : [].concat(p.type || "object").join(" | ");
      return el("tr", {}, el("td", {}, el("code", {}, name), required.includes(name) ? " *" : ""),
        el("td", {}, type), el("td", {}, p.description || ""));
    }));
}

function operation(doc, path, method, op) {
  const params = op.parameters || [];
  const inputs = {};
  const bodySchema = op.requestBody && op.requestBody.content["application/json"] &&
    op.requestBody.content["application/json"].schema;
  const textarea = bodySchema
    ? el("textarea", {}, JSON.stringify(example(doc, bodySchema, 0), null, 2)) : null;
  const output = el("pre", {});
  const status = el("span", { class: "status" });
  const button = el("button", { type: "button" }, "Send");
  button.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const p of params) {
      const value = inputs[p.name].value;
      if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(value));
      else if (value !== "") query.set(p.name, value);
    }
    if ([...query].length) url += `?${query}`;
    status.textContent = "…";
    const answer = await send(method.toUpperCase(), url, textarea ? textarea.value : undefined);
    status.textContent = `${answer.status} ${answer.statusText}`;
    const text = await answer.text();
    try { output.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch { output.textContent = text; }
  });
  const description = (op.description || op.summary || "").split("\n")[0];
  return el("details", {},
    el("summary", {}, el("span", { class: `method ${method.toUpperCase()}` }, method.toUpperCase()),
      el("code", {}, path), el("span", { class: "what" }, description)),
    el("div", { class: "body" },
      op.description ? el("p", {}, op.description) : null,
      params.length ? el("div", { class: "try" }, el("h4", {}, "Parameters"),
        el("table", {}, params.map((p) => {
          inputs[p.name] = el("input", { "aria-label": p.name });
          return el("tr", {}, el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
            el("td", {}, p.in), el("td", {}, inputs[p.name]), el("td", {}, p.description || ""));
        }))) : null,
      bodySchema ? [el("h4", {}, "Body"), describe(doc, bodySchema), textarea] : null,
      el("h4", {}, "Answers"),
      el("ul", {}, Object.entries(op.responses || {}).map(([code, r]) => {
        const schema = r.content && Object.values(r.content)[0] && Object.values(r.content)[0].schema;
        const name = schema ? (schema.$ref || (schema.items && schema.items.$ref) || "") : "";
        return el("li", {}, el("code", {}, code), " ", r.description || "", name ? ` (${name.split("/").pop()})` : "");
      })),
      el("p", {}, button, " ", status), output));
}

async function render() {
  const doc = await (await fetch("/api/openapi.json")).json();
  document.title = `${doc.info.title} API reference`;
  const byTag = new Map((doc.tags || []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "delete", "patch"]) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(doc, path, method, item[method]));
    }
  }
  const main = document.getElementById("operations");
  const nav = document.getElementById("tags");
  main.replaceChildren(el("p", {}, doc.info.description || ""));
  for (const [tag, operations] of byTag) {
    if (!operations.length) continue;
    const about = (doc.tags || []).find((t) => t.name === tag);
    main.append(el("h2", { id: `tag-${tag}` }, tag), about && about.description ? el("p", {}, about.description) : null, operations);
    nav.append(el("a", { href: `#tag-${tag}` }, tag));
  }
}

whoAmI();
render();
