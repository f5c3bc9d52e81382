// Type-only: the API's shapes from @vigil/shared, erased from the browser code.
export type {
  Alert,
  AlertFeedFrame,
  CatalogueTitleInput,
  CurrentPolicy,
  Host,
  HostListItem,
  Overview,
  PolicyProblem,
  PutPolicyResponse,
  SessionInfo,
  SoftwareHosts,
  SoftwareList,
  SoftwareTitleRow,
  SoftwareTitleStatus,
} from '@vigil/shared';

export interface ListEnvelope<T> {
  items: T[];
  nextCursor: string | null;
}
