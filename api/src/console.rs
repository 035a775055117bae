//! The operator console: `GET /` and its files under `/console/`, built into the
//! binary so Limelight needs nothing else on a venue network with no internet.
//! The files (`api/console/`) are plain HTML, CSS and JavaScript written for it;
//! the page talks to the same REST API and WebSocket as any other client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

/// What the console's pages may load: their own files, and connections back to
/// the server. No inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A file of the console: its name under `/console/`, type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: &str = include_str!("../console/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/console.js"),
    },
    Asset {
        name: "content.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/content.js"),
    },
    Asset {
        name: "tus.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/tus.js"),
    },
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../console/console.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../console/icon.svg"),
    },
];

/// The routes: `/` and `/console/{file}`, each answering 405 with `Allow` to
/// other methods.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(web::get().to(index))
            .route(web::head().to(index))
            .default_service(web::to(not_allowed)),
    )
    .service(
        web::resource("/console/{file}")
            .route(web::get().to(asset))
            .route(web::head().to(asset))
            .default_service(web::to(not_allowed)),
    );
}

async fn not_allowed() -> HttpResponse {
    crate::routes::method_not_allowed("GET, HEAD")
}

/// A tag that changes whenever the file does, for conditional requests.
fn etag(body: &str) -> String {
    // FNV-1a: enough to tell versions of one file apart.
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

fn file(req: &HttpRequest, content_type: &'static str, body: &'static str) -> HttpResponse {
    let tag = etag(body);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::ETAG, tag))
        // Always asked again, answered 304 while unchanged: an upgrade shows at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if fresh { res.finish() } else { res.body(body) }
}

async fn index(req: HttpRequest) -> HttpResponse {
    file(&req, "text/html; charset=utf-8", INDEX)
}

async fn asset(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == name.as_str()) {
        Some(a) => file(&req, a.content_type, a.body),
        None => actix_web::ResponseError::error_response(&crate::error::ApiError::new(
            limelight_shared::error::ErrorCode::NotFound,
            format!("the console has no file {name:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_served() {
        for name in ["console.js", "console.css", "icon.svg"] {
            assert!(
                INDEX.contains(&format!("/console/{name}")),
                "{name} is not on the page"
            );
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is not built in"
            );
        }
    }

    #[test]
    fn the_page_runs_no_inline_script() {
        // Every <script> loads a file; the policy would refuse anything else.
        for tag in INDEX.split("<script").skip(1) {
            let head = tag.split('>').next().unwrap_or_default();
            assert!(head.contains("src="), "inline script: <script{head}>");
        }
        // Nor an inline handler: ` onclick=` and the like.
        for (at, _) in INDEX.match_indices(" on") {
            let name: String = INDEX[at + 1..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            let after = INDEX[at + 1 + name.len()..].chars().next();
            assert!(after != Some('='), "inline handler {name}");
        }
    }

    #[test]
    fn a_changed_file_gets_a_new_tag() {
        assert_ne!(etag("a"), etag("b"));
        assert_eq!(etag("a"), etag("a"));
    }
}
