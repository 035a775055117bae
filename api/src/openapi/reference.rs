//! The API reference page (`GET /api/v1/docs`): the generated document rendered as
//! one HTML page on the server, so it works on a venue network with no internet.
//! No script runs in it; styles are its own.

use serde_json::Value;
use std::fmt::Write;

/// What the page's headers allow: its own inline styles, nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430}\
header{background:#141a24;color:#fff;padding:1rem 2rem}header p{margin:.3rem 0 0;color:#c7cfdb}\
main{display:grid;grid-template-columns:16rem 1fr}nav{padding:1rem;border-right:1px solid #dde2ea;\
position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto}nav a{display:block;\
color:#1d2430;text-decoration:none;padding:.1rem 0;font-size:13px}nav h3{margin:1rem 0 .3rem}\
section{padding:0 2rem}article{border:1px solid #dde2ea;border-radius:6px;margin:1rem 0;\
padding:.6rem 1rem}.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}\
.get{color:#0a7}.post{color:#06c}.put{color:#a60}.patch{color:#a60}.delete{color:#c22}\
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f7fa;padding:.6rem;\
overflow:auto;border-radius:4px}table{border-collapse:collapse}td,th{padding:.15rem .6rem;\
text-align:left;border-bottom:1px solid #eef1f5;vertical-align:top}.lock{color:#a60;font-size:13px}";

/// `s` made safe for HTML text and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A schema as a link to its component, or its JSON when it is given in place.
fn schema(s: &Value) -> String {
    match s["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        Some(name) => format!("<a href=\"#schema-{0}\"><code>{0}</code></a>", esc(name)),
        None => format!(
            "<pre>{}</pre>",
            esc(&serde_json::to_string_pretty(s).unwrap_or_default())
        ),
    }
}

fn anchor(method: &str, path: &str) -> String {
    format!("{method}-{path}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// An operation of the document: method, path and its object.
type Operation<'a> = (String, String, &'a Value);

/// The whole page for the document `doc`.
pub fn page(doc: &Value) -> String {
    let mut by_tag: Vec<(String, Vec<Operation<'_>>)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let entry = (method.clone(), path.clone(), op);
            match by_tag.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, ops)) => ops.push(entry),
                None => by_tag.push((tag, vec![entry])),
            }
        }
    }
    let mut nav = String::new();
    let mut body = String::new();
    for (tag, ops) in &by_tag {
        let _ = write!(nav, "<h3>{}</h3>", esc(tag));
        let _ = write!(body, "<h2 id=\"tag-{0}\">{0}</h2>", esc(tag));
        for (method, path, op) in ops {
            let id = anchor(method, path);
            let _ = write!(
                nav,
                "<a href=\"#{id}\"><span class=\"m {m}\">{M}</span>{p}</a>",
                m = esc(method),
                M = esc(&method.to_uppercase()),
                p = esc(path)
            );
            operation(&mut body, &id, method, path, op);
        }
    }
    let _ = write!(nav, "<h3><a href=\"#schemas\">Schemas</a></h3>");
    let _ = write!(body, "<h2 id=\"schemas\">Schemas</h2>");
    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = write!(
            body,
            "<article id=\"schema-{0}\"><h3><code>{0}</code></h3><pre>{1}</pre></article>",
            esc(name),
            esc(&serde_json::to_string_pretty(s).unwrap_or_default())
        );
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Limelight API</title><style>{STYLE}</style></head><body>\
         <header><h1>{title} API {version}</h1><p>{description}</p>\
         <p>The same document as JSON: <a style=\"color:#9cf\" href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p></header>\
         <main><nav>{nav}</nav><section>{body}</section></main></body></html>",
        title = esc(doc["info"]["title"].as_str().unwrap_or("Limelight")),
        version = esc(doc["info"]["version"].as_str().unwrap_or("")),
        description = esc(doc["info"]["description"].as_str().unwrap_or("")),
    )
}

fn operation(out: &mut String, id: &str, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<article id=\"{id}\"><h3><span class=\"m {m}\">{M}</span><code>{p}</code></h3><p>{s}</p>",
        m = esc(method),
        M = esc(&method.to_uppercase()),
        p = esc(path),
        s = esc(op["summary"].as_str().unwrap_or(""))
    );
    if op["security"].is_array() {
        out.push_str(
            "<p class=\"lock\">Needs <code>Authorization: Bearer &lt;token&gt;</code></p>",
        );
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str(
            "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>schema</th><th></th></tr>",
        );
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(p["name"].as_str().unwrap_or("")),
                if p["required"] == true { " *" } else { "" },
                esc(p["in"].as_str().unwrap_or("")),
                schema(&p["schema"]),
                esc(p["description"].as_str().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    let content = &op["requestBody"]["content"]["application/json"];
    if content.is_object() {
        let required = if op["requestBody"]["required"] == true {
            ""
        } else {
            " (optional)"
        };
        let _ = write!(out, "<h4>Body{required}</h4>{}", schema(&content["schema"]));
        if !content["example"].is_null() {
            let _ = write!(
                out,
                "<pre>{}</pre>",
                esc(&serde_json::to_string_pretty(&content["example"]).unwrap_or_default())
            );
        }
    }
    out.push_str("<h4>Answers</h4><table>");
    for (status, answer) in op["responses"].as_object().into_iter().flatten() {
        let s = answer["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| schema(&c["schema"]))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{s}</td></tr>",
            esc(status),
            esc(answer["description"].as_str().unwrap_or(""))
        );
    }
    out.push_str("</table></article>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let doc = serde_json::json!({
            "info": {"title": "T", "version": "1", "description": "<b>"},
            "paths": {"/x/{id}": {"get": {"tags": ["t"], "summary": "a <script>", "responses": {}}}},
            "components": {"schemas": {}}
        });
        let html = page(&doc);
        assert!(
            html.contains("a &lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
        assert!(html.contains("href=\"#get--x--id-\""), "{html}");
    }
}
