export { buildApp, type AppOptions } from './app.js';
export { openStore, type Store } from './db/store.js';
export { bootstrap } from './services/bootstrap.js';
