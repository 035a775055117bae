//! Content through the real server: tus uploads (cut, resumed, refused) and the
//! assets they become.

use anyhow::{Result, ensure};
use limelight_tests::{
    TestApp, Tus, connect, next_where, png_header_claiming, png_image, sha256_hex, tus_metadata,
};
use std::time::Duration;

/// A 64 x 48 PNG with a different colour on every pixel: big enough to cut in two.
fn picture() -> Result<Vec<u8>> {
    png_image(64, 48, |x, y| {
        [(x * 4) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8]
    })
}

#[actix_rt::test]
async fn a_tus_upload_cut_mid_file_resumes_from_head_and_becomes_a_pending_asset() -> Result<()> {
    let app = TestApp::spawn().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);

    let options = tus.options().await?;
    ensure!(options.status == 204, "{}", options.status);
    ensure!(options.header("tus-version").as_deref() == Some("1.0.0"));
    ensure!(options.header("tus-max-size").as_deref() == Some("2147483648"));
    ensure!(
        options
            .header("tus-extension")
            .is_some_and(|e| e.contains("creation")
                && e.contains("termination")
                && e.contains("expiration")),
        "{:?}",
        options.header("tus-extension")
    );

    let bytes = picture()?;
    let meta = tus_metadata(&[
        ("name", "Sponsor banner"),
        ("filename", "banner.png"),
        ("filetype", "image/png"),
    ]);
    let created = tus.create(bytes.len() as u64, &meta).await?;
    ensure!(created.status == 201, "{} {}", created.status, created.body);
    ensure!(created.header("tus-resumable").as_deref() == Some("1.0.0"));
    ensure!(
        created
            .header("upload-expires")
            .is_some_and(|e| e.ends_with(" GMT"))
    );
    let path = created.header("location").unwrap_or_default();
    ensure!(path.starts_with("/api/v1/uploads/"), "{path}");

    // The connection drops a third of the way through a chunk of two thirds.
    let third = bytes.len() / 3;
    tus.cut_patch(&path, 0, &bytes[..third], 2 * third).await?;
    // The server keeps what came once it sees the connection gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut head = tus.head(&path).await?;
    while head.offset()? < third as u64 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        head = tus.head(&path).await?;
    }
    ensure!(head.status == 200, "{} {}", head.status, head.body);
    ensure!(head.header("upload-length") == Some(bytes.len().to_string()));
    ensure!(head.header("upload-metadata").as_deref() == Some(meta.as_str()));
    ensure!(head.header("cache-control").as_deref() == Some("no-store"));
    let kept = head.offset()?;
    ensure!(
        kept == third as u64,
        "kept {kept} of the {third} bytes that came"
    );

    // A chunk from the wrong offset changes nothing.
    let wrong = tus
        .patch(&path, kept + 10, &bytes[kept as usize + 10..])
        .await?;
    ensure!(
        wrong.status == 409 && wrong.code() == "offset_mismatch",
        "{} {}",
        wrong.status,
        wrong.body
    );
    ensure!(tus.head(&path).await?.offset()? == kept);

    // Resumed from HEAD's offset, the rest completes it.
    let done = tus.patch(&path, kept, &bytes[kept as usize..]).await?;
    ensure!(done.status == 204, "{} {}", done.status, done.body);
    ensure!(done.offset()? == bytes.len() as u64);
    let (status, upload) = app.call("GET", &path, Some(&marketing), None).await?;
    ensure!(
        status == 200 && upload["offset"] == bytes.len(),
        "{status} {upload}"
    );
    let asset = upload["asset"].as_i64().unwrap_or_default();
    ensure!(asset > 0 && upload["version"] == 1, "{upload}");

    let (status, body) = app
        .call(
            "GET",
            &format!("/api/v1/assets/{asset}"),
            Some(&marketing),
            None,
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let v = &body["versions"][0];
    ensure!(
        body["name"] == "Sponsor banner" && body["live_version"].is_null(),
        "{body}"
    );
    ensure!(
        v["sha256"] == sha256_hex(&bytes) && v["size"] == bytes.len(),
        "{v}"
    );
    ensure!(
        v["media_type"] == "image/png" && v["kind"] == "image",
        "{v}"
    );
    ensure!(v["width"] == 64 && v["height"] == 48, "{v}");
    ensure!(v["status"] == "pending" && v["uploaded_by"] == "mk", "{v}");
    let (status, all) = app
        .call("GET", "/api/v1/assets", Some(&marketing), None)
        .await?;
    ensure!(
        status == 200 && all.as_array().map(Vec::len) == Some(1),
        "{status} {all}"
    );

    // The bytes are stored once, under their hash.
    let sha = sha256_hex(&bytes);
    let stored = app
        .env
        .dir
        .path()
        .join("content/assets")
        .join(&sha[..2])
        .join(&sha);
    ensure!(std::fs::read(&stored)? == bytes, "{}", stored.display());
    let uploads_dir = app.env.dir.path().join("content/uploads");
    ensure!(
        std::fs::read_dir(&uploads_dir)?.next().is_none(),
        "the upload's own file is gone"
    );
    Ok(())
}

#[actix_rt::test]
async fn a_second_upload_to_an_asset_is_its_next_version_and_progress_reaches_the_uploaders_console()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let first = png_image(4, 4, |_, _| [255, 0, 0])?;
    let path = tus
        .created(first.len() as u64, &tus_metadata(&[("name", "Logo")]))
        .await?;
    ensure!(tus.patch(&path, 0, &first).await?.status == 204);
    let (_, upload) = app.call("GET", &path, Some(&marketing), None).await?;
    let asset = upload["asset"].as_i64().unwrap_or_default();

    let mut ws = connect(&app, &marketing).await?;
    let second = png_image(4, 4, |_, _| [0, 0, 255])?;
    let meta = tus_metadata(&[("asset", &asset.to_string())]);
    let path = tus.created(second.len() as u64, &meta).await?;
    ensure!(tus.patch(&path, 0, &second).await?.status == 204);
    let event = next_where(&mut ws, "the upload's progress", |m| {
        m["type"] == "upload_progress" && m["upload"]["asset"] == asset
    })
    .await?;
    ensure!(
        event["upload"]["version"] == 2 && event["upload"]["offset"] == second.len(),
        "{event}"
    );

    let (_, body) = app
        .call(
            "GET",
            &format!("/api/v1/assets/{asset}"),
            Some(&marketing),
            None,
        )
        .await?;
    let versions = body["versions"].as_array().cloned().unwrap_or_default();
    ensure!(versions.len() == 2 && body["name"] == "Logo", "{body}");
    ensure!(versions[1]["sha256"] == sha256_hex(&second), "{body}");

    // Adding a version to an asset that does not exist is refused at creation.
    let missing = tus.create(10, &tus_metadata(&[("asset", "999")])).await?;
    ensure!(
        missing.status == 404 && missing.code() == "unknown_asset",
        "{} {}",
        missing.status,
        missing.body
    );
    Ok(())
}

#[actix_rt::test]
async fn bad_uploads_are_refused_before_harm() -> Result<()> {
    let app = TestApp::spawn().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let uploads_dir = app.env.dir.path().join("content/uploads");

    // A PNG declaring 100,000 x 100,000 pixels: refused from its first bytes.
    let claim = png_header_claiming(100_000, 100_000);
    let path = tus.created(1 << 20, "").await?;
    let huge = tus.patch(&path, 0, &claim).await?;
    ensure!(
        huge.status == 422 && huge.code() == "invalid_media",
        "{} {}",
        huge.status,
        huge.body
    );
    ensure!(huge.body.contains("100000 x 100000"), "{}", huge.body);
    ensure!(
        tus.head(&path).await?.status == 404,
        "the refused upload is gone"
    );

    // A truncated PNG: refused when its last byte comes, and removed.
    let whole = picture()?;
    let cut = &whole[..whole.len() - 40];
    let path = tus.created(cut.len() as u64, "").await?;
    let truncated = tus.patch(&path, 0, cut).await?;
    ensure!(
        truncated.status == 422 && truncated.code() == "invalid_media",
        "{} {}",
        truncated.status,
        truncated.body
    );
    ensure!(tus.head(&path).await?.status == 404);

    // Not an image at all: 415 from the first bytes; so is a declared non-image type.
    let path = tus.created(100, "").await?;
    let html = tus.patch(&path, 0, &[b'<'; 100]).await?;
    ensure!(
        html.status == 415 && html.code() == "unsupported_media_type",
        "{} {}",
        html.status,
        html.body
    );
    let declared = tus
        .create(100, &tus_metadata(&[("filetype", "text/html")]))
        .await?;
    ensure!(
        declared.status == 415,
        "{} {}",
        declared.status,
        declared.body
    );

    // A chunk sent as anything but application/offset+octet-stream: 415.
    let path = tus.created(whole.len() as u64, "").await?;
    let typed = tus
        .patch_with(
            &path,
            0,
            &whole[..10],
            &[("Content-Type", "application/json")],
        )
        .await?;
    ensure!(typed.status == 415, "{} {}", typed.status, typed.body);

    // Over Tus-Max-Size: 413; no tus version: 412 with Tus-Version.
    let big = tus.create(3 << 30, "").await?;
    ensure!(
        big.status == 413 && big.code() == "payload_too_large",
        "{} {}",
        big.status,
        big.body
    );
    let (status, _) = app
        .call_raw(
            "POST",
            "/api/v1/uploads",
            Some(&marketing),
            "application/offset+octet-stream",
            Vec::new(),
        )
        .await?;
    ensure!(status == 412, "{status}");

    // More bytes than the upload's length: 413, and nothing is kept.
    let small = tus.created(8, "").await?;
    let over = tus.patch(&small, 0, &whole[..16]).await?;
    ensure!(over.status == 413, "{} {}", over.status, over.body);
    ensure!(tus.head(&small).await?.offset()? == 0);

    // A checksum that does not match: 460, and the chunk is not kept.
    let path = tus.created(whole.len() as u64, "").await?;
    let bad_sum = tus
        .patch_with(
            &path,
            0,
            &whole[..100],
            &[(
                "Upload-Checksum",
                "sha256 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            )],
        )
        .await?;
    ensure!(
        bad_sum.status == 460 && bad_sum.code() == "checksum_mismatch",
        "{} {}",
        bad_sum.status,
        bad_sum.body
    );
    ensure!(tus.head(&path).await?.offset()? == 0);
    use base64::Engine as _;
    let good = base64::engine::general_purpose::STANDARD.encode(sha2_digest(&whole[..100]));
    let summed = tus
        .patch_with(
            &path,
            0,
            &whole[..100],
            &[("Upload-Checksum", &format!("sha256 {good}"))],
        )
        .await?;
    ensure!(
        summed.status == 204 && summed.offset()? == 100,
        "{} {}",
        summed.status,
        summed.body
    );

    // Unknown uploads: 404; another user's upload is unknown to them too.
    let unknown = tus
        .head("/api/v1/uploads/00000000000000000000000000000000")
        .await?;
    ensure!(unknown.status == 404, "{}", unknown.status);
    let other = Tus::new(app.server.addr(), &app.user("mk2", "marketing").await?);
    ensure!(other.head(&path).await?.status == 404);
    // Operators may not upload.
    let operator = Tus::new(app.server.addr(), &app.user("op", "operator").await?);
    ensure!(operator.create(10, "").await?.status == 403);

    // Ended uploads are gone with their bytes.
    ensure!(tus.delete(&path).await?.status == 204);
    ensure!(tus.head(&path).await?.status == 404);
    ensure!(
        !uploads_dir
            .join(path.rsplit('/').next().unwrap_or_default())
            .exists()
    );
    Ok(())
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

#[actix_rt::test]
async fn an_abandoned_upload_expires_answers_410_and_its_bytes_are_removed() -> Result<()> {
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let bytes = picture()?;
    let path = tus.created(bytes.len() as u64, "").await?;
    ensure!(tus.patch(&path, 0, &bytes[..100]).await?.status == 204);
    let file = app
        .env
        .dir
        .path()
        .join("content/uploads")
        .join(path.rsplit('/').next().unwrap_or_default());
    ensure!(std::fs::metadata(&file)?.len() == 100);

    time.advance(Duration::from_secs(25 * 3600));
    ensure!(tus.head(&path).await?.status == 410);
    let (status, body) = app.call("GET", &path, Some(&marketing), None).await?;
    ensure!(
        status == 410 && body["code"] == "upload_expired",
        "{status} {body}"
    );
    ensure!(tus.patch(&path, 100, &bytes[100..]).await?.status == 410);
    // The sweep removes its bytes.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while file.exists() {
        ensure!(
            std::time::Instant::now() < deadline,
            "the expired upload's file is still there"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A 40 fps `width` x `height` matrix canvas, rows from the top left, sending
/// universe 1 to `rx`; its id.
async fn matrix_canvas(
    app: &TestApp,
    admin: &str,
    name: &str,
    [width, height]: [u32; 2],
    serpentine: bool,
    rx: &limelight_tests::Receiver,
) -> Result<i64> {
    let (status, canvas) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(admin),
            Some(serde_json::json!({"name": name, "fps": 40,
                "geometry": {"kind": "matrix", "width": width, "height": height,
                             "origin": "top_left", "order": "rows", "serpentine": serpentine},
                "output": {"universe": 1, "destinations": [rx.dest()?]}})),
        )
        .await?;
    ensure!(status == 201, "{status} {canvas}");
    canvas["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no id: {canvas}"))
}

/// Where wire pixel `i` is on an 8-wide serpentine matrix.
fn serpentine_cell(i: usize) -> (usize, usize) {
    let (row, step) = (i / 8, i % 8);
    (if row % 2 == 1 { 7 - step } else { step }, row)
}

#[actix_rt::test]
async fn an_approved_image_arrives_pixel_exact_and_only_approved_versions_ever_play() -> Result<()>
{
    use limelight_tests::Receiver;
    use serde_json::json;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let mut rx = Receiver::bind().await?;
    let canvas = matrix_canvas(&app, &admin, "Art wall", [8, 4], true, &rx).await?;

    // Every pixel of the picture its own colour.
    let colour = |x: u32, y: u32| {
        [
            (x * 31 + 7) as u8,
            (y * 63 + 3) as u8,
            (x * y * 9 + 1) as u8,
        ]
    };
    let first = png_image(8, 4, colour)?;
    let asset = tus
        .upload(&first, &tus_metadata(&[("name", "Art")]))
        .await?;
    app.created(
        "/api/v1/scenes",
        &marketing,
        json!({"name": "art", "layers": [{"effect": "image", "asset": asset, "fit": "stretch"}]}),
    )
    .await?;

    // Pending: not played live, not scheduled.
    let (status, body) = app.trigger(&admin, canvas, "art").await?;
    ensure!(
        status == 409 && body["code"] == "not_approved",
        "{status} {body}"
    );
    ensure!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("no approved version")),
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/schedule",
            Some(&marketing),
            Some(
                json!({"name": "Art nights", "targets": [canvas], "priority": 5,
                "play": {"scene": "art"}, "start": {"date": "2030-01-01", "time": "20:00"},
                "end": {"duration_s": 3600}}),
            ),
        )
        .await?;
    ensure!(
        status == 409 && body["code"] == "not_approved",
        "{status} {body}"
    );

    // Marketing may not approve; a user made an approver may.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/approve"),
            Some(&marketing),
            None,
        )
        .await?;
    ensure!(status == 403, "{status}");
    let reviewer = app.user("rev", "marketing").await?;
    let (status, users) = app.call("GET", "/api/v1/users", Some(&admin), None).await?;
    let rev_id = users
        .as_array()
        .and_then(|u| u.iter().find(|u| u["username"] == "rev"))
        .map(|u| u["id"].clone())
        .unwrap_or_default();
    ensure!(status == 200, "{status}");
    let (status, user) = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{rev_id}"),
            Some(&admin),
            Some(json!({"approver": true})),
        )
        .await?;
    ensure!(status == 200 && user["approver"] == true, "{status} {user}");
    let reviewer = app.login("rev", "rev-password").await.unwrap_or(reviewer);
    let mut console = connect(&app, &admin).await?;
    let (status, approved) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/approve"),
            Some(&reviewer),
            None,
        )
        .await?;
    ensure!(
        status == 200 && approved["live_version"] == 1,
        "{status} {approved}"
    );
    ensure!(approved["versions"][0]["decided_by"] == "rev", "{approved}");
    next_where(&mut console, "the approval", |m| {
        m["type"] == "asset_changed" && m["asset"]["live_version"] == 1
    })
    .await?;

    // Approved: on the wire, pixel for pixel where the geometry puts it.
    let (status, body) = app.trigger(&admin, canvas, "art").await?;
    ensure!(status == 200, "{status} {body}");
    let expected: Vec<u8> = (0..32)
        .flat_map(|i| {
            let (x, y) = serpentine_cell(i);
            colour(x as u32, y as u32)
        })
        .collect();
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..96) == Some(&expected[..])
    })
    .await?;

    // A second version waits for review; the first keeps playing until it is approved.
    let second = png_image(8, 4, |_, _| [0, 0, 200])?;
    let meta = tus_metadata(&[("asset", &asset.to_string())]);
    ensure!(tus.upload(&second, &meta).await? == asset);
    let (status, rejected) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/reject"),
            Some(&reviewer),
            Some(json!({"reason": "too dark for the facade"})),
        )
        .await?;
    ensure!(
        status == 200 && rejected["versions"][1]["status"] == "rejected",
        "{status} {rejected}"
    );
    ensure!(
        rejected["versions"][1]["reason"] == "too dark for the facade",
        "{rejected}"
    );
    ensure!(rejected["live_version"] == 1, "{rejected}");
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/reject"),
            Some(&reviewer),
            Some(json!({"reason": " "})),
        )
        .await?;
    ensure!(status == 422, "{status} {body}");
    // Changing its mind, the reviewer approves it after all: it plays at once.
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/approve"),
            Some(&reviewer),
            Some(json!({"version": 2})),
        )
        .await?;
    ensure!(
        status == 200 && body["live_version"] == 2,
        "{status} {body}"
    );
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..3) == Some(&[0, 0, 200][..])
    })
    .await?;
    // Rolled back in one call: the first version is on the wire again.
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/rollback"),
            Some(&reviewer),
            None,
        )
        .await?;
    ensure!(
        status == 200 && body["live_version"] == 1,
        "{status} {body}"
    );
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..96) == Some(&expected[..])
    })
    .await?;
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/rollback"),
            Some(&reviewer),
            None,
        )
        .await?;
    ensure!(status == 409, "nothing before version 1: {status} {body}");
    // A scene that pins version 2 plays it while version 1 is live.
    app.created(
        "/api/v1/scenes",
        &marketing,
        json!({"name": "art-v2", "layers": [{"effect": "image", "asset": asset, "version": 2, "fit": "stretch"}]}),
    )
    .await?;
    let (status, body) = app.trigger(&admin, canvas, "art-v2").await?;
    ensure!(status == 200, "{status} {body}");
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..3) == Some(&[0, 0, 200][..])
    })
    .await?;

    // In use by a scene: it cannot be removed, and the answer names the scene.
    let (status, body) = app
        .call(
            "DELETE",
            &format!("/api/v1/assets/{asset}"),
            Some(&marketing),
            None,
        )
        .await?;
    ensure!(
        status == 409
            && body["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"art\"")),
        "{status} {body}"
    );
    let (status, audit) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await?;
    let actions: Vec<String> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    for action in [
        "upload_asset",
        "approve_asset",
        "reject_asset",
        "roll_back_asset",
        "delete_asset",
    ] {
        ensure!(
            actions.iter().any(|a| a == action),
            "{status}: {action} not in {actions:?}"
        );
    }
    Ok(())
}

#[actix_rt::test]
async fn a_message_in_the_pixel_font_reaches_the_wire_cell_for_cell() -> Result<()> {
    use limelight_tests::Receiver;
    use serde_json::json;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = matrix_canvas(&app, &admin, "Stairs", [9, 5], false, &rx).await?;

    // Outside the font, empty, or too long: refused, and nothing is stored.
    for text in [json!("Café"), json!(""), json!("x".repeat(501)), json!(7)] {
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/scenes",
                Some(&admin),
                Some(json!({"name": "bad", "layers": [
                    {"effect": "text", "text": text, "color": "#FFFFFF"}]})),
            )
            .await?;
        ensure!(
            status == 422 && body["code"] == "validation_failed",
            "{text}: {status} {body}"
        );
        ensure!(
            body["message"].as_str().is_some_and(|m| m.contains("text")),
            "{body}"
        );
    }
    let (status, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    ensure!(
        status == 200 && !scenes.to_string().contains("\"bad\""),
        "{status} {scenes}"
    );

    app.created(
        "/api/v1/scenes",
        &admin,
        json!({"name": "hi", "layers": [{"effect": "text", "text": "HI", "size": "small",
            "color": "#FF8000", "background": "#000010"}]}),
    )
    .await?;
    let (status, body) = app.trigger(&admin, canvas, "hi").await?;
    ensure!(status == 200, "{status} {body}");
    // The small font's H and I, drawn by hand, centred with a spare cell each side.
    let art = [
        ".#.#.###.",
        ".#.#..#..",
        ".###..#..",
        ".#.#..#..",
        ".#.#.###.",
    ];
    let expected: Vec<u8> = art
        .iter()
        .flat_map(|row| row.chars())
        .flat_map(|c| if c == '#' { [255, 128, 0] } else { [0, 0, 16] })
        .collect();
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..expected.len()) == Some(&expected[..])
    })
    .await?;
    Ok(())
}

#[actix_rt::test]
async fn a_template_makes_scenes_from_typed_values_and_refuses_bad_ones() -> Result<()> {
    use limelight_tests::Receiver;
    use serde_json::json;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mk", "marketing").await?;
    let operator = app.user("op", "operator").await?;
    let mut rx = Receiver::bind().await?;
    let canvas = matrix_canvas(&app, &admin, "Facade", [8, 4], false, &rx).await?;

    // Home colour on the top half, away on the bottom.
    let celebration = json!({
        "name": "Celebration",
        "description": "Two team colours",
        "parameters": [
            {"kind": "color", "name": "home", "label": "Home colour", "default": "#C8102E"},
            {"kind": "color", "name": "away", "label": "Away colour", "default": "#1E90FF"},
            {"kind": "number", "name": "level", "default": 1, "min": 0, "max": 1}
        ],
        "layers": [
            {"effect": "solid", "color": {"param": "away"}},
            {"effect": "solid", "color": {"param": "home"}, "opacity": {"param": "level"},
             "region": {"start": 0, "len": 16}}
        ]
    });
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/templates",
            Some(&operator),
            Some(celebration.clone()),
        )
        .await?;
    ensure!(
        status == 403,
        "operators do not write templates: {status} {body}"
    );
    let id = app
        .created("/api/v1/templates", &marketing, celebration)
        .await?;
    let (status, list) = app
        .call("GET", "/api/v1/templates", Some(&operator), None)
        .await?;
    ensure!(
        status == 200
            && list[0]["name"] == "Celebration"
            && list[0]["parameters"][1]["default"] == "#1E90FF",
        "{status} {list}"
    );

    // Bad templates and bad values are refused, naming what is wrong.
    for (bad, says) in [
        (
            json!({"name": "Broken", "parameters": [],
                   "layers": [{"effect": "solid", "color": {"param": "home"}}]}),
            "not declared",
        ),
        (
            json!({"name": "Broken", "parameters": [
                    {"kind": "number", "name": "level", "default": 5, "max": 1}],
                   "layers": [{"effect": "solid", "color": "#000000", "opacity": {"param": "level"}}]}),
            "between",
        ),
        (
            json!({"name": "Broken", "parameters": [
                    {"kind": "text", "name": "level", "default": "x"}],
                   "layers": [{"effect": "solid", "color": "#000000", "opacity": {"param": "level"}}]}),
            "the scene the template makes",
        ),
    ] {
        let (status, body) = app
            .call("POST", "/api/v1/templates", Some(&marketing), Some(bad))
            .await?;
        ensure!(
            status == 422
                && body["code"] == "validation_failed"
                && body["message"].as_str().is_some_and(|m| m.contains(says)),
            "{says}: {status} {body}"
        );
    }
    let path = format!("/api/v1/templates/{id}/instantiate");
    for (values, status_wanted, code, says) in [
        (json!({"home": "red"}), 422, "validation_failed", "#RRGGBB"),
        (json!({"level": 2}), 422, "validation_failed", "between"),
        (
            json!({"colour": "#000000"}),
            422,
            "validation_failed",
            "no parameter named",
        ),
    ] {
        let (status, body) = app
            .call(
                "POST",
                &path,
                Some(&marketing),
                Some(json!({"name": "Reds v Blues", "values": values})),
            )
            .await?;
        ensure!(
            status == status_wanted
                && body["code"] == code
                && body["message"].as_str().is_some_and(|m| m.contains(says)),
            "{says}: {status} {body}"
        );
    }
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/templates/999/instantiate",
            Some(&marketing),
            Some(json!({"name": "Nothing"})),
        )
        .await?;
    ensure!(
        status == 404 && body["code"] == "unknown_template",
        "{status} {body}"
    );
    let (status, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    ensure!(
        status == 200 && !scenes.to_string().contains("Reds v Blues"),
        "a refused instantiation stores nothing: {scenes}"
    );

    // Two colours given, the level left at its default: an ordinary scene.
    let (status, scene) = app
        .call(
            "POST",
            &path,
            Some(&marketing),
            Some(json!({"name": "Reds v Blues", "values": {"home": "#E00000", "away": "#0030E0"}})),
        )
        .await?;
    ensure!(
        status == 201
            && scene["layers"][1]["color"] == "#E00000"
            && scene["description"] == "Two team colours",
        "{status} {scene}"
    );
    let (status, body) = app
        .call(
            "POST",
            &path,
            Some(&marketing),
            Some(json!({"name": "Reds v Blues"})),
        )
        .await?;
    ensure!(
        status == 409 && body["code"] == "conflict",
        "{status} {body}"
    );
    let (status, body) = app.trigger(&admin, canvas, "Reds v Blues").await?;
    ensure!(status == 200, "{status} {body}");
    let expected: Vec<u8> = (0..32)
        .flat_map(|i| {
            if i < 16 {
                [0xE0, 0, 0]
            } else {
                [0, 0x30, 0xE0]
            }
        })
        .collect();
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..96) == Some(&expected[..])
    })
    .await?;

    // Templates are replaced and removed; scenes made from them stay.
    let (status, body) = app
        .call(
            "DELETE",
            &format!("/api/v1/templates/{id}"),
            Some(&marketing),
            None,
        )
        .await?;
    ensure!(status == 204, "{status} {body}");
    let (status, body) = app
        .call(
            "GET",
            &format!("/api/v1/templates/{id}"),
            Some(&marketing),
            None,
        )
        .await?;
    ensure!(
        status == 404 && body["code"] == "unknown_template",
        "{status} {body}"
    );
    let (status, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    ensure!(
        status == 200 && scenes.to_string().contains("Reds v Blues"),
        "{scenes}"
    );
    Ok(())
}

#[actix_rt::test]
async fn a_pending_image_previews_blind_on_its_canvas_and_never_reaches_the_wire() -> Result<()> {
    use futures_util::SinkExt;
    use limelight_tests::{Receiver, next_binary, next_of};
    use serde_json::json;
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let mut rx = Receiver::bind().await?;
    let canvas = matrix_canvas(&app, &admin, "Art wall", [8, 4], true, &rx).await?;
    let colour = |x: u32, y: u32| [(x * 30 + 10) as u8, (y * 60 + 5) as u8, 77];
    let asset = tus
        .upload(
            &png_image(8, 4, colour)?,
            &tus_metadata(&[("name", "Draft")]),
        )
        .await?;
    app.created(
        "/api/v1/scenes",
        &marketing,
        json!({"name": "draft", "layers": [{"effect": "image", "asset": asset, "fit": "stretch"}]}),
    )
    .await?;
    app.solid_scene(&admin, "house", "#102030").await?;
    let (status, body) = app.trigger(&admin, canvas, "house").await?;
    ensure!(status == 200, "{status} {body}");

    let mut ws = connect(&app, &admin).await?;
    let send = |v: serde_json::Value| Message::Text(v.to_string().into());
    // An unknown scene is refused and starts nothing.
    ws.send(send(
        json!({"type": "preview_scene", "request_id": "x", "canvas": canvas,
                        "scene": "nothing"}),
    ))
    .await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["code"] == "unknown_scene" && err["request_id"] == "x",
        "{err}"
    );
    ws.send(send(json!({"type": "subscribe_preview", "request_id": "p",
                        "canvases": [canvas], "fps": 20})))
        .await?;
    next_of(&mut ws, "ack").await?;
    ws.send(send(
        json!({"type": "preview_scene", "request_id": "b", "canvas": canvas,
                        "scene": "draft"}),
    ))
    .await?;
    next_of(&mut ws, "ack").await?;

    // The console sees the pending picture where the geometry puts each pixel.
    let expected: Vec<u8> = (0..32)
        .flat_map(|i| {
            let (x, y) = serpentine_cell(i);
            colour(x as u32, y as u32)
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = next_binary(&mut ws).await?;
        ensure!(
            i64::from_be_bytes(frame[1..9].try_into()?) == canvas,
            "{frame:?}"
        );
        if frame.get(21..) == Some(&expected[..]) {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the blind preview never showed the picture: {frame:?}"
        );
    }
    // Meanwhile the wire keeps the live look, frame after frame.
    let house: Vec<u8> = [0x10, 0x20, 0x30].repeat(32);
    rx.until(Duration::from_secs(5), |p| {
        p.slots.get(..96) == Some(&house[..])
    })
    .await?;
    for _ in 0..20 {
        let p = rx.next_data(Duration::from_secs(2)).await?;
        ensure!(
            p.slots.get(..96) == Some(&house[..]),
            "the wire left the live look: {:?}",
            p.slots
        );
    }

    // Ended: the console's preview is the canvas's own again.
    ws.send(send(
        json!({"type": "preview_scene", "request_id": "e", "canvas": canvas,
                        "scene": null}),
    ))
    .await?;
    next_of(&mut ws, "ack").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = next_binary(&mut ws).await?;
        if frame.get(21..) == Some(&house[..]) {
            break;
        }
        ensure!(tokio::time::Instant::now() < deadline, "{frame:?}");
    }
    Ok(())
}

#[actix_rt::test]
async fn an_asset_thumbnail_is_the_picture_fitted_and_never_enlarged() -> Result<()> {
    let app = TestApp::spawn().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    // 640 x 480 of two halves: red on the left, blue on the right.
    let halves = png_image(
        640,
        480,
        |x, _| if x < 320 { [255, 0, 0] } else { [0, 0, 255] },
    )?;
    let asset = tus
        .upload(&halves, &tus_metadata(&[("name", "Halves")]))
        .await?;
    let small = tus
        .upload(
            &png_image(8, 4, |x, y| [(x * 30) as u8, (y * 60) as u8, 9])?,
            &tus_metadata(&[("name", "Small")]),
        )
        .await?;
    let thumbnail = |path: String| {
        let http = app.http.clone();
        let url = app.url(&path);
        let token = marketing.clone();
        async move {
            let res = http.get(url).bearer_auth(token).send().await?;
            ensure!(res.status() == 200, "{path}: {}", res.status());
            let bytes = res.bytes().await?;
            let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info()?;
            let mut rgb = vec![0; reader.output_buffer_size().unwrap_or(0)];
            let info = reader.next_frame(&mut rgb)?;
            ensure!(info.color_type == png::ColorType::Rgb, "{info:?}");
            anyhow::Ok((info.width, info.height, rgb))
        }
    };
    let (w, h, rgb) = thumbnail(format!("/api/v1/assets/{asset}/thumbnail?size=96")).await?;
    ensure!((w, h) == (96, 72), "{w} x {h}");
    ensure!(rgb[..3] == [255, 0, 0] && rgb[(96 * 71 + 95) * 3..] == [0, 0, 255]);
    // Smaller than the size asked: as it is, pixel for pixel.
    let (w, h, rgb) = thumbnail(format!("/api/v1/assets/{small}/thumbnail")).await?;
    ensure!((w, h) == (8, 4), "{w} x {h}");
    ensure!(
        rgb[(8 * 3 + 7) * 3..(8 * 3 + 8) * 3] == [210, 180, 9],
        "{rgb:?}"
    );

    for (query, status, code) in [
        (
            format!("{asset}/thumbnail?size=8"),
            422,
            "validation_failed",
        ),
        (format!("{asset}/thumbnail?version=2"), 404, "unknown_asset"),
        ("999/thumbnail".to_owned(), 404, "unknown_asset"),
    ] {
        let (got, body) = app
            .call(
                "GET",
                &format!("/api/v1/assets/{query}"),
                Some(&marketing),
                None,
            )
            .await?;
        ensure!(
            got == status && body["code"] == code,
            "{query}: {got} {body}"
        );
    }
    Ok(())
}

#[cfg(feature = "media")]
#[actix_rt::test]
async fn an_approved_video_plays_in_real_time_at_the_canvas_rate_and_loops() -> Result<()> {
    use limelight_tests::Receiver;
    use serde_json::json;
    use std::time::Instant;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mk", "marketing").await?;
    let tus = Tus::new(app.server.addr(), &marketing);
    let mut rx = Receiver::bind().await?;
    let canvas = matrix_canvas(&app, &admin, "Video wall", [8, 4], false, &rx).await?;

    // The upload is read through: a video, with its size, rate and length.
    let asset = tus
        .upload(
            // Black and white frame by frame.
            &limelight_tests::test_video("blink", 1, [16, 8], 10)?,
            &tus_metadata(&[("name", "Blink")]),
        )
        .await?;
    let (status, body) = app
        .call(
            "GET",
            &format!("/api/v1/assets/{asset}"),
            Some(&marketing),
            None,
        )
        .await?;
    let v = &body["versions"][0];
    ensure!(
        status == 200
            && v["kind"] == "video"
            && v["media_type"] == "video/ogg"
            && v["width"] == 16
            && v["height"] == 8
            && v["fps"] == 10.0
            && v["duration_ms"] == 1000,
        "{status} {body}"
    );
    // A video is not an image, nor the other way round.
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/scenes",
            Some(&marketing),
            Some(json!({"name": "wrong", "layers": [{"effect": "image", "asset": asset}]})),
        )
        .await?;
    ensure!(status == 201, "{status} {body}");
    app.created(
        "/api/v1/scenes",
        &marketing,
        json!({"name": "blink", "layers": [{"effect": "video", "asset": asset, "fit": "stretch"}]}),
    )
    .await?;
    let (status, body) = app.trigger(&admin, canvas, "blink").await?;
    ensure!(
        status == 409 && body["code"] == "not_approved",
        "{status} {body}"
    );
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/approve"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let (status, body) = app.trigger(&admin, canvas, "wrong").await?;
    ensure!(
        status == 422
            && body["message"]
                .as_str()
                .is_some_and(|m| m.contains("is a video")),
        "{status} {body}"
    );
    let (status, body) = app.trigger(&admin, canvas, "blink").await?;
    ensure!(status == 200, "{status} {body}");

    // Black and white by turns, a tenth of a second each as the video's own
    // rate says, round and round (ten frames a lap); every packet at the
    // canvas's rate.
    let lit =
        |p: &limelight_tests::DataPacket| p.slots.get(..96).map(|s| s.iter().all(|&v| v > 200));
    let dark =
        |p: &limelight_tests::DataPacket| p.slots.get(..96).map(|s| s.iter().all(|&v| v < 50));
    rx.until(Duration::from_secs(10), |p| lit(p) == Some(true))
        .await?;
    let start = Instant::now();
    let (mut packets, mut turns, mut last, mut shown) = (0u32, Vec::new(), start, true);
    while start.elapsed() < Duration::from_secs(3) {
        let p = rx.next_data(Duration::from_secs(1)).await?;
        packets += 1;
        let now = if shown { dark(&p) } else { lit(&p) };
        if now == Some(true) {
            turns.push(p.at.duration_since(last));
            last = p.at;
            shown = !shown;
        }
    }
    ensure!(
        (100..=130).contains(&packets),
        "{packets} packets in 3 s at 40 fps"
    );
    // Three seconds of a one-second video: it looped, in real time.
    ensure!(
        (26..=34).contains(&turns.len()),
        "{} turns: {turns:?}",
        turns.len()
    );
    // The first turn is measured from when the test started watching; a frame
    // at the loop may be held a frame of the canvas's longer.
    for turn in &turns[1..] {
        ensure!(
            (Duration::from_millis(50)..=Duration::from_millis(160)).contains(turn),
            "a tenth-of-a-second frame lasted {turn:?}: {turns:?}"
        );
    }
    Ok(())
}
