/**
 * What the agent needs of the shared package (`@vigil/shared/agent`): the wire protocol, the facts it
 * reports, enrolment, errors and its command line — not the REST API's schemas, which an agent
 * never parses and which cost it ~7 MB of memory to load (the agent at rest is measured in bench/).
 */
export * from './errors.js';
export * from './limits.js';
export * from './protocol-version.js';
export * from './ids.js';
export * from './text.js';
export * from './zod-issues.js';
export * from './host-facts.js';
export * from './facts.js';
export * from './wire/agent-messages.js';
export * from './wire/collector-messages.js';
export * from './wire/envelope.js';
export * from './wire/decode.js';
export * from './wire/close-codes.js';
export * from './cli-options.js';
export * from './api/enrol.js';
export * from './api/error-body.js';
