export { createAgent, type Agent, type AgentDeps } from './agent.js';
export { Outbox } from './outbox/outbox.js';
export { CollectorLink } from './transport/collector-link.js';
export { collectHostFacts } from './probes/host-facts.js';
export { collectFacts, type Facts } from './probes/collect-facts.js';
