// The page's peer store in IndexedDB: one text document per store name, written by the node
// (meshwork-core decides what goes in and checks what comes out; this only keeps the bytes).

const DB_NAME = 'meshwork'
const OBJECT_STORE = 'peer-store'
/** Longest store name accepted. */
export const MAX_STORE_NAME_CHARS = 64

function request (req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

function openDb () {
  const req = indexedDB.open(DB_NAME, 1)
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(OBJECT_STORE)) req.result.createObjectStore(OBJECT_STORE)
  }
  return new Promise((resolve, reject) => {
    req.onsuccess = () => {
      const db = req.result
      // Another tab opening a newer version must not wait on this one.
      db.onversionchange = () => db.close()
      resolve(db)
    }
    req.onerror = () => reject(req.error)
    // An older connection holds the database: give up on persistence rather than wait.
    req.onblocked = () => reject(new Error('the database is held open by another tab'))
  })
}

/** Put `value` under `key`; resolves once the transaction has committed (a quota failure
 * aborts it, and rejects here). */
function put (db, key, value) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(OBJECT_STORE, 'readwrite')
    tx.objectStore(OBJECT_STORE).put(value, key)
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'))
    tx.onerror = () => reject(tx.error)
  })
}

/** The stored document under `name` (null if none), and a `save` for new ones. Storage that
 * cannot be opened (private mode, quota) costs the persistence only: a warning, then nothing
 * stored and saves dropped. */
export async function openPeerStore (name) {
  let db
  try {
    db = await openDb()
  } catch (e) {
    console.warn(`meshwork: IndexedDB unavailable, peers will not persist: ${e}`)
    return { stored: null, save: async () => {} }
  }
  let stored = null
  try {
    stored = (await request(db.transaction(OBJECT_STORE, 'readonly').objectStore(OBJECT_STORE).get(name))) ?? null
  } catch (e) {
    console.warn(`meshwork: reading the peer store failed: ${e}`)
  }
  return { stored, save: (text) => put(db, name, text) }
}
