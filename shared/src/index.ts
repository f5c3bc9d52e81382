// The agent's part (wire protocol, facts, enrolment, errors, CLI), then the REST API and the rules.
export * from './agent.js';
export * from './api/list.js';
export * from './api/hosts.js';
export * from './api/tokens.js';
export * from './api/session.js';
export * from './api/overview.js';
export * from './api/alerts.js';
export * from './api/policy.js';
export * from './rules.js';
export * from './api/notifications.js';
export * from './api/audit-log.js';
export * from './api/software.js';
export * from './api/audits.js';
