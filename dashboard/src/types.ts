// Type-only: the API's shapes from @vigil/shared, erased from the browser code.
export type { Alert, AlertFeedFrame, CurrentPolicy, Host, HostListItem, Overview, PolicyProblem, PutPolicyResponse, SessionInfo } from '@vigil/shared';

export interface ListEnvelope<T> {
  items: T[];
  nextCursor: string | null;
}
