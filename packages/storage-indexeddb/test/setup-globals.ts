// The adapter opens databases through idb, which uses the global IndexedDB (as in a browser):
// fake-indexeddb installs its implementation as the globals of this Node process.
import 'fake-indexeddb/auto';
