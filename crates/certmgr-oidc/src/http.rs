//! The HTTP client openidconnect uses, on the workspace's reqwest, so that the
//! workspace keeps one reqwest version (openidconnect's own client is on an
//! older one).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};

/// The largest response body accepted from the provider. Discovery documents,
/// key sets, token and userinfo responses are a few kilobytes; a provider that
/// sends more is refused instead of being buffered without limit.
const MAX_BODY: usize = 1024 * 1024;

/// A request to the provider that failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpClientError {
    /// Connecting, sending or receiving failed.
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    /// The response could not be turned into an `http::Response`.
    #[error("invalid HTTP response: {0}")]
    Http(#[from] http::Error),
    /// The response body is over [`MAX_BODY`].
    #[error("the response body is over {MAX_BODY} bytes")]
    TooLarge,
}

/// reqwest behind openidconnect's [`AsyncHttpClient`] trait. Redirects are not
/// followed: the OpenID Connect endpoints answer directly, and following a
/// redirect could send the client's credentials elsewhere.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// A client with a whole-request timeout.
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        Ok(Self { inner })
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpClientError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let mut response = self.inner.execute(request).await?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HttpClientError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(builder.body(body)?)
        })
    }
}
