//! The page's end of the persisted peer store: the npm layer reads the stored document from
//! IndexedDB before the node starts and hands it over with a `save` function; documents the
//! node sends are passed to `save` one at a time (it returns a Promise).

use futures::StreamExt;
use js_sys::{Function, Promise, Reflect};
use meshwork_core::{event_loop::PeerStoreReceiver, CoreError, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `{ stored, save }` as the npm layer passes it: the stored document (a string, or
/// null/undefined when nothing is stored) and where new documents go.
pub struct PageStore {
    /// The stored document's bytes, if any.
    pub stored: Option<Vec<u8>>,
    save: Function,
}

/// Read the `peerStore` argument: `undefined`/`null` for none.
pub fn read(value: JsValue) -> Result<Option<PageStore>, CoreError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let invalid = |m: &str| CoreError::new(ErrorCode::InvalidOptions, format!("peerStore: {m}"));
    let field =
        |name: &str| Reflect::get(&value, &JsValue::from_str(name)).map_err(|_| invalid(name));
    let save: Function = field("save")?
        .dyn_into()
        .map_err(|_| invalid("save must be a function"))?;
    let stored = field("stored")?;
    let stored = if stored.is_undefined() || stored.is_null() {
        None
    } else {
        // Anything but text is somebody else's data: handed to the core as is, which discards it.
        Some(
            stored
                .as_string()
                .unwrap_or_else(|| "<not text>".to_owned())
                .into_bytes(),
        )
    };
    Ok(Some(PageStore { stored, save }))
}

/// Pass each document to `save`, waiting for its Promise; a failing save is logged, not fatal.
pub async fn pump(store: PageStore, mut documents: PeerStoreReceiver) {
    while let Some(document) = documents.next().await {
        let result = store
            .save
            .call1(&JsValue::NULL, &JsValue::from_str(&document));
        let outcome = match result {
            Ok(value) => match value.dyn_into::<Promise>() {
                Ok(promise) => JsFuture::from(promise).await.map(|_| ()),
                Err(_) => Ok(()),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            web_sys::console::warn_2(&"meshwork: saving the peer store failed:".into(), &e);
        }
    }
}
