//! The API reference page at `/api/docs`, written from the OpenAPI document on the server: every
//! operation with its parameters, body and answers, then every schema. Plain HTML with no script
//! or outside asset, so it adds nothing to what the app's pages download.

use std::fmt::Write;

use serde_json::Value;
use utoipa::openapi::OpenApi;

pub const DOCUMENT_PATH: &str = "/api/openapi.json";

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn render(document: &OpenApi) -> String {
    let doc = serde_json::to_value(document).unwrap_or(Value::Null);
    let mut html = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} API reference</title></head><body><main>\
         <h1>{title} API reference</h1><p>{}</p>\
         <p>OpenAPI {} document: <a href=\"{}\">{}</a>.</p>",
        escape(&text(&doc["info"]["description"])),
        escape(&text(&doc["openapi"])),
        DOCUMENT_PATH,
        DOCUMENT_PATH,
    );
    html.push_str("<h2>Operations</h2>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    operation_html(&mut html, method, path, operation);
                }
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                html,
                "<section id=\"schema-{name}\"><h3>{name}</h3><pre>{}</pre></section>",
                escape(&pretty)
            );
        }
    }
    html.push_str("</main></body></html>");
    html
}

fn operation_html(html: &mut String, method: &str, path: &str, operation: &Value) {
    let _ = write!(
        html,
        "<section><h3><code>{} {}</code></h3><p>{}</p>",
        method.to_uppercase(),
        escape(path),
        escape(&text(&operation["description"]).replace('\n', " ")),
    );
    if let Some(parameters) = operation["parameters"].as_array() {
        html.push_str("<h4>Parameters</h4><ul>");
        for parameter in parameters {
            let _ = write!(
                html,
                "<li><code>{}</code> ({}){}: {}</li>",
                escape(&text(&parameter["name"])),
                escape(&text(&parameter["in"])),
                if parameter["required"] == Value::Bool(true) {
                    ", required"
                } else {
                    ""
                },
                escape(&text(&parameter["description"])),
            );
        }
        html.push_str("</ul>");
    }
    if let Some(content) = operation["requestBody"]["content"].as_object() {
        html.push_str("<h4>Body</h4><ul>");
        for (media, body) in content {
            let _ = write!(
                html,
                "<li>{}: {}</li>",
                escape(media),
                schema_link(&body["schema"])
            );
        }
        html.push_str("</ul>");
    }
    if let Some(responses) = operation["responses"].as_object() {
        html.push_str("<h4>Answers</h4><ul>");
        for (status, response) in responses {
            let body = response["content"]
                .as_object()
                .and_then(|c| c.iter().next())
                .map(|(media, body)| format!(" ({}: {})", escape(media), schema_link(&body["schema"])))
                .unwrap_or_default();
            let _ = write!(
                html,
                "<li><strong>{status}</strong> {}{body}</li>",
                escape(&text(&response["description"]))
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</section>");
}

/// A `$ref` as a link to its schema; arrays of one; anything else by its type.
fn schema_link(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if schema["type"] == "array" {
        return format!("array of {}", schema_link(&schema["items"]));
    }
    escape(&serde_json::to_string(schema).unwrap_or_default())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn escape(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_lists_every_operation_and_escapes_text() {
        let page = super::render(&super::super::openapi::document());
        assert!(page.contains("<code>POST /api/login</code>"));
        assert!(page.contains("<code>GET /api/live</code>"));
        assert!(page.contains("id=\"schema-ServerMessage\""));
        assert!(!page.contains("<script"));
        assert_eq!(super::escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }
}
