//! The peer store natively: one JSON file (`meshwork_core::connmgr::store` decides what is in
//! it and checks what comes back). Read once at start; rewritten whenever the node sends a new
//! document, through a synced temporary file and a rename, so a crash never leaves half a
//! document.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use futures::StreamExt;
use meshwork_core::{connmgr::store::MAX_DOCUMENT_BYTES, event_loop::PeerStoreReceiver};

/// The stored document, or `None` if there is none yet. An unreadable file is reported and
/// treated as none; a file over the size limit is read only far enough for the core to refuse it.
pub fn load(path: &Path) -> Option<Vec<u8>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot read the peer store: {e}");
            return None;
        }
    };
    let mut bytes = Vec::new();
    match file
        .take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
    {
        Ok(_) => Some(bytes),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot read the peer store: {e}");
            None
        }
    }
}

/// Write every document the node sends to `path` until the node stops. A failed write is
/// reported; the next document tries again.
pub async fn keep(path: PathBuf, mut documents: PeerStoreReceiver) {
    let temporary = path.with_extension("json.tmp");
    while let Some(document) = documents.next().await {
        if let Err(e) = replace(&temporary, &path, document.as_bytes()).await {
            tracing::warn!(path = %path.display(), "cannot save the peer store: {e}");
        }
    }
}

/// Write `bytes` to `temporary`, flush them to the disk, then rename over `path`: a crash or a
/// power loss leaves the old document or the new one, never half of one.
async fn replace(temporary: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(temporary).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(temporary, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_the_newest_document_and_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("mw-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("peers.json");
        assert_eq!(load(&path), None);
        let (mut tx, rx) = futures::channel::mpsc::channel(1);
        let writer = tokio::spawn(keep(path.clone(), rx));
        use futures::SinkExt;
        tx.send("one".to_owned()).await.unwrap();
        tx.send("two".to_owned()).await.unwrap();
        drop(tx);
        writer.await.unwrap();
        assert_eq!(load(&path), Some(b"two".to_vec()));
        std::fs::write(&path, vec![b'x'; MAX_DOCUMENT_BYTES + 10]).unwrap();
        assert_eq!(load(&path).map(|b| b.len()), Some(MAX_DOCUMENT_BYTES + 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
