export * from './policy-document.js';
export * from './software-catalogue.js';
