// A small offline renderer of /openapi.json (no CDN): each operation, its parameters and schemas.
(function () {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function resolve(doc, schema) {
    if (schema && schema.$ref) {
      var name = schema.$ref.split("/").pop();
      return (doc.components && doc.components.schemas && doc.components.schemas[name]) || schema;
    }
    return schema;
  }
  fetch("/openapi.json", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (doc) {
      var root = document.getElementById("apidocs");
      root.textContent = "";
      Object.keys(doc.paths || {}).sort().forEach(function (path) {
        var ops = doc.paths[path];
        Object.keys(ops).forEach(function (method) {
          var op = ops[method];
          var box = el("details", "op");
          var head = el("summary");
          head.appendChild(el("span", "method", method.toUpperCase()));
          head.appendChild(el("code", null, path));
          if (op.summary) head.appendChild(el("span", "summary", " — " + op.summary));
          box.appendChild(head);
          if (op.description) box.appendChild(el("p", null, op.description));
          (op.parameters || []).forEach(function (p) {
            box.appendChild(el("div", "param", p.in + " " + p.name + (p.required ? " *" : "")));
          });
          var body = op.requestBody && op.requestBody.content &&
            op.requestBody.content["application/json"];
          if (body) {
            box.appendChild(el("h4", null, "Request"));
            box.appendChild(el("pre", null, JSON.stringify(resolve(doc, body.schema), null, 2)));
          }
          Object.keys(op.responses || {}).forEach(function (code) {
            var c = op.responses[code].content;
            var s = c && c["application/json"] && c["application/json"].schema;
            box.appendChild(el("h4", null, "Response " + code));
            if (s) box.appendChild(el("pre", null, JSON.stringify(resolve(doc, s), null, 2)));
          });
          root.appendChild(box);
        });
      });
    });
})();
