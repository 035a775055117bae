//! A raw tus 1.0 client, written from the protocol (so the tests see every header),
//! and images made to order.

use anyhow::{Context, Result, anyhow, ensure};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;

/// An answer: status and the headers tests look at.
#[derive(Debug, Clone)]
pub struct TusAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: reqwest::header::HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl TusAnswer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// `Upload-Offset` as a number.
    pub fn offset(&self) -> Result<u64> {
        self.header("upload-offset")
            .context("no Upload-Offset")?
            .parse()
            .context("Upload-Offset is not a number")
    }

    /// The body's error code.
    pub fn code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A tus client for one server and user.
#[derive(Debug, Clone)]
pub struct Tus {
    addr: SocketAddr,
    base: String,
    token: String,
    http: reqwest::Client,
}

/// `Upload-Metadata` from pairs.
pub fn tus_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {}",
                base64::engine::general_purpose::STANDARD.encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Tus {
    /// A client of the server `client` talks to, with `token`.
    pub fn of(client: &crate::Client, token: &str) -> Result<Self> {
        let addr = client
            .base
            .trim_start_matches("http://")
            .parse()
            .context("the client's address")?;
        Ok(Self::new(addr, token))
    }

    /// A client of the server at `addr` with `token`.
    pub fn new(addr: SocketAddr, token: &str) -> Self {
        Self {
            addr,
            base: format!("http://{addr}"),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<TusAnswer> {
        let res = req.send().await?;
        Ok(TusAnswer {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await?,
        })
    }

    fn request(&self, method: &str, path: &str) -> Result<reqwest::RequestBuilder> {
        Ok(self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes())?,
                format!("{}{path}", self.base),
            )
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0"))
    }

    /// `OPTIONS /api/v1/uploads`.
    pub async fn options(&self) -> Result<TusAnswer> {
        self.send(self.http.request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/uploads", self.base),
        ))
        .await
    }

    /// Create an upload of `length` bytes; the answer.
    pub async fn create(&self, length: u64, metadata: &str) -> Result<TusAnswer> {
        let mut req = self
            .request("POST", "/api/v1/uploads")?
            .header("Upload-Length", length.to_string());
        if !metadata.is_empty() {
            req = req.header("Upload-Metadata", metadata);
        }
        self.send(req).await
    }

    /// Create an upload of `bytes` and return its path (from `Location`).
    pub async fn created(&self, length: u64, metadata: &str) -> Result<String> {
        let answer = self.create(length, metadata).await?;
        ensure!(
            answer.status == 201,
            "create: {} {}",
            answer.status,
            answer.body
        );
        answer
            .header("location")
            .ok_or_else(|| anyhow!("no Location"))
    }

    /// `PATCH` `bytes` at `offset`, with extra headers (a `Content-Type` among them
    /// replaces tus's own).
    pub async fn patch_with(
        &self,
        path: &str,
        offset: u64,
        bytes: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<TusAnswer> {
        let mut req = self
            .request("PATCH", path)?
            .header("Upload-Offset", offset.to_string())
            .body(bytes.to_vec());
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            req = req.header("Content-Type", "application/offset+octet-stream");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// `PATCH` `bytes` at `offset`.
    pub async fn patch(&self, path: &str, offset: u64, bytes: &[u8]) -> Result<TusAnswer> {
        self.patch_with(path, offset, bytes, &[]).await
    }

    /// Upload `bytes` whole in one chunk; the asset it became.
    pub async fn upload(&self, bytes: &[u8], metadata: &str) -> Result<i64> {
        let path = self.created(bytes.len() as u64, metadata).await?;
        let done = self.patch(&path, 0, bytes).await?;
        ensure!(done.status == 204, "upload: {} {}", done.status, done.body);
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let upload: serde_json::Value = res.json().await?;
        upload["asset"]
            .as_i64()
            .ok_or_else(|| anyhow!("the upload became no asset: {upload}"))
    }

    /// `HEAD` an upload.
    pub async fn head(&self, path: &str) -> Result<TusAnswer> {
        self.send(self.request("HEAD", path)?).await
    }

    /// `DELETE` an upload.
    pub async fn delete(&self, path: &str) -> Result<TusAnswer> {
        self.send(self.request("DELETE", path)?).await
    }

    /// A `PATCH` that says it carries `declared` bytes from `offset` but sends only
    /// `bytes`, then drops the connection: a connection cut mid-file. TCP delivers
    /// the bytes before the close, so nothing needs waiting for.
    pub async fn cut_patch(
        &self,
        path: &str,
        offset: u64,
        bytes: &[u8],
        declared: usize,
    ) -> Result<()> {
        drop(self.partial_patch(path, offset, bytes, declared).await?);
        Ok(())
    }

    /// The start of a `PATCH` that says it carries `declared` bytes from `offset`,
    /// with only `bytes` sent: the connection stays open, mid-chunk, until the
    /// stream returned is dropped.
    pub async fn partial_patch(
        &self,
        path: &str,
        offset: u64,
        bytes: &[u8],
        declared: usize,
    ) -> Result<tokio::net::TcpStream> {
        let mut tcp = tokio::net::TcpStream::connect(self.addr).await?;
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n\
             Content-Type: application/offset+octet-stream\r\nContent-Length: {declared}\r\n\r\n",
            self.addr, self.token
        );
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(bytes).await?;
        tcp.flush().await?;
        Ok(tcp)
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A PNG of `width` x `height` RGB pixels, each `pixel(x, y)`.
pub fn png_image(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| pixel(x, y))
            .collect();
        writer.write_image_data(&data)?;
    }
    Ok(out)
}

/// A PNG's first bytes claiming `width` x `height` pixels (and nothing after).
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b.resize(64, 0);
    b
}
